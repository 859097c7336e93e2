"""The data-subject access export from the customer card (GDPR art. 15/20; issue 11 item 5).

Who may: a member whose role may see the whole card (registry.view and finance.view)
and the audit log (audit.view), since the export holds all three: admins and
bookkeepers. Office staff and employees get 403; another company's customer is a 404.
An anonymized customer is exported too: the document shows what is left.
"""

from __future__ import annotations

import re

from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404
from django.utils.cache import patch_cache_control
from django.views.decorators.http import require_GET

from audit.actors import Actor
from customers.models import Customer
from tenancy.decorators import tenant_perm_required

from .subject_access import EXPORT_PERMS, FORMATS, subject_access_export


def may_export(view):
    for perm in reversed(EXPORT_PERMS):
        view = tenant_perm_required(perm)(view)
    return view


@may_export
@require_GET
def customer_personal_data(request, pk: int, fmt: str):
    """Everything held about the customer, as a JSON or PDF download (audited)."""
    if fmt not in FORMATS:
        raise Http404
    customer = get_object_or_404(Customer.objects.all(), pk=pk)
    export = subject_access_export(
        customer=customer,
        actor=Actor.user(request.user),
        fmt=fmt,
        channel="browser",
        finance=True,
    )
    response = HttpResponse(export.content, content_type=export.content_type)
    filename = re.sub(r"[^A-Za-z0-9._-]", "_", export.filename)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    patch_cache_control(response, no_store=True, private=True)
    return response
