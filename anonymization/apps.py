from django.apps import AppConfig
from django.utils.module_loading import autodiscover_modules
from django.utils.translation import gettext_lazy as _


class AnonymizationConfig(AppConfig):
    name = "anonymization"
    verbose_name = _("Anonymization")

    def ready(self) -> None:
        # Each app's pii.py registers its models, as admin.py does with the admin site.
        autodiscover_modules("pii")

        from .engine import erase_object
        from .registry import pii

        pii.install_eraser(erase_object)  # contact deletion (customers) reaches it here

        from customers import hooks

        from .views import anonymize_card_panel, legal_hold_card_panel

        hooks.register_card_panel(legal_hold_card_panel)
        hooks.register_card_panel(anonymize_card_panel)
