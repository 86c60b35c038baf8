"""Two to four queries side by side: the form, the page, its CSV and its JSON. Every query
is read under the limits /search honours (web/params.py)."""

from __future__ import annotations

import re

from flask import Blueprint, jsonify, render_template, request

from ..search.request import BadRequest, SearchRequest
from ..search.serialize import (comparison_columns, comparison_rows, csv_document,
                                summary_to_json)
from .charts import PALETTE, comparison_chart
from .files import download, slug, stamp
from .errors import as_json
from .handle import search_index
from .params import compared_requests, search_request

bp = Blueprint("compare", __name__)


def _compare():
    reqs = compared_requests()
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
        return search_request(params)
    except BadRequest:
        return SearchRequest()


@bp.route("/compare")
def compare():
    """Two to four queries side by side: one timeline, totals, top sources and topics."""
    queries = compared_queries()
    asked = [q for q in queries if q.strip()]
    if len(asked) < 2:  # nothing asked yet, or one query to compare with something
        return form(queries, note=f"Add a query to compare with “{asked[0]}”: each "
                             "line of the chart will be one query." if asked else None)
    first, summaries = _compare()
    chart = comparison_chart([(s.request.q, s.timeline) for s in summaries], first.scale)
    return render_template("compare.html", summaries=summaries, queries=queries, chart=chart,
                           error=None, note=None, req=SearchRequest(), options=_shared_options(),
                           palette=PALETTE, scale=first.scale, interval=first.interval)


@bp.route("/compare.csv")
def compare_csv():
    """The comparison's timelines as one table: a row per period, a column per query."""
    first, summaries = _compare()
    name = "-vs-".join(slug(s.request.q, 30) for s in summaries)
    return download(csv_document(comparison_columns(summaries), comparison_rows(summaries)),
                    "text/csv", f"searchapp-compare-{name}-{stamp()}.csv")


@bp.route("/api/compare")
def api_compare():
    first, summaries = _compare()
    return jsonify(interval=summaries[0].timeline.interval,
                   queries=[summary_to_json(s) for s in summaries])


@bp.errorhandler(BadRequest)
def _bad_request(exc):
    """The form keeps the queries asked, and says what is wrong; the CSV and JSON in JSON."""
    if request.endpoint == "compare.compare":
        return form(compared_queries(), str(exc), 400)
    return as_json(str(exc), 400)
