from django.apps import AppConfig


class ReportsConfig(AppConfig):
    name = "reports"

    def ready(self) -> None:
        # The lower apps' export buttons (customer list, consent batches) end in reports'
        # one export path; they may not import reports, so it installs itself there.
        from customers.exports import install_exporter

        from .views_exports import export_response

        install_exporter(export_response)
