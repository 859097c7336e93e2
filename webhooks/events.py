"""Which audit entries become events, and with what data (ids and codes only).

``record_from_audit`` receives ``audit.services.audit_recorded`` inside the audited
change's transaction: an event exists exactly when the change committed, and each
subscribed endpoint gets a delivery in the same transaction (its task is sent after
commit, tenancy.tasks.AfterCommitTask).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from django.apps import apps

from .models import EventType

# (type, object_type, object_id, data)
Spec = tuple[str, str, str, dict]


def _consent_decision(entry) -> Iterator[Spec]:
    decision = entry.action.removeprefix("consent.")
    data = entry.data or {}
    yield (
        f"consent.{decision}",
        "customer",
        str(data.get("customer_id", "")),
        {
            "customer_id": data.get("customer_id"),
            "decision_id": _int(entry.object_id),
            "method": data.get("method"),
            "terms_version": data.get("terms_version"),
            "request_id": data.get("request_id"),
        },
    )


def _consent_lapsed(entry) -> Iterator[Spec]:
    customer_id = (entry.data or {}).get("customer_id")
    yield (
        EventType.CONSENT_EXPIRED,
        "customer",
        str(customer_id),
        {"customer_id": customer_id, "reason": "lapsed"},
    )


def _consent_request_expired(entry) -> Iterator[Spec]:
    # The entry names the request only; its customer is one lookup away.
    request_model = apps.get_model("consent", "ConsentRequest")
    customer_id = (
        request_model.objects.filter(pk=_int(entry.object_id))
        .values_list("customer_id", flat=True)
        .first()
    )
    yield (
        EventType.CONSENT_EXPIRED,
        "customer",
        str(customer_id),
        {
            "customer_id": customer_id,
            "reason": "request_expired",
            "request_id": _int(entry.object_id),
        },
    )


def _customer(event_type: str) -> Callable:
    def specs(entry) -> Iterator[Spec]:
        data = {"customer_id": _int(entry.object_id)}
        fields = (entry.data or {}).get("fields")
        if fields:  # field names, never values
            data["fields"] = list(fields)
        yield event_type, "customer", entry.object_id, data

    return specs


def _anonymized(entry) -> Iterator[Spec]:
    run_id = _int(entry.object_id) if entry.object_type == "anonymization.run" else None
    for customer_id in (entry.data or {}).get("anonymized", []):
        yield (
            EventType.CUSTOMER_ANONYMIZED,
            "customer",
            str(customer_id),
            {"customer_id": customer_id, "run_id": run_id},
        )


def _run_finished(entry) -> Iterator[Spec]:
    data = entry.data or {}
    yield (
        EventType.RUN_FINISHED,
        "anonymization_run",
        entry.object_id,
        {
            "run_id": _int(entry.object_id),
            "total": data.get("total"),
            "anonymized": data.get("anonymized"),
            "skipped": data.get("skipped"),
        },
    )


# audit action -> the events it means. The audit log is where every service already
# says what happened, so no service needs to know about events.
MAPPING: dict[str, Callable] = {
    "consent.granted": _consent_decision,
    "consent.declined": _consent_decision,
    "consent.withdrawn": _consent_decision,
    "consent.lapsed": _consent_lapsed,
    "consent.request_expired": _consent_request_expired,
    "customer.created": _customer(EventType.CUSTOMER_CREATED),
    "customer.updated": _customer(EventType.CUSTOMER_UPDATED),
    "customer.registry_updated": _customer(EventType.CUSTOMER_UPDATED),
    "anonymization.chunk": _anonymized,
    "anonymization.run_finished": _run_finished,
}


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def record_from_audit(sender, *, event, **kwargs) -> None:
    """Signal receiver: the events an audit entry means, and their deliveries."""
    specs = MAPPING.get(event.action)
    if specs is None:
        return
    from .services import events_record

    events_record(list(specs(event)))
