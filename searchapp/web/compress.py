"""Gzip for the text the site sends (pages, fragments, JSON, CSV, feeds, its own scripts and
styles), when the client says it takes it (`Accept-Encoding`), and streamed responses
compressed piece by piece, so an export or a batch still arrives as it is made.

Our own after_request hook rather than flask-compress: that library does not gzip a streamed
response (it offers deflate, brotli and zstd there) and does not flush after each piece, so
a batch's rows would wait in the compressor until tens of kilobytes had gathered; it also
needs brotli installed. This is zlib from the standard library and a flush per piece.
"""

from __future__ import annotations

import zlib
from typing import Iterable, Iterator

from flask import request

# Text, which compresses to a fifth or less. Images other than SVG, archives and fonts in
# WOFF2 are compressed already: never listed, so never compressed twice.
COMPRESSIBLE = frozenset({
    "text/html", "text/css", "text/csv", "text/plain", "text/javascript",
    "application/javascript", "application/json", "application/x-ndjson",
    "application/atom+xml", "application/xml", "image/svg+xml",
})
MIN_SIZE = 1024  # below this, the gzip header and the CPU cost more than they save
# zlib's default. The news front page (69,034 bytes): 13,659 at 6 in 0.9 ms, 13,532 at 9 in
# 1.2 ms, 15,487 at 1 in 0.4 ms: a keystroke's fragment pays under a millisecond.
LEVEL = 6
GZIP_WBITS = 16 + zlib.MAX_WBITS  # a gzip wrapper, as `Content-Encoding: gzip` means


def compress(response):
    """The app's last after_request hook: the response gzipped when the client takes gzip
    and it is text worth compressing; `Vary: Accept-Encoding` on every response whose form
    depends on that header, so no cache hands a gzipped body to a client that did not ask."""
    if response.status_code == 304:
        return _not_modified(response)
    if response.mimetype not in COMPRESSIBLE or response.status_code in (204, 206) \
            or response.status_code < 200:
        return response
    response.vary.add("Accept-Encoding")
    if "Content-Encoding" in response.headers or not takes_gzip():
        return response
    size = response.content_length
    if size is not None and size < MIN_SIZE:
        return response
    response.direct_passthrough = False
    if size is None and response.is_streamed:  # made as it is sent: an export, a batch
        body = response.response
        response.response = gzipped_pieces(response.iter_encoded(), body)
        response.headers.pop("Content-Length", None)
    else:  # made whole, or a static file of a known size (they are small): read at once
        etag, weak = response.get_etag()
        packed = _STATIC.get(etag) if etag and not weak else None
        if packed is None:
            data = response.get_data()
            if len(data) < MIN_SIZE:
                return response
            packed = gzip_bytes(data)
            if etag and not weak and request.path.startswith("/static/"):
                _remember(etag, packed)
        response.set_data(packed)
    response.headers["Content-Encoding"] = "gzip"
    response.headers.pop("Accept-Ranges", None)  # ranges would be of the gzipped bytes
    etag, weak = response.get_etag()
    if etag and not weak:
        # Another encoding of the same file: a weak validator, as nginx makes it, so the
        # browser's `If-None-Match` still earns a 304 (weak comparison), and no range request
        # is ever made against it.
        response.set_etag(etag, weak=True)
    return response


# A static file's gzipped bytes by its strong ETag (which Flask makes from its time and size):
# the same script was compressed anew for every browser that loaded it. Our few files only.
_STATIC: dict[str, bytes] = {}
_STATIC_FILES = 32


def _remember(etag: str, packed: bytes) -> None:
    if len(_STATIC) >= _STATIC_FILES:
        _STATIC.pop(next(iter(_STATIC)))
    _STATIC[etag] = packed


def _not_modified(response):
    """A 304 says what the 200 would have: to a client taking gzip, the weak validator the
    gzipped 200 carried, and `Vary: Accept-Encoding` for the caches between."""
    etag, weak = response.get_etag()
    if etag and (response.mimetype in COMPRESSIBLE or not response.mimetype):
        response.vary.add("Accept-Encoding")
        if not weak and takes_gzip():
            response.set_etag(etag, weak=True)
    return response


def takes_gzip() -> bool:
    """The request's `Accept-Encoding` takes gzip (`gzip`, `gzip;q=0.5`, `*`; not `gzip;q=0`)."""
    return request.accept_encodings.quality("gzip") > 0


def gzip_bytes(data: bytes) -> bytes:
    packer = zlib.compressobj(LEVEL, zlib.DEFLATED, GZIP_WBITS)
    return packer.compress(data) + packer.flush()


def gzipped_pieces(pieces: Iterable[bytes], body) -> Iterator[bytes]:
    """Each piece compressed and flushed (`Z_SYNC_FLUSH`, a few bytes each), so the client
    can read every piece the moment it is sent; the stream ended properly at the end, and
    the original body closed however the response ends (a client gone, an error)."""
    packer = zlib.compressobj(LEVEL, zlib.DEFLATED, GZIP_WBITS)
    try:
        for piece in pieces:
            if piece:
                yield packer.compress(piece) + packer.flush(zlib.Z_SYNC_FLUSH)
        yield packer.flush()
    finally:
        close = getattr(body, "close", None)
        if close is not None:
            close()
