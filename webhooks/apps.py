from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WebhooksConfig(AppConfig):
    name = "webhooks"
    verbose_name = _("Webhooks")

    def ready(self) -> None:
        # The audit log is the floor and knows no app above it: it announces each entry
        # (audit.services.audit_recorded) and this app turns the ones that matter to
        # integrators into events, inside the same transaction.
        from audit.services import audit_recorded

        from .events import record_from_audit

        audit_recorded.connect(record_from_audit, dispatch_uid="webhooks.events")
