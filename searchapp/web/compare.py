"""Two to four queries side by side: the form, the page, its CSV and its JSON."""

from __future__ import annotations

import csv
import io
import re
from urllib.parse import urlencode

from flask import current_app, jsonify, render_template, request, url_for

from ..search.request import BadRequest, SearchRequest, compare_requests
from ..search.serialize import summary_to_json
from . import charts, search_index
from .downloads import _download, slug, stamp
from .views import bp

def _compare():
    params = {k: request.args.getlist(k) for k in request.args}
    reqs = compare_requests(params, max_query_length=current_app.config["SEARCHAPP"].max_query_length)
    first = reqs[0]
    return first, search_index().compare(reqs, first.interval or None)


def compared_queries() -> list[str]:
    params = {k: request.args.getlist(k) for k in request.args}
    return [q for k in sorted(params) if k == "q" or re.fullmatch(r"q[1-4]", k) for q in params[k]]


def form(queries: list[str], error: str | None = None, status: int = 200,
                  note: str | None = None):
    return render_template("compare.html", summaries=None, queries=queries, error=error,
                           note=note, req=SearchRequest(), options=_shared_options()), status


def _shared_options() -> SearchRequest:
    """The filters, dates and chart settings every compared query shares, for the form."""
    params = {k: request.args.getlist(k) for k in request.args
              if k != "q" and not re.fullmatch(r"[a-z_]+\d", k)}
    try:
        return SearchRequest.from_params(params)
    except BadRequest:
        return SearchRequest()


def compare_url(queries: list[str], options: SearchRequest, **changes) -> str:
    pairs = [("q", q) for q in queries if q.strip()] + options.params(q="", **changes)
    return url_for("search.compare") + "?" + urlencode(pairs)


@bp.route("/compare")
def compare():
    """Two to four queries side by side: one timeline, totals, top sources and topics."""
    queries = compared_queries()
    asked = [q for q in queries if q.strip()]
    if len(asked) < 2:  # nothing asked yet, or one query to compare with something
        return form(queries, note=f"Add a query to compare with “{asked[0]}”: each "
                             "line of the chart will be one query." if asked else None)
    first, summaries = _compare()
    chart = charts.comparison_chart([(s.request.q, s.timeline) for s in summaries], first.scale)
    return render_template("compare.html", summaries=summaries, queries=queries, chart=chart,
                           error=None, note=None, req=SearchRequest(), options=_shared_options(),
                           palette=charts.PALETTE, scale=first.scale, interval=first.interval)


@bp.route("/compare.csv")
def compare_csv():
    """The comparison's timelines as one table: a row per period, a column per query."""
    first, summaries = _compare()
    buffer = io.StringIO()
    buffer.write("\ufeff")
    writer = csv.writer(buffer)
    writer.writerow(["start", "end"] + [f"{s.request.q} ({what})" for s in summaries
                                        for what in ("count", "share")])
    for rows in zip(*(s.timeline.buckets for s in summaries)):
        writer.writerow([rows[0].start.date().isoformat(), rows[0].last_day.date().isoformat()]
                        + [v for b in rows for v in (b.count, f"{b.share:.6f}")])
    name = "-vs-".join(slug(s.request.q, 30) for s in summaries)
    return _download(buffer.getvalue(), "text/csv",
                     f"searchapp-compare-{name}-{stamp()}.csv")


@bp.route("/api/compare")
def api_compare():
    first, summaries = _compare()
    return jsonify(interval=summaries[0].timeline.interval,
                   queries=[summary_to_json(s) for s in summaries])
