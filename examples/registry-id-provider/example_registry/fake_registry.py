"""A tiny fake national registry, for tests and demos only.

It speaks the protocol ``RegistryNationalId`` expects, answers from a dict of people held in
memory, and listens on 127.0.0.1 only (an ephemeral port unless one is given)::

    with FakeRegistry({"123456782": Person("Ana María Quispe", 1980)}) as registry:
        provider = RegistryNationalId({"EXAMPLE_REGISTRY_URL": registry.url})
        provider.verify("123456782", IdClaims("Ana Maria Quispe", 1980), timeout=2)

    registry.delay = 3        # answer only after 3 seconds (a slow registry)
    registry.fail_with = 500  # answer every request with this HTTP status
    registry.raw_answer = b"<html>"  # answer 200 with these bytes instead of the verdict

For a demo: ``python -m example_registry.fake_registry [--port 8765] [--delay 3]``.

``POST /v1/verify`` takes ``{"id_number": str, "name": str, "birth_year": int | null}`` and
answers ``{"result": "match" | "mismatch" | "not_found", "reference": "FAKE-000001"}``.
Names match ignoring case, accents and repeated spaces; a null birth year is not compared.
A request that is not that JSON gets 400, another path 404, another method 405.
"""
from __future__ import annotations

import argparse
import itertools
import json
import threading
import time
import unicodedata
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

HOST = "127.0.0.1"  # never another interface: this server holds (invented) personal data
MAX_REQUEST_BYTES = 64 * 1024


@dataclass(frozen=True)
class Person:
    name: str
    birth_year: int


#: Invented people with valid numbers, used when no people are given.
DEMO_PEOPLE: dict[str, Person] = {
    "123456782": Person("Ana María Quispe", 1980),
    "405128737": Person("Jon Example", 1955),
    "700112352": Person("Li Wei", 2001),
}


def fold(name: str) -> str:
    """How the fake registry compares names: no accents, no case, single spaces."""
    text = unicodedata.normalize("NFKD", name)
    text = "".join(c for c in text if not unicodedata.combining(c))
    return " ".join(text.casefold().split())


class FakeRegistry:
    """The fake registry server; a context manager that starts and stops it."""

    def __init__(self, people: dict[str, Person | tuple[str, int]] | None = None, *,
                 delay: float = 0.0, fail_with: int | None = None,
                 raw_answer: bytes | None = None, port: int = 0):
        source = DEMO_PEOPLE if people is None else people
        self.people = {number: p if isinstance(p, Person) else Person(*p)
                       for number, p in source.items()}
        self.delay = delay  # seconds to wait before answering
        self.fail_with = fail_with  # an HTTP status to answer every request with
        self.raw_answer = raw_answer  # bytes to answer with (status 200) instead of a verdict
        self.requests = 0  # requests received
        self.last_request: dict[str, Any] | None = None  # the last JSON body received
        self._port = port
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._references = itertools.count(1)

    # -- lifecycle -----------------------------------------------------------------------

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("the fake registry is not running")
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> FakeRegistry:
        if self._server is not None:
            return self
        self._stopping.clear()
        server = ThreadingHTTPServer((HOST, self._port), _Handler)
        server.daemon_threads = True
        server.registry = self  # type: ignore[attr-defined]
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="fake-registry", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is None:
            return
        self._stopping.set()  # wakes requests sleeping in a simulated delay
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = self._thread = None

    def __enter__(self) -> FakeRegistry:
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()

    def _count(self) -> None:
        with self._lock:
            self.requests += 1

    # -- the registry's logic ------------------------------------------------------------

    def answer(self, payload: Any) -> tuple[int, dict[str, Any]]:
        """(HTTP status, JSON answer) for one request body."""
        if not isinstance(payload, dict):
            return 400, {"error": "the body must be a JSON object"}
        number, name = payload.get("id_number"), payload.get("name")
        birth_year = payload.get("birth_year")
        if not isinstance(number, str) or not isinstance(name, str):
            return 400, {"error": "id_number and name must be strings"}
        if birth_year is not None and (not isinstance(birth_year, int)
                                       or isinstance(birth_year, bool)):
            return 400, {"error": "birth_year must be an integer or null"}
        reference = f"FAKE-{next(self._references):06d}"
        person = self.people.get(number)
        if person is None:
            result = "not_found"
        elif fold(name) != fold(person.name):
            result = "mismatch"
        elif birth_year is not None and birth_year != person.birth_year:
            result = "mismatch"
        else:
            result = "match"
        return 200, {"result": result, "reference": reference}


class _Handler(BaseHTTPRequestHandler):
    server_version = "FakeRegistry/0.1"

    def log_message(self, format, *args):  # noqa: A002 - the base class's signature
        pass  # quiet: tests check that nothing logs personal data

    def do_POST(self):
        registry: FakeRegistry = self.server.registry  # type: ignore[attr-defined]
        try:
            length = int(self.headers.get("Content-Length", ""))
        except ValueError:
            return self._send(411, {"error": "Content-Length required"})
        if not 0 <= length <= MAX_REQUEST_BYTES:
            return self._send(413, {"error": "request too large"})
        body = self.rfile.read(length)
        registry._count()
        if registry.delay and registry._stopping.wait(registry.delay):
            return  # stopping: drop the connection
        if registry.fail_with:
            return self._send(registry.fail_with, {"error": "simulated failure"})
        if registry.raw_answer is not None:
            return self._send_bytes(200, registry.raw_answer, "application/json")
        if self.path != "/v1/verify":
            return self._send(404, {"error": "no such endpoint"})
        try:
            payload = json.loads(body)
        except ValueError:
            return self._send(400, {"error": "the body is not JSON"})
        registry.last_request = payload
        with registry._lock:
            status, answer = registry.answer(payload)
        self._send(status, answer)

    def _method_not_allowed(self):
        self.server.registry._count()  # type: ignore[attr-defined]
        self._send(405, {"error": "use POST"})

    do_GET = do_PUT = do_DELETE = do_PATCH = _method_not_allowed

    def _send(self, status: int, answer: dict[str, Any]) -> None:
        self._send_bytes(status, json.dumps(answer).encode("utf-8"), "application/json")

    def _send_bytes(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m example_registry.fake_registry",
        description="Run the fake Example Republic registry on 127.0.0.1 for a demo.")
    parser.add_argument("--port", type=int, default=0,
                        help="port to listen on (default: any free port)")
    parser.add_argument("--delay", type=float, default=0.0,
                        help="seconds to wait before each answer (simulates a slow registry)")
    parser.add_argument("--fail-with", type=int, default=None, metavar="STATUS",
                        help="answer every request with this HTTP status, e.g. 500")
    args = parser.parse_args(argv)
    with FakeRegistry(delay=args.delay, fail_with=args.fail_with, port=args.port) as registry:
        print(f"Fake Example Republic registry listening on {registry.url} (127.0.0.1 only).")
        print(f"Point the provider at it:  export EXAMPLE_REGISTRY_URL={registry.url}")
        print("People it knows (invented):")
        for number, person in registry.people.items():
            print(f"  {number}  {person.name}, born {person.birth_year}")
        print("Ctrl-C stops it.", flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            print()


if __name__ == "__main__":
    main()
