from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TenancyConfig(AppConfig):
    name = "tenancy"
    verbose_name = _("Tenancy")

    def ready(self) -> None:
        from . import checks, schema  # noqa: F401  (system checks, OpenAPI extensions)
        from .context import install

        install()
