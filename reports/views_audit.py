"""The audit page's export button: the filtered entries as CSV, through the one export
path (streamed when small, else a job), audited like every export."""

from __future__ import annotations

from django.http import HttpResponseBase
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_GET

from tenancy.decorators import tenant_perm_required
from tenancy.roles import Perm

from . import export_sources
from .views_exports import export_response


@tenant_perm_required(Perm.AUDIT_VIEW)
@require_GET
def audit_log_export(request):
    result = export_response(request, source=export_sources.AUDIT, fmt="csv", criteria=request.GET)
    if isinstance(result, HttpResponseBase):
        return result
    # Filters that do not hold (an unknown customer number): back to the page, which
    # shows the same filters with the field's message.
    return redirect(f"{reverse('audit-events')}?{request.GET.urlencode()}")
