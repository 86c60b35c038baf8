"""Searching: a request and the user's query in, one result object out.

`SearchIndex` (searcher.py) keeps a snapshot of the live index open and shared; `answer.py`
computes one search from a snapshot and a `SearchRequest` (request.py), with the query
language of parser.py, facet counts, timeline, distinctive words, suggestions and
highlights each in its own module; serialize.py is the JSON contract. Nothing here knows
Flask; nothing here reads Whoosh's private parts (the engine package does).
"""

from .request import BadRequest, SearchRequest
from .searcher import SearchIndex

__all__ = ["BadRequest", "SearchIndex", "SearchRequest"]
