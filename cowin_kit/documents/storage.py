"""Rendered files kept once and served as stored bytes.

Building a PDF costs tens of milliseconds, and a document changes only when what it shows
does; so each is stored under a *content key*, a digest of everything it depends on, and
``fetch`` builds it only when that key has nothing stored. Two requests for the same missing
key at once build it once (the second waits for the first).

Two stores, one interface: ``MemoryStore`` (an LRU in the process; nothing reaches the disk,
what appointment slips use) and ``DirectoryStore`` (files in a folder, e.g. under the
instance folder, shared by the workers of a machine and kept across restarts; for documents
that are downloaded often and change rarely).

>>> store = MemoryStore(size=2)
>>> key = content_key("slip", "0b7e1c2a", "en", "booked")
>>> store.fetch(key, lambda: b"%PDF-1.4 ...")
b'%PDF-1.4 ...'
>>> store.fetch(key, lambda: b"never built")
b'%PDF-1.4 ...'
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
import threading
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path

KEY = re.compile(r"[a-z0-9_-]{1,40}-[0-9a-f]{64}")


def content_key(kind: str, *parts) -> str:
    """``kind`` and a SHA-256 of ``parts`` (anything JSON can write, dates as ISO text): the
    same parts give the same key, in any process, and no part can be read back from it.

    >>> content_key("slip", "a", 1) == content_key("slip", "a", 1)
    True
    >>> content_key("slip", "a", 1) == content_key("slip", "a", "1")
    False
    >>> content_key("slip", "a")[:5]
    'slip-'
    """
    text = json.dumps(parts, ensure_ascii=False, separators=(",", ":"), default=str)
    return f"{kind}-{hashlib.sha256(text.encode('utf-8')).hexdigest()}"


class Store:
    """Bytes by content key. Subclasses say where they are kept (``get``, ``put``,
    ``clear``); ``fetch`` is the one way callers use a store."""

    def __init__(self):
        self._building: dict[str, threading.Lock] = {}
        self._building_lock = threading.Lock()

    def get(self, key: str) -> bytes | None:
        raise NotImplementedError

    def put(self, key: str, data: bytes) -> None:
        raise NotImplementedError

    def clear(self) -> None:
        raise NotImplementedError

    def fetch(self, key: str, build: Callable[[], bytes]) -> bytes:
        """The bytes stored under ``key``; else ``build()``'s, stored, then returned."""
        data = self.get(key)
        if data is not None:
            return data
        with self._building_lock:
            lock = self._building.setdefault(key, threading.Lock())
        with lock:
            try:
                data = self.get(key)  # built by another thread while this one waited
                if data is None:
                    data = build()
                    self.put(key, data)
            finally:
                with self._building_lock:
                    self._building.pop(key, None)
        return data


class MemoryStore(Store):
    """The ``size`` most recently used files, in this process's memory (thread-safe)."""

    def __init__(self, size: int = 256):
        super().__init__()
        self.size = size
        self._items: OrderedDict[str, bytes] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str) -> bytes | None:
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        return None

    def put(self, key: str, data: bytes) -> None:
        with self._lock:
            self._items[key] = data
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()

    def __len__(self) -> int:
        return len(self._items)


class DirectoryStore(Store):
    """Files in ``folder`` named by their key, readable by their owner only (documents hold
    personal data). Written to a temporary file and renamed, so a reader in another worker
    never sees half a file. Keys must come from ``content_key``."""

    def __init__(self, folder: str | os.PathLike):
        super().__init__()
        self.folder = Path(folder)

    def _path(self, key: str) -> Path:
        if not KEY.fullmatch(key):
            raise ValueError(f"not a content key: {key!r}")
        return self.folder / key

    def get(self, key: str) -> bytes | None:
        try:
            return self._path(key).read_bytes()
        except FileNotFoundError:
            return None

    def stored_path(self, key: str) -> Path | None:
        """The file holding ``key``'s bytes, None when nothing is stored: a web server
        sends it as is, without reading it into memory first."""
        path = self._path(key)
        return path if path.is_file() else None

    def put(self, key: str, data: bytes) -> None:
        path = self._path(key)
        self.folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(dir=self.folder, prefix=".part-")  # mode 0600
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise

    def clear(self) -> None:
        for path in self.folder.glob("*"):
            if KEY.fullmatch(path.name) or path.name.startswith(".part-"):
                path.unlink(missing_ok=True)
