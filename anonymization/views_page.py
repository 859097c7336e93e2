"""The Anonymization page (/anonymization/): who may be anonymized, who is blocked and why,
and how many become eligible in the next 12 months (issue 9 item 6)."""

from __future__ import annotations

from dataclasses import dataclass

from django.core.paginator import Page, Paginator
from django.shortcuts import render
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from tenancy.decorators import tenant_perm_required
from tenancy.roles import Perm

from . import eligibility
from .forms import AnonymizationRunForm, EligibilityFilterForm

PAGE_SIZE = 25
FORECAST_MONTHS = 12
# The forecast chart's drawing area (SVG user units).
BAR_WIDTH, BAR_GAP, CHART_HEIGHT, LABEL_HEIGHT, TOP = 32, 8, 100, 20, 16


@dataclass(frozen=True)
class Bar:
    month: object
    count: int
    x: int
    y: int
    height: int
    label_x: int


def _pager(request, queryset, param: str) -> tuple[Page, str, str]:
    """A page of ``queryset`` read from ``param``, with the links to its neighbours."""
    page = Paginator(queryset, PAGE_SIZE).get_page(request.GET.get(param))

    def link(number: int) -> str:
        query = request.GET.copy()
        query[param] = str(number)
        return "?" + query.urlencode()

    prev = link(page.previous_page_number()) if page.has_previous() else ""
    nxt = link(page.next_page_number()) if page.has_next() else ""
    return page, prev, nxt


def _section(request, queryset, param: str) -> dict:
    page, prev, nxt = _pager(request, queryset, param)
    page.object_list = list(page.object_list)
    return {"page": page, "prev": prev, "next": nxt, "count": page.paginator.count}


def _explained(customers, today):
    """The page's rows with what the template says about them."""
    for c in customers:
        c.fiscal_end = c.period_ends_on.replace(year=c.period_ends_on.year - c.retention_period)
        if c.retention_years:
            c.period_source = _("the customer's own period")
        elif c.is_prospect:
            c.period_source = _("the period for prospects")
        else:
            c.period_source = _("the period for customers")
        c.reasons = [eligibility.BLOCKER_LABELS[r] for r in eligibility.reasons_of(c, today=today)]
    return customers


def _bars(forecast) -> list[Bar]:
    top = max((m.count for m in forecast), default=0) or 1
    bars = []
    for i, m in enumerate(forecast):
        height = round(CHART_HEIGHT * m.count / top)
        x = i * (BAR_WIDTH + BAR_GAP)
        y = TOP + CHART_HEIGHT - height
        bars.append(Bar(m.month, m.count, x, y, height, x + BAR_WIDTH // 2))
    return bars


@tenant_perm_required(Perm.ANONYMIZE)
def anonymization_page(request):
    return render_page(request)


def render_page(request, run_form: AnonymizationRunForm | None = None, status: int = 200):
    """The page; ``run_form`` is a refused run's form, shown with its errors."""
    form = EligibilityFilterForm(request.GET or None)
    prospects = form.prospects() if form.is_bound else None
    today = eligibility.tenant_today()
    order = ("eligible_on", "sort_name", "pk")
    sections = {}
    if prospects is not False:
        qs = eligibility.eligible_customers(today=today, prospects=True).order_by(*order)
        sections["prospects"] = _section(request, qs, "prospects_page")
    if prospects is not True:
        qs = eligibility.eligible_customers(today=today, prospects=False).order_by(*order)
        sections["customers"] = _section(request, qs, "customers_page")
    blocked = eligibility.blocked_customers(today=today, prospects=prospects).order_by(
        "sort_name", "pk"
    )
    sections["blocked"] = _section(request, blocked, "blocked_page")
    for section in sections.values():
        _explained(section["page"].object_list, today)
    matching = sum(sections[k]["count"] for k in ("prospects", "customers") if k in sections)
    forecast = eligibility.eligibility_forecast(
        today=today, months=FORECAST_MONTHS, prospects=prospects
    )
    bars = _bars(forecast)
    if run_form is None:
        show = form.cleaned_data.get("show", "") if form.is_bound and form.is_valid() else ""
        run_form = AnonymizationRunForm(initial={"show": show}, language=get_language() or "en")
    ticked = set(run_form.cleaned_data.get("customer") or []) if run_form.is_bound else set()
    return render(
        request,
        "anonymization/page.html",
        {
            "run_form": run_form,
            "ticked": ticked,
            "form": form,
            "today": today,
            "prospects": sections.get("prospects"),
            "customers": sections.get("customers"),
            "blocked": sections["blocked"],
            "matching": matching,
            "waiting": eligibility.waiting_count(today=today),
            "forecast": forecast,
            "forecast_total": sum(m.count for m in forecast),
            "bars": bars,
            "chart": {
                "width": len(bars) * (BAR_WIDTH + BAR_GAP) - BAR_GAP,
                "height": TOP + CHART_HEIGHT + LABEL_HEIGHT,
                "bar_width": BAR_WIDTH,
                "label_y": TOP + CHART_HEIGHT + LABEL_HEIGHT - 4,
            },
        },
        status=status,
    )
