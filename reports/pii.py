"""Classification of reports' tables (anonymization/registry.py): settings only, no
personal data."""

from anonymization.registry import NOT_PERSONAL as ND
from anonymization.registry import pii

from .models import ReportSettings

pii.register(ReportSettings, id=ND, tenant=ND, label_layout=ND, updated_at=ND)
