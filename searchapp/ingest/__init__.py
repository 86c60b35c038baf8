"""Seed files in, record drafts out: reading, cleaning and merging what seed files say.

The first stage of the one-way flow (ingest -> engine -> index -> search -> web). Nothing
here knows about Whoosh, the index or the web.
"""
