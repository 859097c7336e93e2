"""Thin Celery wrappers: one delivery attempt, and the sweep that finds due ones."""

from __future__ import annotations

from celery import shared_task

from tenancy.context import each_tenant
from tenancy.models import Tenant
from tenancy.tasks import tenant_task

from .delivery import deliveries_sweep, delivery_attempt


@tenant_task(name="webhooks.deliver")
def deliver(delivery_id: int) -> bool | None:
    outcome = delivery_attempt(delivery_id=delivery_id)
    return None if outcome is None else outcome.ok


@shared_task(name="webhooks.sweep")
def sweep() -> int:
    """Beat: (re)send deliveries that are due and have no task on its way."""
    return sum(deliveries_sweep() for _t in each_tenant(Tenant.objects.filter(is_active=True)))
