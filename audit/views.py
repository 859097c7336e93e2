from django.core.paginator import Paginator
from django.shortcuts import render

from tenancy.decorators import tenant_perm_required
from tenancy.roles import Perm

from .forms import AuditFilterForm
from .models import ActorType
from .selectors import audit_event_list


@tenant_perm_required(Perm.AUDIT_VIEW)
def audit_event_browse(request):
    form = AuditFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    events = audit_event_list(**{k: v for k, v in filters.items() if v})
    page = Paginator(events, 50).get_page(request.GET.get("page"))
    template = "audit/_rows.html" if request.htmx else "audit/event_list.html"
    return render(request, template, {"form": form, "page": page, "actor_types": ActorType})
