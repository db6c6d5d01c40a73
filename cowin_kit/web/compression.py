"""Compressed answers: gzip for text (pages, JSON, CSS, scripts) when the client accepts it.

The portal's search page is some 90 kB of HTML; gzip makes it a few kB, which is the
difference between a page a phone on 3G loads in a second and one it does not. A CDN or
nginx in front may compress instead (docs/operators.md); answers already compressed here are
passed through by both.

Rules, the same everywhere (this hook for Flask's answers; api.public's cached searches and
FastAnswers, which keep the compressed bytes once per cached answer):
- only text types and only from MIN_SIZE bytes (below it, headers cost more than gzip saves);
- never a streamed answer (CSV exports, generated downloads), a 304, a partial (206) or an
  answer that already has a Content-Encoding; files (static CSS and JS) are read whole, and
  their compressed bytes kept per ETag;
- ``Vary: Accept-Encoding`` on every answer that could have been compressed, added to the
  Vary values already there (Accept-Language, Cookie);
- the compressed body gets its own ETag (the identity one plus ``-gzip``, weak if that one
  was weak): a strong ETag names one sequence of bytes, and a cache must never take one body
  for the other. If-None-Match with that ETag gets a 304.

gzip only: every browser and HTTP client accepts it; brotli would save some 15 % more on HTML
but needs a compiled dependency, and a CDN in front can add it.
"""
from __future__ import annotations

import functools
import gzip
import threading

from flask import Response, current_app, request

MIN_SIZE = 500  # bytes
LEVEL = 6  # zlib's default: most of level 9's saving for a third of its time
TYPES = frozenset({"text/html", "application/json", "text/css", "text/javascript",
                   "application/javascript", "image/svg+xml"})
SUFFIX = "-gzip"  # added to an ETag for the gzip body
MAX_FILE = 1 << 20  # files beyond this are sent as they are (none of the kit's are)
_FILES = "cowin_kit.compressed_files"  # app.extensions: ETag -> compressed file
MAX_FILES = 256
_files_lock = threading.Lock()


@functools.lru_cache(maxsize=256)  # a few distinct headers: one per kind of browser
def accepts_gzip(accept_encoding: str | None) -> bool:
    """Whether an Accept-Encoding header accepts gzip (RFC 9110 12.5.3): named with a
    quality above 0, or not named and ``*`` is."""
    named = star = None
    for item in (accept_encoding or "").split(","):
        name, _, params = item.partition(";")
        name = name.strip().lower()
        quality = 1.0
        for param in params.split(";"):
            key, _, value = param.partition("=")
            if key.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if name in ("gzip", "x-gzip"):
            named = quality > 0
        elif name == "*":
            star = quality > 0
    return named if named is not None else bool(star)


def compressible(size: int) -> bool:
    return size >= MIN_SIZE


def gzip_bytes(data: bytes) -> bytes:
    # mtime=0: the same body always gives the same bytes, in every process, as its ETag says.
    return gzip.compress(data, compresslevel=LEVEL, mtime=0)


def gzip_tag(tag: str) -> str:
    """The ETag (without quotes) of the gzip body of an answer whose ETag is ``tag``."""
    return tag + SUFFIX


def compress_response(response: Response) -> Response:
    """after_request hook (registered first, so it runs after every other): gzip the answer
    when the rules above allow and the client accepts it."""
    headers = response.headers
    if (response.status_code != 200 or response.mimetype not in TYPES
            or "Content-Encoding" in headers or "Content-Range" in headers):
        return response
    if response.direct_passthrough:  # a file (send_file): read it whole, or leave it
        return _compress_file(response)
    if response.is_streamed:
        return response
    data = response.get_data()
    if not compressible(len(data)):
        return response
    response.vary.add("Accept-Encoding")
    if not accepts_gzip(request.headers.get("Accept-Encoding")):
        return response
    return _encoded(response, gzip_bytes(data))


def _compress_file(response: Response) -> Response:
    tag, weak = response.get_etag()
    size = response.content_length
    if tag is None or size is None or not compressible(size) or size > MAX_FILE:
        return response
    response.vary.add("Accept-Encoding")
    if not accepts_gzip(request.headers.get("Accept-Encoding")):
        return response
    files = current_app.extensions.setdefault(_FILES, {})
    body = files.get((tag, weak))
    if body is None:
        body = gzip_bytes(b"".join(response.response))
        with _files_lock:
            if len(files) >= MAX_FILES:
                files.clear()
            files[tag, weak] = body
    close = getattr(response.response, "close", None)
    if close is not None:
        close()  # the file (the response's own on-close calls still run once, when sent)
    response.direct_passthrough = False
    response.headers.pop("Accept-Ranges", None)  # ranges are of the identity body only
    return _encoded(response, body)


def _encoded(response: Response, body: bytes) -> Response:
    """``response`` with the gzip ``body``, its ETag, and a 304 when the client has it."""
    response.set_data(body)  # and Content-Length
    response.headers["Content-Encoding"] = "gzip"
    tag, weak = response.get_etag()
    if tag is None:
        return response
    response.set_etag(gzip_tag(tag), weak)
    if request.method in ("GET", "HEAD") and request.if_none_match.contains_weak(
            gzip_tag(tag)):  # If-None-Match compares weakly (RFC 9110 13.1.2)
        response.status_code = 304  # werkzeug sends no body and drops its headers
    return response
