"""The customer list, the own selection, saved lists, print and export (seed 003, issue 10-11).

One view serves the full page or, for htmx, the results partial only. Every
page works without JavaScript.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import F, Prefetch
from django.http import Http404, HttpResponse, HttpResponseBase, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from tenancy.decorators import tenant_perm_required
from tenancy.forms import apply_service_errors
from tenancy.roles import Perm

from .. import exports
from ..forms_lists import (
    DEFAULT_SORT,
    FILTER_KEYS,
    STATUSES,
    CustomerFilterForm,
    CustomerPickForm,
    SavedListForm,
    SelectionAddForm,
)
from ..models import Address, CustomerStatus
from ..selectors import SEARCH_LIMIT, customer_list, selection_of
from ..services import selections

PAGE_SIZE = 50
PRINT_LIMIT = 5_000
# Sortable columns: (column, ascending key, descending key, key of the first click).
SORT_COLUMNS = [
    ("number", "number", "-number", "number"),
    ("name", "name", "-name", "name"),
    ("last_activity", "last_activity", "-last_activity", "-last_activity"),
]


def _params(data: QueryDict) -> QueryDict:
    """The filter keys of ``data`` that have a value: what links and saved lists carry on."""
    params = QueryDict(mutable=True)
    for key in FILTER_KEYS:
        value = data.get(key, "")
        if value:
            params[key] = value
    return params


def _with_head_office(queryset):
    return queryset.prefetch_related(
        Prefetch("addresses", queryset=Address.objects.filter(is_head_office=True))
    )


def _filtered(request, data: QueryDict):
    """(form, customers or None when the filters are wrong)."""
    form = CustomerFilterForm(data)
    if not form.is_valid():
        return form, None
    kwargs = form.selector_kwargs(tenant=request.tenant)
    customers = customer_list(**kwargs)
    ordering = kwargs["ordering"]
    if ordering in ("last_activity", "-last_activity"):
        # Never active counts as oldest: first when oldest come first, last when newest do.
        # (PostgreSQL's default puts NULLs the other way round in both directions.)
        field = F("last_activity_at")
        key = field.desc(nulls_last=True) if ordering[0] == "-" else field.asc(nulls_first=True)
        customers = customers.order_by(key, "pk")
    return form, customers


def _sort_headers(sort: str) -> dict[str, dict]:
    """Per sortable column: its aria-sort state and the sort key its link sets."""
    headers = {}
    for column, ascending, descending, first in SORT_COLUMNS:
        if sort == ascending:
            headers[column] = {"state": "ascending", "sort": descending}
        elif sort == descending:
            headers[column] = {"state": "descending", "sort": ascending}
        else:
            headers[column] = {"state": "", "sort": first}
    return headers


def _list_context(request, data: QueryDict, save_form: SavedListForm | None = None) -> dict:
    form, customers = _filtered(request, data)
    params = _params(data)
    # cleaned_data keeps the valid fields of an invalid form: the tab and sort stay put.
    sort = form.cleaned_data.get("sort") or DEFAULT_SORT
    page = (
        Paginator(customers, PAGE_SIZE).get_page(data.get("page"))
        if customers is not None
        else None
    )
    status = form.cleaned_data.get("status") or CustomerStatus.ACTIVE
    # The search stops at SEARCH_LIMIT matches: say so rather than show a round count.
    searched = bool(form.cleaned_data.get("q"))
    return {
        "search_capped": searched and page is not None and page.paginator.count >= SEARCH_LIMIT,
        "search_limit": SEARCH_LIMIT,
        "form": form,
        "page": page,
        "params": params,
        "status": status,
        "statuses": STATUSES,
        "sort_headers": _sort_headers(sort),
        "save_form": save_form or SavedListForm(prefix="list"),
        "saved_lists": selections.saved_lists_visible(request.user),
        "in_selection": _in_selection(request.user, page),
    }


def _in_selection(user, page) -> set[int]:
    """Which customers of this page are in the user's selection already."""
    if page is None:
        return set()
    ids = [c.pk for c in page]
    return set(selection_of(user).filter(pk__in=ids).values_list("pk", flat=True))


def _print(request, *, title: str, customers, summary, back: str) -> HttpResponse:
    total = customers.count()
    return render(
        request,
        "customers/list/print.html",
        {
            "title": title,
            "customers": customers[:PRINT_LIMIT],
            "total": total,
            "limit": PRINT_LIMIT,
            "summary": summary,
            "printed_at": timezone.now(),
            "back": back,
        },
    )


@tenant_perm_required(Perm.REGISTRY_VIEW)
def customer_list_view(request):
    """The customer list: search, status tabs, filters, sort, pages; print with ``?print=1``."""
    if request.GET.get("print"):
        form, customers = _filtered(request, request.GET)
        if customers is not None:
            return _print(
                request,
                title=_("Customers"),
                customers=customers,
                summary=form.summary(),
                back=reverse("customer-list") + _query(_params(request.GET)),
            )
    context = _list_context(request, request.GET)
    partial = request.htmx and not request.htmx.history_restore_request
    template = "customers/list/_results.html" if partial else "customers/list/index.html"
    response = render(request, template, {**context, "partial": partial})
    patch_vary_headers(response, ("HX-Request",))
    return response


EXPORT_FORMATS = ("csv", "xlsx")


@tenant_perm_required(Perm.REGISTRY_VIEW)
def customer_export(request, fmt: str):
    """The current result of the list as CSV or Excel (the same filters as the page):
    streamed at once when small, else an export job and its progress page (issue 11)."""
    if fmt not in EXPORT_FORMATS:
        raise Http404
    result = exports.export_response(
        request, source="customers", fmt=fmt, criteria=_params(request.GET)
    )
    if isinstance(result, HttpResponseBase):
        return result
    return render(request, "customers/list/index.html", _list_context(request, request.GET))


def _query(params: QueryDict) -> str:
    return f"?{params.urlencode()}" if params else ""


# --- Own selection -------------------------------------------------------------------------


def _selection(user):
    return _with_head_office(selection_of(user))


def _render_selection(request, *, add_form=None, pick_form=None) -> HttpResponse:
    customers = _selection(request.user)
    page = Paginator(customers, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "page": page,
        "add_form": add_form or SelectionAddForm(),
        "pick_form": pick_form,
    }
    return render(request, "customers/list/selection.html", context)


def _tell_added(request, *, added: int, already: int) -> None:
    if added:
        messages.success(
            request,
            ngettext(
                "%(count)d customer was added to your selection.",
                "%(count)d customers were added to your selection.",
                added,
            )
            % {"count": added},
        )
    if already:
        messages.info(
            request,
            ngettext(
                "%(count)d customer was already in your selection.",
                "%(count)d customers were already in your selection.",
                already,
            )
            % {"count": already},
        )


@tenant_perm_required(Perm.REGISTRY_VIEW)
def selection_view(request):
    """The user's own selection; POST adds customers by their numbers."""
    if request.method == "GET" and request.GET.get("print"):
        return _print(
            request,
            title=_("My selection"),
            customers=_selection(request.user),
            summary=[],
            back=reverse("customer-selection"),
        )
    add_form = SelectionAddForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and add_form.is_valid():
        numbers = add_form.cleaned_data["numbers"]
        added, unknown = selections.selection_add_by_numbers(user=request.user, numbers=numbers)
        _tell_added(request, added=len(added), already=len(numbers) - len(unknown) - len(added))
        if not unknown:
            return redirect("customer-selection")
        # Keep only the numbers that went wrong in the box, with a message naming them.
        add_form = SelectionAddForm(data={"numbers": " ".join(unknown)})
        add_form.is_valid()
        add_form.add_error(
            "numbers",
            ngettext(
                "No customer has the number %(numbers)s.",
                "No customers have the numbers %(numbers)s.",
                len(unknown),
            )
            % {"numbers": ", ".join(unknown)},
        )
        return _render_selection(request, add_form=add_form)
    return _render_selection(request, add_form=add_form)


def _next_url(request, default: str) -> str:
    target = request.POST.get("next") or ""
    if url_has_allowed_host_and_scheme(
        target, {request.get_host()}, require_https=request.is_secure()
    ) and target.startswith("/"):
        return target
    return default


@tenant_perm_required(Perm.REGISTRY_VIEW)
@require_POST
def selection_add_view(request):
    """Add the ticked rows of the customer list to the user's selection."""
    back = _next_url(request, reverse("customer-list"))
    form = CustomerPickForm(request.POST)
    if not form.is_valid():
        for error in form.errors["customer"]:
            messages.error(request, error)
        return redirect(back)
    picked = form.cleaned_data["customer"]
    added = selections.selection_add(user=request.user, customers=picked)
    _tell_added(request, added=len(added), already=len(picked) - len(added))
    return redirect(back)


@tenant_perm_required(Perm.REGISTRY_VIEW)
@require_POST
def selection_remove_view(request):
    form = CustomerPickForm(request.POST, queryset=selection_of(request.user))
    if not form.is_valid():
        return _render_selection(request, pick_form=form)
    removed = selections.selection_remove(
        user=request.user, customer_ids=[c.pk for c in form.cleaned_data["customer"]]
    )
    messages.success(
        request,
        ngettext(
            "%(count)d customer was removed from your selection.",
            "%(count)d customers were removed from your selection.",
            removed,
        )
        % {"count": removed},
    )
    return redirect("customer-selection")


@tenant_perm_required(Perm.REGISTRY_VIEW)
def selection_clear_view(request):
    """GET asks for confirmation (works without JavaScript); POST empties the selection."""
    if request.method == "POST":
        removed = selections.selection_clear(user=request.user)
        messages.success(
            request,
            ngettext(
                "Your selection is empty now (%(count)d customer removed).",
                "Your selection is empty now (%(count)d customers removed).",
                removed,
            )
            % {"count": removed},
        )
        return redirect("customer-selection")
    count = selection_of(request.user).count()
    return render(request, "customers/list/selection_clear.html", {"count": count})


@tenant_perm_required(Perm.REGISTRY_VIEW)
def selection_export(request, fmt: str):
    if fmt not in EXPORT_FORMATS:
        raise Http404
    return exports.export_response(request, source="selection", fmt=fmt, criteria=QueryDict())


# --- Saved lists ---------------------------------------------------------------------------


@tenant_perm_required(Perm.REGISTRY_VIEW)
@require_POST
def saved_list_save_view(request):
    """Save the filters posted with the form (the list's current ones) under a name."""
    save_form = SavedListForm(request.POST, prefix="list")
    filter_form = CustomerFilterForm(request.POST)
    if save_form.is_valid() and filter_form.is_valid():
        try:
            saved = selections.saved_list_save(
                user=request.user,
                name=save_form.cleaned_data["name"],
                shared=save_form.cleaned_data["shared"],
                filters=_params(request.POST),
            )
        except ValidationError as exc:
            apply_service_errors(save_form, exc)
        else:
            messages.success(request, _("The list “%(name)s” was saved.") % {"name": saved.name})
            return redirect(reverse("customer-saved-list", kwargs={"pk": saved.pk}))
    context = _list_context(request, _params(request.POST), save_form=save_form)
    context["save_open"] = True
    return render(request, "customers/list/index.html", context)


@tenant_perm_required(Perm.REGISTRY_VIEW)
def saved_list_open(request, pk: int):
    """Open a list: the customer list with the list's filters."""
    saved = get_object_or_404(selections.saved_lists_visible(request.user), pk=pk)
    params = QueryDict(mutable=True)
    params.update(saved.query())
    return redirect(reverse("customer-list") + _query(params))


@tenant_perm_required(Perm.REGISTRY_VIEW)
@require_POST
def saved_list_delete_view(request, pk: int):
    saved = get_object_or_404(selections.saved_lists_visible(request.user), pk=pk)
    selections.saved_list_delete(user=request.user, saved_list=saved)
    messages.success(request, _("The list “%(name)s” was deleted.") % {"name": saved.name})
    return redirect(_next_url(request, reverse("customer-list")))
