"""Notes and tasks on a customer (seed 001: the card's activity feed).

A task is planned until it is completed; a note is a record of something that
happened and so always belongs to the completed side of the feed.
"""

from __future__ import annotations

from datetime import date

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.actors import Actor
from audit.services import audit_record

from ..models import Activity, ActivityKind, Contact, Customer, CustomerContact
from .guards import require_editable, signed_in
from .history import changes_record

SUBJECT_MAX = 200


def _require_editable(customer: Customer) -> None:
    require_editable(customer)


def _require_task(activity: Activity) -> None:
    if activity.kind != ActivityKind.TASK:
        raise ValidationError({"kind": _("Only tasks can be completed or reopened.")})


@transaction.atomic
def activity_add(
    *,
    customer: Customer,
    kind: str,
    subject: str,
    actor: Actor,
    user=None,
    body: str = "",
    contact: Contact | None = None,
    due_date: date | None = None,
) -> Activity:
    """Add a note or a task, optionally about one of the customer's contacts."""
    _require_editable(customer)
    errors: dict[str, str] = {}
    if kind not in ActivityKind.values:
        errors["kind"] = _("Choose a note or a task.")
    subject = (subject or "").strip()
    if not subject:
        errors["subject"] = _("Give it a subject.")
    elif len(subject) > SUBJECT_MAX:
        errors["subject"] = _("At most %(max)d characters.") % {"max": SUBJECT_MAX}
    if contact is not None and (
        contact.is_deleted
        or not CustomerContact.objects.filter(customer=customer, contact=contact).exists()
    ):
        errors["contact"] = _("Choose one of this customer's contacts.")
    if due_date is not None and kind == ActivityKind.NOTE:
        errors["due_date"] = _("Only a task has a due date.")
    if due_date is not None and not isinstance(due_date, date):
        errors["due_date"] = _("Enter a valid date.")
    if errors:
        raise ValidationError(errors)
    activity = Activity(
        customer=customer,
        kind=kind,
        subject=subject,
        body=(body or "").strip(),
        contact=contact,
        due_date=due_date,
    )
    activity.created_by = activity.updated_by = signed_in(user)
    activity.full_clean(exclude=["tenant", "customer", "contact"])
    activity.save()
    changes_record(
        customer=customer,
        obj=activity,
        before={},
        after={activity.kind: activity.subject},
        user=user,
    )
    audit_record(
        action=f"activity.{kind}_added",
        actor=actor,
        object_type="activity",
        object_id=activity.pk,
        data={"customer": customer.pk, "kind": kind, "contact": contact.pk if contact else None},
    )
    return activity


def _set_done(*, activity: Activity, done: bool, actor: Actor, user) -> Activity:
    _require_editable(activity.customer)
    _require_task(activity)
    if (activity.done_at is not None) == done:
        return activity  # already so: completing twice changes nothing
    before = {"done": activity.done_at}
    activity.done_at = timezone.now() if done else None
    activity.updated_by = signed_in(user)
    activity.save(update_fields=["done_at", "updated_by", "updated_at"])
    changes_record(
        customer=activity.customer,
        obj=activity,
        before=before,
        after={"done": activity.done_at},
        user=user,
    )
    audit_record(
        action="activity.completed" if done else "activity.reopened",
        actor=actor,
        object_type="activity",
        object_id=activity.pk,
        data={"customer": activity.customer_id},
    )
    return activity


@transaction.atomic
def activity_complete(*, activity: Activity, actor: Actor, user=None) -> Activity:
    return _set_done(activity=activity, done=True, actor=actor, user=user)


@transaction.atomic
def activity_reopen(*, activity: Activity, actor: Actor, user=None) -> Activity:
    return _set_done(activity=activity, done=False, actor=actor, user=user)


@transaction.atomic
def activity_delete(*, activity: Activity, actor: Actor, user=None) -> None:
    customer, pk, kind, subject = (
        activity.customer,
        activity.pk,
        activity.kind,
        activity.subject,
    )
    _require_editable(customer)
    activity.delete()
    changes_record(
        customer=customer, obj=customer, before={kind: subject}, after={kind: ""}, user=user
    )
    audit_record(
        action="activity.deleted",
        actor=actor,
        object_type="activity",
        object_id=pk,
        data={"customer": customer.pk, "kind": kind},
    )
