"""Consent to many customers at once: confirm, progress, "could not reach", re-consent.

The customer list and the own selection link here with their query string; the
customers are computed again here, with customers' own form and selectors, on the
confirmation page and again when the batch starts. Ids are never taken from the browser.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_cache_control, patch_vary_headers
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_POST

from audit.actors import Actor
from customers import exports
from customers.forms_lists import FILTER_KEYS, CustomerFilterForm
from customers.selectors import customer_list, selection_of
from notifications.models import Status as MessageStatus
from notifications.selectors import notification_settings
from tenancy.decorators import tenant_perm_required
from tenancy.forms import apply_service_errors
from tenancy.roles import Perm

from . import batches, selectors
from .models import BatchSource, BatchStatus

PAGE_SIZE = 50
PRINT_LIMIT = 5_000
POLL_SECONDS = 2
REFRESH_SECONDS = 5  # without JavaScript: <meta http-equiv="refresh">


class BatchStartForm(forms.Form):
    channel = forms.ChoiceField(
        label=gettext_lazy("Send the request by"),
        choices=batches.channel_choices,
        initial=batches.ANY,
        widget=forms.RadioSelect,
        error_messages={"invalid_choice": gettext_lazy("Choose email, SMS or either.")},
    )


# --- Which customers --------------------------------------------------------------------------


def _list_params(data: QueryDict) -> QueryDict:
    params = QueryDict(mutable=True)
    for key in FILTER_KEYS:
        if data.get(key):
            params[key] = data[key]
    return params


def _customers(request, source: str, data: QueryDict):
    """(customers or None, the list's filter form or None) for ``source``."""
    if source == BatchSource.SELECTION:
        return selection_of(request.user), None
    form = CustomerFilterForm(data)
    if not form.is_valid():
        return None, form
    # The list's customers, its Inactive tab included (anonymized ones are left out by the
    # batch itself).
    return customer_list(**form.selector_kwargs(tenant=request.tenant)), form


def _source_of(data: QueryDict) -> str:
    return (
        BatchSource.SELECTION if data.get("source") == BatchSource.SELECTION else BatchSource.SEARCH
    )


def _back(source: str, params: QueryDict) -> str:
    if source == BatchSource.SELECTION:
        return reverse("customer-selection")
    return reverse("customer-list") + (f"?{params.urlencode()}" if params else "")


def _start(request, form: BatchStartForm, *, customers, source: str):
    """Start the batch from a valid form; a redirect, or None with the errors on the form."""
    try:
        batch = batches.consent_batch_start(
            customer_ids=customers,
            channel=form.cleaned_data["channel"],
            source=source,
            actor=Actor.user(request.user),
        )
    except ValidationError as exc:
        apply_service_errors(form, exc)
        return None
    messages.success(request, _("The consent requests are being sent."))
    return redirect("consent-batch", pk=batch.pk)


def _label_with_counts(form: BatchStartForm, reach: batches.Reach) -> None:
    """Each channel says how many customers it reaches ("Email: 120 customers")."""
    reached = {
        batches.Channel.EMAIL: reach.email,
        batches.Channel.SMS: reach.mobile,
        batches.ANY: reach.email + reach.mobile_only,
    }
    form.fields["channel"].choices = [
        (
            value,
            ngettext(
                "%(channel)s: %(count)d customer",
                "%(channel)s: %(count)d customers",
                reached[value],
            )
            % {"channel": label, "count": reached[value]},
        )
        for value, label in batches.channel_choices()
    ]


@tenant_perm_required(Perm.CONSENT_REQUEST)
def batch_new(request):
    """Confirm a consent request to the list's customers (or the own selection), then start."""
    data = request.POST if request.method == "POST" else request.GET
    source = _source_of(data)
    params = _list_params(data) if source == BatchSource.SEARCH else QueryDict()
    customers, filter_form = _customers(request, source, data)
    form = BatchStartForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and customers is not None and form.is_valid():
        response = _start(request, form, customers=customers, source=source)
        if response is not None:
            return response
    reach = batches.reach_of(customers, channel=batches.ANY) if customers is not None else None
    if reach is not None:
        _label_with_counts(form, reach)
    return render(
        request,
        "consent/batch_new.html",
        {
            "form": form,
            "filter_form": filter_form,
            "source": source,
            "params": params,
            "reach": reach,
            # Said before the start: otherwise every SMS would fail as sms_not_enabled.
            "sms_enabled": notification_settings().sms_enabled,
            "summary": filter_form.summary() if filter_form and filter_form.is_valid() else [],
            "back": _back(source, params),
        },
    )


# --- Batches and their progress ---------------------------------------------------------------


@tenant_perm_required(Perm.CONSENT_REQUEST)
def batch_list(request):
    page = Paginator(selectors.batch_list(), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "consent/batch_list.html", {"page": page})


@tenant_perm_required(Perm.CONSENT_REQUEST)
def batch_detail(request, pk: int):
    """The progress page; while the batch runs, htmx polls its partial (or the page refreshes)."""
    batch = get_object_or_404(selectors.batch_list(), pk=pk)
    running = batch.status in (BatchStatus.PENDING, BatchStatus.RUNNING)
    context = {
        "batch": batch,
        "running": running,
        "poll_seconds": POLL_SECONDS,
        "refresh_seconds": REFRESH_SECONDS,
        "percent": round(100 * batch.done_count / batch.total) if batch.total else 100,
        # Every customer asked, messages still on their way: the batch is not done yet.
        "unsettled": batches.unsettled_messages(batch.pk)
        if running and batch.done_count >= batch.total
        else 0,
        # Sends cut off where the provider cannot tell: they wait on "Messages to check".
        "uncertain": 0
        if running
        else selectors.batch_message_count(batch.pk, statuses=[MessageStatus.UNCERTAIN]),
    }
    partial = request.htmx and not request.htmx.history_restore_request
    template = "consent/batch_progress.html" if partial else "consent/batch_detail.html"
    response = render(request, template, context)
    patch_vary_headers(response, ("HX-Request",))
    patch_cache_control(response, no_store=True)
    return response


def _reasons(items):
    for item in items:
        yield item, batches.error_label(item.error)


@tenant_perm_required(Perm.CONSENT_REQUEST)
def batch_unreachable(request, pk: int):
    """The customers the request could not reach, with the reason; print with ``?print=1``."""
    batch = get_object_or_404(selectors.batch_list(), pk=pk)
    items = selectors.batch_unreachable(batch)
    if request.GET.get("print"):
        total = items.count()
        return render(
            request,
            "consent/batch_unreachable_print.html",
            {
                "batch": batch,
                "rows": list(_reasons(items[:PRINT_LIMIT])),
                "total": total,
                "limit": PRINT_LIMIT,
                "printed_at": timezone.now(),
            },
        )
    page = Paginator(items, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "consent/batch_unreachable.html",
        {"batch": batch, "page": page, "rows": list(_reasons(page))},
    )


@tenant_perm_required(Perm.CONSENT_REQUEST)
def batch_unreachable_export(request, pk: int, fmt: str):
    """The "could not reach" list as CSV: customers' export columns plus the reason;
    streamed at once when small, else an export job (issue 11)."""
    if fmt != "csv":
        raise Http404
    batch = get_object_or_404(selectors.batch_list(), pk=pk)
    return exports.export_response(
        request, source="consent_batch", fmt=fmt, criteria=QueryDict(), key=str(batch.pk)
    )


# --- Re-consent: granted to older terms -------------------------------------------------------


@tenant_perm_required(Perm.CONSENT_REQUEST)
def reconsent_list(request):
    """Customers who consented to an older version of the text; POST asks them again."""
    customers = selectors.customers_on_outdated_terms()
    form = BatchStartForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        response = _start(request, form, customers=customers, source=BatchSource.OUTDATED_TERMS)
        if response is not None:
            return response
    page = Paginator(customers, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "consent/reconsent.html", {"form": form, "page": page})


# --- "Update consent" on the customer list ----------------------------------------------------


@tenant_perm_required(Perm.CONSENT_REQUEST)
@require_POST
def consent_refresh_view(request):
    from .refresh import consent_refresh

    result = consent_refresh(actor=Actor.user(request.user), customer_ids=None)
    messages.success(
        request,
        _(
            "Consent updated: %(expired)d expired requests marked, "
            "%(polled)d text messages checked with the provider."
        )
        % {"expired": result.expired, "polled": result.polled},
    )
    target = request.POST.get("next") or ""
    if not (
        target.startswith("/")
        and url_has_allowed_host_and_scheme(target, {request.get_host()}, require_https=False)
    ):
        target = reverse("customer-list")
    return redirect(target)
