"""Searching: a request and the user's query in, one result object out.

`SearchIndex` (searcher.py) is the facade over the snapshots the reader package keeps open;
`answer.py` executes one search from a snapshot and a `SearchRequest` (request.py): the
query language of query/ (read by language.py, expanded by expansion.py), matched by matching.py, counted by
facets.py, on a timeline (timeline.py), with distinctive words, suggestions and highlights
each in its own module, and a page of it made by pages.py; serialize.py is the JSON
contract. Nothing here knows Flask; nothing here reads Whoosh's private parts (the engine
package does), and the index is reached only through the reader package.
"""

from .request import BadRequest, SearchRequest
from .searcher import SearchIndex

__all__ = ["BadRequest", "SearchIndex", "SearchRequest"]
