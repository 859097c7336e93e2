"""A user's own selection of customers, and saved lists of filters."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from tenancy.models import TenantOwnedModel

from .customer import Customer


class SelectionEntry(TenantOwnedModel):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+")
    added_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["added_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "user", "customer"], name="selection_entry_uniq"
            )
        ]

    def __str__(self) -> str:
        return f"{self.user_id}:{self.customer_id}"


class SavedList(TenantOwnedModel):
    """Saved filters of the customer list; own, or shared with the whole tenant."""

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    name = models.CharField(_("name"), max_length=100)
    shared = models.BooleanField(_("shared with everyone"), default=False)
    filters = models.JSONField(_("filters"), default=dict)
    # The search text, apart from the structured filters: it often names a person, so the
    # erasure scan (anonymization/scan.py) reads it as free text and redacts that name.
    search = models.CharField(_("search"), max_length=200, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "owner", "name"], name="saved_list_name_uniq")
        ]

    def __str__(self) -> str:
        return self.name

    def query(self) -> dict[str, str]:
        """The customer list's query parameters this list stands for, search included."""
        params = {key: str(value) for key, value in self.filters.items() if value}
        if self.search:
            params["q"] = self.search
        return params
