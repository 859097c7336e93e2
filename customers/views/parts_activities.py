"""The customer's activity feed: notes and tasks, added, marked done, reopened, deleted."""

from __future__ import annotations

from urllib.parse import urlsplit

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from tenancy.decorators import tenant_perm_required
from tenancy.forms import apply_service_errors
from tenancy.roles import Perm

from ..forms_parts import ActivityForm
from ..models import Activity, ActivityKind
from ..selectors import activity_feed
from ..services import activities
from .parts import base_context, customer_or_404
from .shortcuts import request_actor


def _feed(customer) -> dict:
    feed = activity_feed(customer)
    # Newest first on the completed side: done tasks by completion, notes by writing.
    feed["completed"] = sorted(
        feed["completed"], key=lambda a: a.done_at or a.created_at, reverse=True
    )
    return feed


def _render_activities(request, customer, *, forms=None, status=200):
    forms = forms or {}
    context = base_context(request, customer) | _feed(customer)
    context |= {
        "note_form": forms.get("note") or ActivityForm(customer=customer, kind=ActivityKind.NOTE),
        "task_form": forms.get("task") or ActivityForm(customer=customer, kind=ActivityKind.TASK),
        "today": timezone.localdate(),
    }
    # htmx asks from the card shell (which loads the feed) or from our own page (a swap).
    page = urlsplit(request.htmx.current_url or "").path if request.htmx else ""
    own_page = reverse("customer-activities", kwargs={"pk": customer.pk})
    context["in_card"] = bool(request.htmx) and page != own_page
    template = (
        "customers/parts/_activity_feed.html" if request.htmx else "customers/parts/activities.html"
    )
    return render(request, template, context, status=status)


def _after_activity_write(request, customer):
    if request.htmx:
        return _render_activities(request, customer)
    return redirect("customer-activities", pk=customer.pk)


@tenant_perm_required(Perm.REGISTRY_VIEW)
@require_GET
def customer_activities(request, pk):
    return _render_activities(request, customer_or_404(pk))


@tenant_perm_required(Perm.REGISTRY_EDIT)
@require_POST
def activity_add(request, pk):
    customer = customer_or_404(pk)
    kind = request.POST.get("kind")
    if kind not in ActivityKind.values:
        kind = ActivityKind.NOTE
    form = ActivityForm(request.POST, customer=customer, kind=kind)
    if form.is_valid():
        data = form.cleaned_data
        try:
            activities.activity_add(
                customer=customer,
                kind=data["kind"],
                subject=data["subject"],
                body=data["body"],
                contact=data["contact"],
                due_date=data.get("due_date"),
                actor=request_actor(request),
                user=request.user,
            )
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            if not request.htmx:
                messages.success(request, _("Saved."))
            return _after_activity_write(request, customer)
    return _render_activities(request, customer, forms={kind: form})


def _activity_action(service, done_message):
    @tenant_perm_required(Perm.REGISTRY_EDIT)
    @require_POST
    def view(request, pk, activity_pk):
        customer = customer_or_404(pk)
        activity = get_object_or_404(Activity, pk=activity_pk, customer=customer)
        try:
            service(activity=activity, actor=request_actor(request), user=request.user)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            if not request.htmx:
                messages.success(request, done_message())
        return _after_activity_write(request, customer)

    return view


activity_complete = _activity_action(activities.activity_complete, lambda: _("Marked as done."))
activity_reopen = _activity_action(activities.activity_reopen, lambda: _("Reopened."))
activity_delete = _activity_action(activities.activity_delete, lambda: _("Deleted."))
