from django.core.paginator import Paginator
from django.http import QueryDict
from django.shortcuts import render
from django.utils.cache import patch_vary_headers

from tenancy.decorators import tenant_perm_required
from tenancy.roles import Perm

from .describe import describe
from .forms import AuditFilterForm
from .models import AuditEvent
from .selectors import audit_events

PAGE_SIZE = 50


def _query(data: QueryDict) -> str:
    """The page's filters as a query string (for the pager and the export link)."""
    kept = data.copy()
    kept.pop("page", None)
    return kept.urlencode()


@tenant_perm_required(Perm.AUDIT_VIEW)
def audit_event_browse(request):
    form = AuditFilterForm(request.GET or None, tenant=request.tenant)
    if form.is_bound and not form.is_valid():
        events = AuditEvent.objects.none()  # the form says what is wrong; no unfiltered log
    else:
        events = audit_events(**form.filters())
    page = Paginator(events, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "form": form,
        "page": page,
        "entries": describe(page.object_list),
        "query": _query(request.GET),
    }
    partial = request.htmx and not request.htmx.history_restore_request
    template = "audit/_rows.html" if partial else "audit/event_list.html"
    response = render(request, template, context)
    patch_vary_headers(response, ["HX-Request"])
    return response
