"""Notes and tasks, files and links on a customer, and the change history."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from tenancy.models import TenantOwnedModel

from .common import Tracked, user_link
from .contact import Contact
from .customer import Customer


class ActivityKind(models.TextChoices):
    NOTE = "note", _("Note")
    TASK = "task", _("Task")


class Activity(TenantOwnedModel, Tracked):
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="activities")
    contact = models.ForeignKey(
        Contact, on_delete=models.SET_NULL, null=True, blank=True, related_name="activities"
    )
    kind = models.CharField(_("kind"), max_length=10, choices=ActivityKind.choices)
    subject = models.CharField(_("subject"), max_length=200)
    body = models.TextField(_("text"), blank=True)
    due_date = models.DateField(_("due date"), null=True, blank=True)
    done_at = models.DateTimeField(_("done"), null=True, blank=True)

    class Meta:
        verbose_name = _("activity")
        verbose_name_plural = _("activities")
        ordering = ["done_at", "due_date", "-created_at"]

    def __str__(self) -> str:
        return self.subject

    @property
    def is_planned(self) -> bool:
        return self.kind == ActivityKind.TASK and self.done_at is None


def attachment_path(instance: Attachment, filename: str) -> str:
    return f"tenants/{instance.tenant_id}/customers/{instance.customer_id}/{filename}"


class Attachment(TenantOwnedModel, Tracked):
    """A file or a link on a customer."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="attachments")
    name = models.CharField(_("name"), max_length=200)
    file = models.FileField(_("file"), upload_to=attachment_path, blank=True)
    url = models.URLField(_("link"), blank=True)
    size = models.PositiveBigIntegerField(_("size"), default=0)
    content_type = models.CharField(_("type"), max_length=100, blank=True)

    class Meta:
        verbose_name = _("file or link")
        verbose_name_plural = _("files and links")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.name


class ChangeRecord(TenantOwnedModel):
    """Who changed which field of a customer (or its parts) from what to what.

    Values are personal data: anonymization scrubs them (see customers/pii.py).
    """

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="changes")
    object_type = models.CharField(_("object"), max_length=40)
    object_id = models.PositiveBigIntegerField(_("object id"))
    field = models.CharField(_("field"), max_length=60)
    old_value = models.TextField(_("old value"), blank=True)
    new_value = models.TextField(_("new value"), blank=True)
    changed_at = models.DateTimeField(_("changed at"), auto_now_add=True, db_index=True)
    changed_by = user_link(_("changed by"))

    class Meta:
        verbose_name = _("change")
        verbose_name_plural = _("changes")
        ordering = ["-changed_at", "-pk"]
        indexes = [
            # Anonymization scrubs the rows about erased objects (a contact, an address) in
            # anyone's history: by type and id, in the tenant (row security's column first).
            models.Index(
                fields=["tenant", "object_type", "object_id"], name="changerecord_object_idx"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.object_type}.{self.field}"
