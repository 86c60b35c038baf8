"""Geometry of the server-rendered SVG charts (no JavaScript chart library: they must render
with scripts off, and be downloadable as files).

Only presentation attributes are used (no inline CSS), so the charts render under the
site's Content-Security-Policy and in a standalone .svg file alike.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from markupsafe import Markup, escape

from ..search.timeline import Bucket, Timeline

WIDTH, HEIGHT = 900, 200
LEFT, RIGHT, TOP, BOTTOM = 48, 12, 12, 28
MAX_BAR = 48
PALETTE = ("#0b5cad", "#c2410c", "#15803d", "#7e22ce")  # distinguishable, also in greyscale order


@dataclass
class Bar:
    x: float
    y: float
    width: float
    height: float
    href: str
    title: str
    start: str
    end: str
    row: tuple[str, str, str, str] = ("", "", "", "")  # period, matching, all, share: as shown


@dataclass
class Series:
    label: str
    color: str
    points: str  # polyline "x,y x,y"
    dots: list[tuple[float, float, str]]  # x, y, title


@dataclass
class Chart:
    title: str
    description: str
    scale: str
    interval: str
    width: int = WIDTH
    height: int = HEIGHT
    bars: list[Bar] = field(default_factory=list)
    series: list[Series] = field(default_factory=list)
    x_ticks: list[tuple[float, str, str]] = field(default_factory=list)
    y_ticks: list[tuple[float, str]] = field(default_factory=list)
    baseline_y: float = HEIGHT - BOTTOM
    empty: bool = False
    counted: str = "records"  # what the bars and the baseline count: records, or stories

    def bars_svg(self) -> Markup:
        """The bars as SVG: all of them drawn as one path, and over each a link the plot's
        full height (named by its title), so a bar one pixel high is still easy to hit.
        Made here rather than looped in the template: a chart can have hundreds of bars,
        and this is many times faster to render and a third of the bytes on every keystroke."""
        top = self.baseline_y - TOP
        drawn = " ".join(f"M{b.x} {b.y}h{b.width}v{b.height}h-{b.width}z"
                         for b in self.bars if b.height > 0)
        # A period with no records at all is not a period of no attention: a grey tick.
        void = " ".join(f"M{b.x} {self.baseline_y - 3}h{b.width}v3h-{b.width}z"
                        for b in self.bars if b.row[2] == "0")
        # Periods with no matching record get no link: narrowing to them would find nothing.
        found = [b for b in self.bars if b.row[1] != "0"]
        links = "".join(
            f'\n  <a href="{escape(b.href)}" class="bar" data-start="{b.start}" '
            f'data-end="{b.end}" data-key="bar:{b.start}" tabindex="{0 if b is found[-1] else -1}">'
            f'<title>{escape(b.title)}</title><rect x="{b.x}" y="{TOP}" width="{b.width}" '
            f'height="{top}" fill-opacity="0"/></a>'
            for b in found)
        return Markup((f'\n  <path d="{drawn}" fill="#0b5cad"/>' if drawn else "")
                      + (f'\n  <path d="{void}" fill="#b8bfc6"/>' if void else "") + links)

    def rows_html(self) -> Markup:
        """The bars' numbers as table rows (the chart's accessible twin), made as bars_svg is:
        the periods with matching records (the CSV download has every period)."""
        return Markup("".join(
            f"\n<tr><th scope=\"row\">{escape(b.row[0])}</th><td>{b.row[1]}</td>"
            f"<td>{b.row[2]}</td><td>{b.row[3]}</td></tr>" for b in self.bars if b.row[1] != "0"))


def _value(bucket: Bucket, scale: str) -> float:
    return bucket.share if scale == "share" else bucket.count


def _fmt(value: float, scale: str) -> str:
    if scale == "share":
        return f"{value * 100:.1f}%" if value < 0.1 else f"{value * 100:.0f}%"
    return f"{value:,.0f}"


def _axes(chart: Chart, buckets: tuple[Bucket, ...], top: float, scale: str) -> tuple[float, float]:
    plot_w = WIDTH - LEFT - RIGHT
    plot_h = HEIGHT - TOP - BOTTOM
    slot = plot_w / max(1, len(buckets))
    for fraction in (0.5, 1.0):
        value = top * fraction
        if scale == "count" and value != int(value):
            continue  # no "0.5 records" (shown as a misleading "0")
        chart.y_ticks.append((HEIGHT - BOTTOM - plot_h * fraction, _fmt(value, scale)))
    labels = min(len(buckets), 6)
    if labels:
        step = max(1, (len(buckets) - 1) // max(1, labels - 1)) if labels > 1 else 1
        ticks = list(range(0, len(buckets), step))
        for i in ticks:
            # The outermost labels hang inwards so they are not cut off at the edges.
            anchor = "start" if i == 0 and len(ticks) > 1 else \
                "end" if i == ticks[-1] and len(ticks) > 1 else "middle"
            x = LEFT + slot * i if anchor == "start" else \
                LEFT + slot * (i + 1) if anchor == "end" else LEFT + slot * (i + 0.5)
            chart.x_ticks.append((round(x, 2), buckets[i].label(chart.interval)
                                  .removeprefix("week of "), anchor))
    return slot, plot_h


def attention_chart(timeline: Timeline, scale: str, link: Callable[[Bucket], str],
                    counted: str = "records") -> Chart:
    """Bars, one per period, each a link that narrows the search to that period; `counted`
    says what the bars and the baseline count (records, or stories)."""
    buckets = timeline.buckets
    what = f"matching {counted}"
    unit = f"share of all {counted}" if scale == "share" else what
    chart = Chart(title=f"{what.capitalize()} per {timeline.interval}", description="",
                  scale=scale, interval=timeline.interval, empty=not buckets, counted=counted)
    if not buckets:
        chart.description = f"No dated {counted} match."
        return chart
    top = max(_value(b, scale) for b in buckets) or 1
    slot, plot_h = _axes(chart, buckets, top, scale)
    gap = 1 if slot > 4 else 0
    width = min(max(slot - gap, 0.5), MAX_BAR)  # a few periods: narrow bars, centred
    for i, b in enumerate(buckets):
        height = plot_h * _value(b, scale) / top
        label = b.label(timeline.interval)
        chart.bars.append(Bar(
            x=round(LEFT + slot * i + (slot - width) / 2, 2), y=round(HEIGHT - BOTTOM - height, 2),
            width=round(width, 2), height=round(height, 2), href=link(b),
            title=f"{label}: {b.count:,} of {b.baseline:,} {counted} ({b.share * 100:.1f}%)"
            if b.baseline else f"{label}: no {counted} at all in this period",
            start=b.start.date().isoformat(), end=b.last_day.date().isoformat(),
            row=(label, f"{b.count:,}", f"{b.baseline:,}", f"{b.share * 100:.1f}%")))
    peak = timeline.peak
    chart.description = (
        f"{unit.capitalize()} per {timeline.interval} from {buckets[0].start:%Y-%m-%d} to "
        f"{buckets[-1].last_day:%Y-%m-%d}: {timeline.total:,} in all; peak "
        f"{peak.count:,} in {peak.label(timeline.interval)}.")
    return chart


def comparison_chart(timelines: list[tuple[str, Timeline]], scale: str) -> Chart:
    """One line per query on a shared axis."""
    first = next((t for _, t in timelines if t.buckets), None)
    chart = Chart(title="Matching records per " + (first.interval if first else "period"),
                  description="", scale=scale, interval=first.interval if first else "day",
                  empty=first is None)
    if first is None:
        chart.description = "No dated records match any of the queries."
        return chart
    top = max((_value(b, scale) for _, t in timelines for b in t.buckets), default=0) or 1
    slot, plot_h = _axes(chart, first.buckets, top, scale)
    for n, (label, line) in enumerate(timelines):
        coords = [(round(LEFT + slot * (i + 0.5), 2),
                   round(HEIGHT - BOTTOM - plot_h * _value(b, scale) / top, 2), b)
                  for i, b in enumerate(line.buckets)]
        chart.series.append(Series(
            label=label, color=PALETTE[n % len(PALETTE)],
            points=" ".join(f"{x},{y}" for x, y, _ in coords),
            dots=[(x, y, f"{label} · {b.label(line.interval)}: {_fmt(_value(b, scale), scale)}")
                  for x, y, b in coords]))
    chart.description = "; ".join(f"{label}: {t.total:,} dated records" for label, t in timelines)
    return chart
