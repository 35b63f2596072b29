"""Server-rendered SVG charts: no JavaScript, no web fonts, readable when printed.

Every chart has a ``<title>`` and ``<desc>`` (its accessible name and summary), and
every bar or column its own ``<title>`` so that hovering shows the numbers. The
pages put a table with the same numbers beside each chart (the text alternative).
No ``style`` attributes: the pages' Content-Security-Policy forbids inline styles.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

from markupsafe import Markup

from api.dashboard.i18n import number, t
from projections.followup import Week

MONTHS = {
    "sv": ["jan", "feb", "mar", "apr", "maj", "jun", "jul", "aug", "sep", "okt", "nov", "dec"],
    "en": ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"],
}

#: Colours for activity kinds (Okabe–Ito based, distinguishable with colour-blindness).
KIND_COLOURS = {
    "patrol": "#1f4e9c",
    "volunteer_patrol": "#56b4e9",
    "enforcement": "#0b2545",
    "security_host_shift": "#0f8b8d",
    "cleaning_round": "#e69f00",
    "guard_shift": "#d55e00",
    "environment_measure": "#009e73",
    "public_event": "#cc79a7",
    "safety_walk": "#7b3fa0",
}
#: The first organisation of each kind gets its kind's colour (police blue and so on).
ACTOR_KIND_COLOURS = {
    "police": "#1f4e9c",
    "transit": "#0f8b8d",
    "infrastructure": "#e69f00",
    "municipality": "#7b3fa0",
}
SERIES_COLOURS = [
    "#1f4e9c",
    "#0f8b8d",
    "#e69f00",
    "#7b3fa0",
    "#cc79a7",
    "#009e73",
    "#d55e00",
    "#56b4e9",
    "#8c6d1f",
    "#555555",
]
INK = "#1f2933"
MUTED = "#52606d"
GRID = "#d9dee3"


@dataclass(frozen=True)
class Series:
    key: str
    label: str
    colour: str


@dataclass(frozen=True)
class Marker:
    day: date
    label: str


_ids = itertools.count(1)


def _uid(prefix: str, *_: object) -> str:
    """A page-unique id for ``aria-labelledby`` (ids only need to differ within a page)."""
    return f"{prefix}-{next(_ids)}"


def nice_max(value: float) -> tuple[float, float]:
    """A round axis maximum ≥ value and a tick step (≤ 5 ticks)."""
    if value <= 0:
        return 1.0, 1.0
    raw = value / 4
    magnitude = 10 ** math.floor(math.log10(raw))
    for factor in (1, 2, 2.5, 5, 10):
        step = factor * magnitude
        if step >= raw:
            break
    step = max(step, 1.0)
    return step * math.ceil(value / step), step


def week_span(week: Week, lang: str) -> str:
    sunday = week.sunday
    return (
        f"{t(lang, 'week_short', n=week.number)} ({week.monday.isoformat()} – {sunday.isoformat()})"
    )


def month_labels(weeks: Sequence[Week], lang: str) -> dict[int, str]:
    """Index → label for the first week that starts in each month (the year on January
    and on the first label)."""
    out: dict[int, str] = {}
    seen: set[tuple[int, int]] = set()
    for i, w in enumerate(weeks):
        thursday = w.monday.toordinal() + 3
        day = date.fromordinal(thursday)
        key = (day.year, day.month)
        if key in seen:
            continue
        seen.add(key)
        text = MONTHS[lang][day.month - 1]
        if not out or day.month == 1:
            text += f" {day.year}"
        out[i] = text
    if len(weeks) <= 10:  # short ranges: label every week instead
        return {i: t(lang, "week_short", n=w.number) for i, w in enumerate(weeks)}
    return out


M = Markup  # every dynamic part below goes through Markup.format, which escapes it


def _svg_open(cls: str, width: int, height: int, uid: str, title: str, desc: str = "") -> Markup:
    labelled = f"{uid}-t {uid}-d" if desc else f"{uid}-t"
    head = M(
        '<svg class="{}" viewBox="0 0 {} {}" role="img" aria-labelledby="{}" '
        'xmlns="http://www.w3.org/2000/svg"><title id="{}-t">{}</title>'
    ).format(cls, width, height, labelled, uid, title)
    if desc:
        head += M('<desc id="{}-d">{}</desc>').format(uid, desc)
    return head


def _y_axis(
    left: float, right: float, top: float, plot_h: float, y_max: float, step: float, lang: str
) -> list[Markup]:
    out = []
    tick = 0.0
    while tick <= y_max + 1e-9:
        y = top + plot_h - plot_h * tick / y_max
        out.append(
            M(
                '<line x1="{}" x2="{}" y1="{:.1f}" y2="{:.1f}" stroke="{}" stroke-width="1"/>'
                '<text x="{}" y="{:.1f}" text-anchor="end" font-size="11" fill="{}">{}</text>'
            ).format(left, right, y, y, GRID, left - 6, y + 4, MUTED, number(tick, lang))
        )
        tick += step
    return out


def stacked_weeks(
    weeks: Sequence[Week],
    series: Sequence[Series],
    values: dict[tuple[str, str], float],
    *,
    title: str,
    desc: str,
    unit: str,
    lang: str,
    markers: Iterable[Marker] = (),
    width: int = 920,
    height: int = 280,
) -> Markup:
    """Weekly columns stacked by series. ``values[(week_key, series_key)]``."""
    left, right, top, bottom = 44, 10, 14, 34
    plot_w, plot_h = width - left - right, height - top - bottom
    n = max(1, len(weeks))
    totals = [sum(values.get((w.key, s.key), 0) for s in series) for w in weeks]
    y_max, step = nice_max(max(totals, default=0))
    col_w = plot_w / n
    bar_w = max(1.0, col_w * 0.78)
    out = [_svg_open("chart", width, height, _uid("chart"), title, desc)]
    out += _y_axis(left, width - right, top, plot_h, y_max, step, lang)
    labels = month_labels(weeks, lang)
    for i, w in enumerate(weeks):
        x0 = left + i * col_w
        parts = [
            f"{s.label}: {number(values.get((w.key, s.key), 0), lang)}"
            for s in series
            if values.get((w.key, s.key))
        ]
        tip = f"{week_span(w, lang)} – {t(lang, 'total')}: {number(totals[i], lang)} {unit}"
        if parts:
            tip += "\n" + "\n".join(parts)
        out.append(
            M(
                '<g class="col"><title>{}</title><rect x="{:.1f}" y="{}" width="{:.1f}" '
                'height="{}" fill="transparent"/>'
            ).format(tip, x0, top, col_w, plot_h)
        )
        y: float = top + plot_h
        for s in series:
            v = values.get((w.key, s.key), 0.0)
            if not v:
                continue
            h = plot_h * v / y_max
            y -= h
            out.append(
                M(
                    '<rect x="{:.1f}" y="{:.1f}" width="{:.1f}" height="{:.1f}" fill="{}">'
                    "<title>{}: {} {} {}</title></rect>"
                ).format(
                    x0 + (col_w - bar_w) / 2,
                    y,
                    bar_w,
                    h,
                    s.colour,
                    week_span(w, lang),
                    s.label,
                    number(v, lang),
                    unit,
                )
            )
        out.append(M("</g>"))
        if i in labels:
            out.append(
                M(
                    '<line x1="{:.1f}" x2="{:.1f}" y1="{}" y2="{}" stroke="{}"/>'
                    '<text x="{:.1f}" y="{}" font-size="11" fill="{}">{}</text>'
                ).format(
                    x0,
                    x0,
                    top + plot_h,
                    top + plot_h + 4,
                    MUTED,
                    x0 + 1,
                    height - 12,
                    MUTED,
                    labels[i],
                )
            )
    out += _markers(markers, weeks, left, col_w, top, plot_h)
    out.append(
        M('<line x1="{}" x2="{}" y1="{}" y2="{}" stroke="{}"/></svg>').format(
            left, width - right, top + plot_h, top + plot_h, INK
        )
    )
    return M("").join(out)


def _markers(
    markers: Iterable[Marker],
    weeks: Sequence[Week],
    left: float,
    col_w: float,
    top: float,
    h: float,
) -> list[Markup]:
    out: list[Markup] = []
    if not weeks:
        return out
    first = weeks[0].monday
    for m in markers:
        offset = (m.day - first).days / 7
        if offset < 0 or offset > len(weeks):
            continue
        x = left + offset * col_w
        out.append(
            M(
                '<g class="marker"><title>{}: {}</title>'
                '<line x1="{:.1f}" x2="{:.1f}" y1="{}" y2="{}" stroke="{}" stroke-width="1.5" '
                'stroke-dasharray="4 3"/><rect x="{:.1f}" y="{}" width="10" height="{}" '
                'fill="transparent"/></g>'
            ).format(m.day.isoformat(), m.label, x, x, top - 4, top + h, INK, x - 5, top - 4, h + 4)
        )
    return out


def small_weeks(
    weeks: Sequence[Week],
    values: dict[str, float],
    *,
    title: str,
    unit: str,
    lang: str,
    y_max: float | None = None,
    markers: Iterable[Marker] = (),
    colour: str = "#3d5a80",
    width: int = 300,
    height: int = 96,
    hover: bool = True,
) -> Markup:
    """A small weekly column chart (one of a set of small multiples, sharing ``y_max``).
    With ``hover`` each week carries its number as a ``<title>``; without (print), the
    chart is a fraction of the size."""
    left, right, top, bottom = 26, 4, 8, 16
    plot_w, plot_h = width - left - right, height - top - bottom
    n = max(1, len(weeks))
    top_value, _ = nice_max(y_max if y_max is not None else max(values.values(), default=0))
    col_w = plot_w / n
    total = sum(values.values())
    out = [
        _svg_open("mini", width, height, _uid("mini"), f"{title}: {number(total, lang)} {unit}"),
        M(
            '<line x1="{}" x2="{}" y1="{}" y2="{}" stroke="{}"/>'
            '<text x="{}" y="{}" text-anchor="end" font-size="10" fill="{}">{}</text>'
            '<text x="{}" y="{}" text-anchor="end" font-size="10" fill="{}">0</text>'
        ).format(
            left,
            width - right,
            top,
            top,
            GRID,
            left - 4,
            top + 4,
            MUTED,
            number(top_value, lang),
            left - 4,
            top + plot_h,
            MUTED,
        ),
    ]
    for i, w in enumerate(weeks):
        v = values.get(w.key, 0)
        x0 = left + i * col_w
        h = plot_h * v / top_value
        if hover:
            out.append(
                M(
                    '<g><title>{}: {} {}</title><rect x="{:.1f}" y="{}" width="{:.1f}" '
                    'height="{}" fill="transparent"/>'
                ).format(week_span(w, lang), number(v, lang), unit, x0, top, col_w, plot_h)
            )
        if v:
            out.append(
                M('<rect x="{:.1f}" y="{:.1f}" width="{:.1f}" height="{:.1f}" fill="{}"/>').format(
                    x0 + col_w * 0.1, top + plot_h - h, max(0.8, col_w * 0.8), h, colour
                )
            )
        if hover:
            out.append(M("</g>"))
    labels = month_labels(weeks, lang) if len(weeks) > 10 else {}
    shown = [i for i in labels if labels[i].split()[0] in (MONTHS[lang][0], MONTHS[lang][6])]
    for i in shown or list(labels)[:1]:
        out.append(
            M('<text x="{:.1f}" y="{}" font-size="10" fill="{}">{}</text>').format(
                left + i * col_w, height - 3, MUTED, labels[i]
            )
        )
    out += _markers(markers, weeks, left, col_w, top, plot_h)
    out.append(
        M('<line x1="{}" x2="{}" y1="{}" y2="{}" stroke="{}"/></svg>').format(
            left, width - right, top + plot_h, top + plot_h, INK
        )
    )
    return M("").join(out)


def bullet(
    delivered: float, target: float, expected: float, status: str, *, title: str, width: int = 160
) -> Markup:
    """A horizontal bar of delivered against target, with a tick at "expected by now"."""
    height = 14
    scale = max(target, delivered, 1e-9)
    return M(
        '<svg class="bullet" viewBox="0 0 {w} {h}" width="{w}" height="{h}" role="img" '
        'aria-label="{title}" xmlns="http://www.w3.org/2000/svg"><title>{title}</title>'
        '<rect x="0" y="3" width="{goal:.1f}" height="8" class="bullet-track"/>'
        '<rect x="0" y="3" width="{bar:.1f}" height="8" class="bar-{status}"/>'
        '<line x1="{tick:.1f}" x2="{tick:.1f}" y1="0" y2="{h}" stroke="{ink}" stroke-width="2"/>'
        "</svg>"
    ).format(
        w=width,
        h=height,
        title=title,
        goal=width * min(target / scale, 1.0),
        bar=width * min(delivered / scale, 1.0),
        tick=width * min(expected / scale, 1.0),
        status=status,
        ink=INK,
    )


def timeline(start: date, end: date, today: date, *, title: str, lang: str) -> Markup:
    """The promise period as a bar, the elapsed part filled, months marked."""
    width, height, left, right = 920, 46, 8, 8
    plot = width - left - right
    days = max(1, (end - start).days + 1)
    elapsed = min(max((today - start).days + 1, 0), days)
    x_today = left + plot * elapsed / days
    out = [
        M(
            '<svg class="timeline" viewBox="0 0 {} {}" role="img" aria-label="{}" '
            'xmlns="http://www.w3.org/2000/svg"><title>{}</title>'
            '<rect x="{}" y="6" width="{}" height="16" rx="3" class="timeline-track"/>'
            '<rect x="{}" y="6" width="{:.1f}" height="16" rx="3" class="timeline-done"/>'
        ).format(width, height, title, title, left, plot, left, x_today - left)
    ]
    month = date(start.year, start.month, 1)
    while month <= end:
        if month >= start:
            x = left + plot * (month - start).days / days
            text = MONTHS[lang][month.month - 1]
            if month.month == 1 or month == date(start.year, start.month, 1):
                text += f" {month.year}"
            out.append(
                M(
                    '<line x1="{:.1f}" x2="{:.1f}" y1="22" y2="28" stroke="{}"/>'
                    '<text x="{:.1f}" y="40" font-size="11" fill="{}">{}</text>'
                ).format(x, x, MUTED, x + 2, MUTED, text)
            )
        month = date(month.year + (month.month == 12), month.month % 12 + 1, 1)
    if start <= today <= end:
        out.append(
            M('<line x1="{:.1f}" x2="{:.1f}" y1="2" y2="26" stroke="{}" stroke-width="2"/>').format(
                x_today, x_today, INK
            )
        )
    out.append(M("</svg>"))
    return M("").join(out)


#: Status icons: fixed SVG (no dynamic parts), drawn in the current text colour.
ICONS = {
    "met": M(
        '<path d="M2.5 8.6l3.6 3.6L13.8 4.3" fill="none" stroke="currentColor" '
        'stroke-width="2.6" stroke-linecap="round" stroke-linejoin="round"/>'
    ),
    "on_track": M(
        '<circle cx="8" cy="8" r="6.2" fill="none" stroke="currentColor" stroke-width="1.6"/>'
        '<path d="M8 1.8a6.2 6.2 0 0 1 0 12.4z" fill="currentColor"/>'
    ),
    "behind": M(
        '<path d="M8 1.6L15 14.4H1z" fill="none" stroke="currentColor" stroke-width="1.6" '
        'stroke-linejoin="round"/><path d="M8 6v3.8" stroke="currentColor" stroke-width="1.8"/>'
        '<circle cx="8" cy="12" r="1" fill="currentColor"/>'
    ),
    "not_started": M(
        '<circle cx="8" cy="8" r="6.2" fill="none" stroke="currentColor" stroke-width="1.6" '
        'stroke-dasharray="3 2"/>'
    ),
    "missed": M(
        '<circle cx="8" cy="8" r="6.2" fill="none" stroke="currentColor" stroke-width="1.6"/>'
        '<path d="M5.2 5.2l5.6 5.6M10.8 5.2l-5.6 5.6" stroke="currentColor" stroke-width="1.8" '
        'stroke-linecap="round"/>'
    ),
    "n/a": M('<path d="M4 8h8" stroke="currentColor" stroke-width="1.6"/>'),
    "up": M('<path d="M8 2l5 6H9.5v6h-3V8H3z" fill="currentColor"/>'),
    "down": M('<path d="M8 14l5-6H9.5V2h-3v6H3z" fill="currentColor"/>'),
    "flat": M('<path d="M2 6.5h9V3.5l4 4.5-4 4.5v-3H2z" fill="currentColor"/>'),
    "new": M('<circle cx="8" cy="8" r="4" fill="currentColor"/>'),
}
ICONS["overdue"] = ICONS["behind"]


def icon(name: str) -> Markup:
    """A 16×16 icon in the current text colour; decorative (the label carries the meaning)."""
    return M(
        '<svg class="icon" viewBox="0 0 16 16" width="16" height="16" aria-hidden="true" '
        'focusable="false" xmlns="http://www.w3.org/2000/svg">{}</svg>'
    ).format(ICONS[name])


def swatch(colour: str) -> Markup:
    return M(
        '<svg class="swatch" viewBox="0 0 12 12" width="12" height="12" aria-hidden="true" '
        'xmlns="http://www.w3.org/2000/svg"><rect width="12" height="12" rx="2" fill="{}"/></svg>'
    ).format(colour)
