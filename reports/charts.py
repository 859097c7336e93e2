"""Server-rendered SVG charts for the dashboard: no script, no CDN, nothing the CSP forbids.

Readable without colour: every bar carries its number as text and its name under it, the
stacked bar's segments also differ by pattern, and its legend names each with its count.
Colours are the Okabe-Ito palette, which the common colour-vision deficiencies tell apart.
Every bar and segment is a link (``<a href>``) with a ``<title>`` and an ``aria-label``;
the ``<svg>`` is a labelled group, not an image, so that those links stay reachable.
Sizes are SVG user units; the CSS (static/css/dashboard.css) only sets fonts and lets
the chart shrink to its column.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.formats import number_format
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

# Okabe & Ito (2008), "Color Universal Design"; grey for "nothing yet".
OKABE_ITO = {
    "orange": "#E69F00",
    "sky_blue": "#56B4E9",
    "bluish_green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "reddish_purple": "#CC79A7",
    "grey": "#999999",
}
BAR_COLOUR = OKABE_ITO["blue"]
# Patterns drawn over a segment's colour (a second cue besides the colour).
PATTERNS = {
    "solid": "",
    "diagonal": '<path d="M0,8 L8,0" stroke="#000" stroke-width="1.5" stroke-opacity=".55"/>',
    "dots": '<circle cx="4" cy="4" r="1.6" fill="#000" fill-opacity=".55"/>',
    "cross": '<path d="M0,0 L8,8 M8,0 L0,8" stroke="#000" stroke-width="1.2" '
    'stroke-opacity=".55"/>',
    "horizontal": '<path d="M0,4 L8,4" stroke="#000" stroke-width="1.5" stroke-opacity=".55"/>',
    "vertical": '<path d="M4,0 L4,8" stroke="#000" stroke-width="1.5" stroke-opacity=".55"/>',
}


@dataclass(frozen=True)
class Bar:
    label: str  # under the bar
    value: int
    href: str
    title: str  # the tooltip and the link's accessible name


@dataclass(frozen=True)
class Segment:
    label: str
    value: int
    href: str
    title: str
    colour: str
    pattern: str = "solid"


def bar_chart(
    bars: list[Bar], *, chart_id: str, label: str, bar_width: int = 48, gap: int = 14
) -> SafeString:
    """Vertical bars, each with its number above it and its label below."""
    height, top, bottom = 120, 18, 22
    peak = max((b.value for b in bars), default=0) or 1
    width = max(1, len(bars) * (bar_width + gap) - gap)
    parts = []
    for i, bar in enumerate(bars):
        h = round(height * bar.value / peak)
        if bar.value and h < 2:
            h = 2  # a non-zero bar stays visible
        x = i * (bar_width + gap)
        y = top + height - h
        mid = x + bar_width // 2
        parts.append(
            format_html(
                # Named by its <title>: an aria-label would hide the visible value and label
                # from the name (axe: label-content-name-mismatch, WCAG 2.5.3).
                '<a class="chart-link" href="{href}">'
                "<title>{title}</title>"
                # The whole column is the link's target, not only the (maybe tiny) bar.
                '<rect class="chart-hit" x="{x}" y="0" width="{w}" height="{full}" '
                'fill="transparent"/>'
                '<rect class="chart-bar" x="{x}" y="{y}" width="{w}" height="{h}" fill="{fill}"/>'
                '<text class="chart-value" x="{mid}" y="{vy}" text-anchor="middle">{value}</text>'
                '<text class="chart-label" x="{mid}" y="{ly}" text-anchor="middle">{label}</text>'
                "</a>",
                href=bar.href,
                title=bar.title,
                x=x,
                y=y,
                w=bar_width,
                h=h,
                full=top + height + bottom,
                fill=BAR_COLOUR,
                mid=mid,
                vy=y - 4,
                value=_number(bar.value),
                ly=top + height + bottom - 6,
                label=bar.label,
            )
        )
    return format_html(
        '<svg class="chart dashboard-chart" id="{id}" viewBox="0 0 {w} {h}" width="{w}" '
        'height="{h}" role="group" aria-label="{label}" xmlns="http://www.w3.org/2000/svg">'
        "{body}</svg>",
        id=chart_id,
        w=width,
        h=top + height + bottom,
        label=label,
        body=mark_safe("".join(parts)),  # noqa: S308 - each part escaped by format_html
    )


def stacked_bar(
    segments: list[Segment], *, chart_id: str, label: str, width: int = 600
) -> SafeString:
    """One horizontal bar split into ``segments`` by share, and a legend under it: a swatch
    (colour and pattern), the name and the count, each a link like its segment."""
    bar_height, legend_top, row = 36, 52, 22
    total = sum(s.value for s in segments)
    defs = format_html_join(
        "",
        '<pattern id="{}" width="8" height="8" patternUnits="userSpaceOnUse">'
        '<rect width="8" height="8" fill="{}"/>{}</pattern>',
        (
            (f"{chart_id}-p{i}", s.colour, mark_safe(PATTERNS[s.pattern]))  # noqa: S308 - ours
            for i, s in enumerate(segments)
        ),
    )
    parts, x = [], 0.0
    for i, s in enumerate(segments):
        if not s.value:
            continue
        w = width * s.value / total
        parts.append(
            format_html(
                '<a class="chart-link" href="{href}" aria-label="{title}"><title>{title}</title>'
                '<rect class="chart-segment" x="{x}" y="0" width="{w}" height="{h}" '
                'fill="url(#{pid})" stroke="#fff" stroke-width="1"/></a>',
                href=s.href,
                title=s.title,
                x=f"{x:.2f}",
                w=f"{w:.2f}",
                h=bar_height,
                pid=f"{chart_id}-p{i}",
            )
        )
        x += w
    if not total:
        parts.append(
            format_html(
                '<rect x="0" y="0" width="{}" height="{}" fill="none" stroke="#999"/>',
                width,
                bar_height,
            )
        )
    columns = 2
    column_width = width // columns
    for i, s in enumerate(segments):
        lx = (i % columns) * column_width
        ly = legend_top + (i // columns) * row
        share = f" ({round(100 * s.value / total)} %)" if total else ""
        parts.append(
            format_html(
                '<a class="chart-link" href="{href}" aria-label="{title}"><title>{title}</title>'
                '<rect class="chart-swatch" x="{x}" y="{sy}" width="16" height="16" '
                'fill="url(#{pid})" stroke="#1d2433" stroke-width=".5"/>'
                '<text class="chart-legend" x="{tx}" y="{ty}">{label}: {value}{share}</text></a>',
                href=s.href,
                title=s.title,
                x=lx,
                sy=ly,
                pid=f"{chart_id}-p{i}",
                tx=lx + 22,
                ty=ly + 13,
                label=s.label,
                value=_number(s.value),
                share=share,
            )
        )
    height = legend_top + ((len(segments) + columns - 1) // columns) * row
    return format_html(
        '<svg class="chart dashboard-chart" id="{id}" viewBox="0 0 {w} {h}" width="{w}" '
        'height="{h}" role="group" aria-label="{label}" xmlns="http://www.w3.org/2000/svg">'
        "<defs>{defs}</defs>{body}</svg>",
        id=chart_id,
        w=width,
        h=height,
        label=label,
        defs=defs,
        body=mark_safe("".join(parts)),  # noqa: S308 - each part escaped by format_html
    )


def _number(value: int) -> str:
    # Thousands grouped as the active language writes them (1 234 in Swedish).
    return number_format(value, force_grouping=True)
