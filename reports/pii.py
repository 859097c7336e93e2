"""Classification of reports' tables (anonymization/registry.py).

An export job's *file* holds personal data (the rows exported); its storage name is
random and not personal. The file is not tied to one data subject, so erasure does not
reach it: it lives at most REPORTS_EXPORT_TTL and the sweep deletes it
(reports/jobs.py). The job's criteria may hold a search text (a name): they are emptied
when the job ends, and blanked by erasure like any personal field. The dashboard's
snapshot holds counts only.
"""

from anonymization.registry import NOT_PERSONAL as ND
from anonymization.registry import Scrub, personal, pii

from .models import DashboardSnapshot, ExportJob, ReportSettings

pii.register(ReportSettings, id=ND, tenant=ND, label_layout=ND, updated_at=ND)
pii.register(
    ExportJob,
    id=ND,
    tenant=ND,
    source=ND,
    report=ND,
    format=ND,
    criteria=personal(Scrub.REPLACE, {}, "a search text may be a name; emptied when it ends"),
    language=ND,
    created_by=ND,
    status=ND,
    total=ND,
    rows_written=ND,
    attempts=ND,
    file=ND,  # the random storage name; the file behind it is deleted when it expires
    download_name=ND,
    created_at=ND,
    started_at=ND,
    worked_at=ND,
    finished_at=ND,
    expires_at=ND,
    error=ND,
)
# Counts per consent status and activity bucket; no customer in it.
pii.register(
    DashboardSnapshot, id=ND, tenant=ND, computed_at=ND, day=ND, figures=ND, refresh_asked_at=ND
)
