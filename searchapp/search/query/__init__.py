"""The query language, whole: what a user may write, and what it means in this index.

`language.py` reads the user's text into a Whoosh query tree (words, phrases, OR/NOT,
field:value, prefix*, fuzzy~, =word, the typed last word; lenient, never raising);
`expansion.py` resolves that tree against one snapshot (every prefix, wildcard and fuzzy
term expanded once into the index terms it stands for, a pasted text reduced to its telling
words). The analysers it shares with the index are in `index/analysis.py` (one cut of words
for both sides); the Whoosh parser hooks it plugs in are fenced in `engine/syntax.py` and
`engine/expand.py`; the fields a bare word is looked for in are the ranking model's
(`engine/ranking.py`).
"""

from .expansion import parse
from .language import (ParsedQuery, is_passage, is_pasted_text, parse_user_query,
                       query_schema, query_words, typed_last_word)

__all__ = ["ParsedQuery", "is_passage", "is_pasted_text", "parse", "parse_user_query",
           "query_schema", "query_words", "typed_last_word"]
