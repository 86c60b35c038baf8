"""The index: our schema and its analysers, the index folder (which build is live, its format,
its one writer), the manifest of indexed files, and the indexer that brings it up to date
with the seeds folder, once or watching. Reads seeds through `ingest`; knows no searching.
"""
