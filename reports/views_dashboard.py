"""The dashboard, the home page (issue 11 item 6): each member sees the charts and recent
work their role may open; the charts link to the lists behind them."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from consent.models import ConsentStatus
from tenancy.roles import Perm

from . import dashboard, dashboard_snapshot
from .charts import OKABE_ITO, Bar, Segment, bar_chart, stacked_bar
from .definitions import REPORTS

# Each consent status's colour and pattern (reports/charts.py: never colour alone).
CONSENT_LOOK = {
    ConsentStatus.GRANTED: (OKABE_ITO["bluish_green"], "solid"),
    ConsentStatus.REQUESTED: (OKABE_ITO["sky_blue"], "diagonal"),
    ConsentStatus.NONE: (OKABE_ITO["grey"], "dots"),
    ConsentStatus.DECLINED: (OKABE_ITO["vermillion"], "cross"),
    ConsentStatus.WITHDRAWN: (OKABE_ITO["reddish_purple"], "horizontal"),
    ConsentStatus.EXPIRED: (OKABE_ITO["orange"], "vertical"),
}


def _customer_list(**params: str) -> str:
    return f"{reverse('customer-list')}?{urlencode(params)}"


def _as_of(figures: dashboard_snapshot.Figures) -> dict:
    """When the customer charts were counted: the time, with the date when not today."""
    moment = timezone.localtime(figures.as_of)
    same_day = moment.date() == timezone.localdate()
    shown = formats.date_format(moment, "TIME_FORMAT" if same_day else "SHORT_DATETIME_FORMAT")
    return {"as_of": shown, "refreshing": figures.refreshing}


def _consent_section(figures: dashboard_snapshot.Figures) -> dict:
    counts = figures.consent
    rows, segments = [], []
    for status, count in counts.items():
        label = str(ConsentStatus(status).label)
        href = _customer_list(consent=status)
        title = _("%(status)s: %(count)s. Open the customer list.") % {
            "status": label,
            "count": formats.number_format(count, force_grouping=True),
        }
        colour, pattern = CONSENT_LOOK[status]
        segments.append(Segment(label, count, href, title, colour, pattern))
        rows.append({"label": label, "count": count, "href": href})
    chart = stacked_bar(segments, chart_id="chart-consent", label=_("Consent coverage"))
    return {"chart": chart, "rows": rows, "total": sum(counts.values()), **_as_of(figures)}


def _activity_label(bucket: dashboard.ActivityBucket) -> tuple[str, str]:
    """(the short label under the bar, the row's and tooltip's longer one)."""
    if bucket.key == dashboard.NEVER:
        return _("Never"), _("No activity ever")
    if bucket.months_to is None:
        return f"{bucket.months_from}+", _("%(months)d months ago or more") % {
            "months": bucket.months_from
        }
    short = f"{bucket.months_from}\u2013{bucket.months_to}"  # an en dash
    return short, _("%(from)d to %(to)d months ago") % {
        "from": bucket.months_from,
        "to": bucket.months_to,
    }


def _activity_href(bucket: dashboard.ActivityBucket) -> str:
    # The list filters by "last activity before" only: the closest is everyone quiet since
    # the bucket's start, newest first, so the bucket's customers come first.
    if bucket.key == dashboard.NEVER:
        return _customer_list(sort="last_activity")  # oldest first: the never active lead
    if bucket.before is None:
        return _customer_list(sort="-last_activity")
    return _customer_list(last_activity_before=bucket.before.isoformat(), sort="-last_activity")


def _activity_section(figures: dashboard_snapshot.Figures) -> dict:
    bars, rows = [], []
    for bucket in figures.activity:
        short, long = _activity_label(bucket)
        href = _activity_href(bucket)
        count = formats.number_format(bucket.count, force_grouping=True)
        title = _("Last activity %(when)s: %(count)s customers") % {"when": long, "count": count}
        if bucket.key == dashboard.NEVER:
            title = _("No activity ever: %(count)s customers") % {"count": count}
        bars.append(Bar(short, bucket.count, href, title))
        rows.append({"label": long, "count": bucket.count, "href": href})
    chart = bar_chart(bars, chart_id="chart-activity", label=_("Customers by last activity"))
    return {"chart": chart, "rows": rows, **_as_of(figures)}


def _forecast_section() -> dict:
    href = reverse("anonymization")
    bars, rows = [], []
    for month in dashboard.anonymization_forecast():
        name = formats.date_format(month.month, "F Y")
        title = _("%(month)s: %(count)s become eligible") % {
            "month": name,
            "count": formats.number_format(month.count, force_grouping=True),
        }
        bars.append(Bar(formats.date_format(month.month, "M"), month.count, href, title))
        rows.append({"label": name, "count": month.count, "href": href})
    chart = bar_chart(
        bars, chart_id="chart-forecast", label=_("Eligible for anonymization"), bar_width=36
    )
    return {"chart": chart, "rows": rows, "total": sum(r["count"] for r in rows)}


def _exports() -> list[dict]:
    exports = []
    for event in dashboard.recent_exports():
        data = event.data or {}
        report = REPORTS.get(data.get("report", ""))
        exports.append(
            {
                "at": event.created_at,
                "report": str(report.label) if report else data.get("report", ""),
                "format": str(data.get("format", "")).upper(),
                "count": data.get("count", 0),
            }
        )
    return exports


@login_required
def dashboard_page(request):
    membership = getattr(request, "membership", None)
    # Every key present, so that the template tells "may not see" (None) from "none yet" ([]).
    context: dict = dict.fromkeys(("consent", "activity", "forecast", "runs", "batches", "exports"))
    if membership is not None:
        can = membership.has_perm
        if can(Perm.REGISTRY_VIEW):
            figures = dashboard_snapshot.dashboard_figures()
            context["consent"] = _consent_section(figures)
            context["activity"] = _activity_section(figures)
        if can(Perm.ANONYMIZE):
            context["forecast"] = _forecast_section()
            context["runs"] = dashboard.recent_runs()
        if can(Perm.CONSENT_REQUEST):
            context["batches"] = dashboard.recent_batches()
        if can(Perm.AUDIT_VIEW):
            context["exports"] = _exports()
            context["exports_href"] = (
                f"{reverse('audit-events')}?{urlencode({'action': 'reports.exported'})}"
            )
    return render(request, "home.html", context)
