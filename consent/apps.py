from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ConsentConfig(AppConfig):
    name = "consent"
    verbose_name = _("Consent")

    def ready(self) -> None:
        from customers import hooks

        from .selectors import consent_status_for_registry

        hooks.set_consent_status_provider(consent_status_for_registry)

        from .models import ConsentStatus

        hooks.set_consent_status_label(lambda status: str(ConsentStatus(status).label))

        from notifications.signals import message_status_changed, sms_received

        from .delivery import on_message_status_changed, on_sms_received

        message_status_changed.connect(on_message_status_changed, dispatch_uid="consent.delivery")
        sms_received.connect(on_sms_received, dispatch_uid="consent.sms_reply")

        from . import tokens

        tokens.register()  # consent links are built as their message is sent

        from .views_card import consent_card_panel

        hooks.register_card_panel(consent_card_panel)

        from .models import ConsentStatus as _Status
        from .selectors import customers_by_consent_status

        hooks.set_consent_status_filter(customers_by_consent_status, _Status.choices)
