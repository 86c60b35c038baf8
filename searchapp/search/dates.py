"""The dates of a search: From and To as asked, `year:` and `date:` written in the query, the
span they leave together, and, when they leave none, which of them contradict.

The query keeps its date words as written (request.py puts them back in the URL), so the
page, a shared link and the box being edited read them the same way; a date word still
being typed is left out with a hint instead of failing.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta, timezone


class BadRequest(ValueError):
    """A parameter a request cannot be answered with; the message says which and why."""


def parse_date(text: str, name: str, end: bool) -> date | None:
    """YYYY-MM-DD, or YYYY-MM / YYYY meaning the whole month or year."""
    if not text:
        return None
    try:
        if re.fullmatch(r"\d{4}", text, re.ASCII):
            year = int(text)
            if not 1 <= year <= 9998:
                raise ValueError
            return date(year, 12, 31) if end else date(year, 1, 1)
        if re.fullmatch(r"\d{4}-\d{1,2}", text, re.ASCII):
            year, month = map(int, text.split("-"))
            if not 1 <= year <= 9998:
                raise ValueError
            first = date(year, month, 1)
            if not end:
                return first
            return (first.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
        day = date.fromisoformat(text)
        if not 1 <= day.year <= 9998:
            raise ValueError
        return day
    except (ValueError, OverflowError):
        raise BadRequest(f"{name} must be a date like 2021-08-23 (or 2021-08, 2021), "
                         f"not {text!r}") from None


_DAY = r"\d{4}(?:-\d{1,2}){0,2}"
_DATE_TOKEN = re.compile(rf"(?<!\S)(?:year|date):({_DAY})(?:\.\.({_DAY}))?(?!\S)",
                         re.ASCII | re.IGNORECASE)


def dates_in_query(q: str) -> tuple[str, tuple[date, date] | None]:
    """`year:1987`, `date:1987-03` and `date:1987-03..1987-06` in the query are a date
    filter: taken out of the text, with the span they give. Several of them span from the
    earliest to the latest (`year:1987 year:1990` is 1987 to 1990), and a range written
    backwards is read forwards."""
    spans = []
    for m in _DATE_TOKEN.finditer(q):
        ends = sorted([m.group(1), m.group(2) or m.group(1)], key=lambda d: parse_date(d, "date", False))
        spans.append((parse_date(ends[0], "date", end=False), parse_date(ends[1], "date", end=True)))
    if not spans:
        return q, None
    rest = re.sub(r"\s{2,}", " ", _DATE_TOKEN.sub(" ", q)).lstrip()
    return ("" if not rest.strip() else rest), (min(s for s, _ in spans), max(e for _, e in spans))


_UNFINISHED_DATE = re.compile(r"(?<!\S)(year|date):(\S*)$", re.IGNORECASE)


def unfinished_date_word(q: str) -> tuple[str, str]:
    """While typing, a `year:`/`date:` still being written (`year:201`, `date:2018-0`) is left
    out of the search, with a quiet hint, instead of being searched as words or refused: the
    results stay those of the rest until the date is whole. A finished search reads it as
    written (and says what is wrong with it)."""
    m = _UNFINISHED_DATE.search(q) if q and not q[-1].isspace() else None
    if not m:
        return q, ""
    try:
        if _DATE_TOKEN.fullmatch(m.group(0)) and dates_in_query(m.group(0))[1]:
            return q, ""  # whole already
    except BadRequest:
        pass
    rest = q[:m.start()]  # its space kept: the word before it is finished (`trump `)
    name = m.group(1).lower()
    return rest, (f"{name}: waits for a whole date: "
                  + ("a year of four digits (1987)." if name == "year" else
                     "a year, a month or a day (1987, 1987-03, 1987-03-02), or two of them "
                     "(1987-03..1987-06)."))


def narrowed(low: date | None, high: date | None, span: tuple[date, date] | None
              ) -> tuple[date | None, date | None]:
    """From and To narrowed by the query's dates (their intersection: empty, low > high,
    when they do not overlap)."""
    if span is None:
        return low, high
    return (max(low, span[0]) if low else span[0]), (min(high, span[1]) if high else span[1])


def conflict_of(low: date | None, high: date | None, span: tuple[date, date] | None,
              years: list[str]) -> str:
    """Which of the date filters contradict each other, in words ("" when they do not)."""
    start, end = narrowed(low, high, span)
    if span is not None and start and end and start > end:
        return (f"the query's dates ({_said(*span)}) and From–To ({_said(low, high)}) do "
                "not overlap")
    if years and (start or end):
        inside = [y for y in years if y.isdigit() and len(y) == 4
                  and (not end or date(int(y), 1, 1) <= end)
                  and (not start or date(int(y), 12, 31) >= start)]
        if not inside:
            which = "the query's dates" if span is not None and (low, high) == (None, None) \
                else "the dates"
            return (f"the year filter ({', '.join(years)}) lies outside {which} "
                    f"({_said(start, end)})")
    return ""


def _said(low: date | None, high: date | None) -> str:
    return f"{low or '…'} to {high or '…'}"


def epoch(day: date) -> int:
    return int(datetime.combine(day, time(), tzinfo=timezone.utc).timestamp())
