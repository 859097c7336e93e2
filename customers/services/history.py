"""Field-level change history shown on the customer card."""

from __future__ import annotations

from django.db import models

from ..models import ChangeRecord, Customer


def _display(value) -> str:
    if value is None:
        return ""
    if isinstance(value, models.Model):
        return str(value)
    if isinstance(value, list | tuple | set):
        return ", ".join(sorted(str(v) for v in value))
    return str(value)


def snapshot(obj: models.Model, fields) -> dict:
    return {name: getattr(obj, name) for name in fields}


def changes_record(
    *, customer: Customer, obj: models.Model, before: dict, after: dict, user
) -> list[str]:
    """Store one ChangeRecord per field whose value differs; return the changed field names."""
    changed = [name for name in after if before.get(name) != after[name]]
    ChangeRecord.objects.bulk_create(
        ChangeRecord(
            tenant_id=customer.tenant_id,
            customer=customer,
            object_type=obj._meta.model_name,
            object_id=obj.pk,
            field=name,
            old_value=_display(before.get(name)),
            new_value=_display(after[name]),
            changed_by=user if user is not None and user.is_authenticated else None,
        )
        for name in changed
    )
    return changed
