"""Exports streamed to the reader from the read session, when its replica stops partway.

A streamed response has sent its status line and its first rows before the last row is
read, so a replica that stops in the middle cannot be hidden the way a read of a page is
(replicas.py runs that read again on the primary). What :func:`stream` does instead:

- **Nothing sent yet** (the replica failed before the first chunk): the export starts again
  on the primary; the reader never knows. :func:`primed` makes the first chunk inside the
  view, so this is also where the first rows' failure lands.
- **Rows sent, the export ordered by a unique key** (``resumable``: keyset pages, each chunk
  saying the key of its last row): it goes on on the primary with ``WHERE key > last``
  (``after``), without its header. The reader gets every row once; the rows after the
  switch are as current as the primary, a few seconds newer than those before.
- **Rows sent, no such key** (an OFFSET page or a query whose order is not unique): going on
  elsewhere could repeat or skip rows, and starting again would repeat the header and the
  rows sent. The stream is aborted: logged, counted
  (``cowin_kit_export_streams_interrupted_total``), and :class:`StreamAborted` raised, so
  the WSGI server drops the connection without the chunked body's last, empty chunk: an
  HTTP/1.1 client (a browser, curl, requests) reports an incomplete transfer instead of
  keeping a file that looks whole.

A failure of the primary itself after rows went out is aborted the same way (logged and
counted). While a stream runs, the read session does not switch to the primary on its own
(``ReadSession.retry_reads``): this module decides, since only it knows what was sent.

Flask-free: the producer takes a Session; views wrap the result in stream_with_context.
"""
from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from typing import Any

from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from cowin_kit import metrics
from cowin_kit.replicas import replica_failure

log = logging.getLogger("cowin_kit.streamed")

# produce(session, after, header): (chunk, key of its last row or None) pairs; ``after``:
# the key to go on after (None: from the first row); ``header``: write the header first.
Producer = Callable[[Session, Any, bool], Iterator[tuple[Any, Any]]]


class StreamAborted(RuntimeError):
    """A streamed export broken off after some of it was sent: the server must drop the
    connection (never end the body normally)."""


def _replica_gone(session: Session, exc: DBAPIError) -> str | None:
    """Why the read failed when it is the replica's doing ("down", "read"), else None."""
    if not getattr(session, "on_replica", False):
        return None
    return replica_failure(exc)


def stream(session: Session, produce: Producer, *, name: str,
           resumable: bool) -> Iterator[Any]:
    """The chunks of ``produce`` on ``session`` (a read session, maybe on a replica), carried
    on or broken off as the module's docstring says when its replica fails. ``name`` labels
    the log line and the metric (e.g. "audit_log")."""
    own_retries = getattr(session, "retry_reads", None)
    if own_retries is not None:
        session.retry_reads = False  # this stream decides (the module's docstring)
    sent, after = False, None
    try:
        while True:
            try:
                for chunk, key in produce(session, after, not sent):
                    sent = True
                    if key is not None:
                        after = key
                    yield chunk
                return
            except DBAPIError as exc:
                why = _replica_gone(session, exc)
                if why is not None:
                    # The router learns of it whatever becomes of this stream (other reads
                    # leave that replica); the failed transaction's connection is gone.
                    session.fall_back(exc, why)
                    session.rollback()
                if why is None or (sent and not resumable):
                    if sent:
                        _abort(name, exc, "its replica" if why else "the database")
                    raise
                outcome = "resumed" if sent else "restarted"
                log.warning("export %s: its read replica failed (%s) %s; %s on the primary",
                            name, type(exc.orig or exc).__name__,
                            "after rows were sent" if sent else "before anything was sent",
                            "going on after the last row sent" if sent else "starting again")
                metrics.export_stream(name, outcome)
    finally:
        if own_retries is not None:
            session.retry_reads = own_retries


def _abort(name: str, exc: BaseException, where: str) -> None:
    log.error("export %s: %s failed after rows were sent (%s); the transfer is broken off "
              "so the reader does not keep a partial file", name, where,
              type(getattr(exc, "orig", None) or exc).__name__)
    metrics.export_stream(name, "aborted")
    raise StreamAborted(f"export {name} broken off: {where} failed partway") from exc


def primed(chunks: Iterator[Any]) -> Iterator[Any]:
    """``chunks`` with its first chunk already made (in the view, before the response
    starts): a failure before any byte is answered as any failed request is, after the
    primary was tried."""
    try:
        first = next(chunks)
    except StopIteration:
        return iter(())
    return _then(first, chunks)


def _then(first, chunks: Iterator[Any]) -> Iterator[Any]:
    yield first
    yield from chunks  # closing this closes ``chunks`` (a reader gone: its session ends)


__all__ = ["Producer", "StreamAborted", "primed", "stream"]
