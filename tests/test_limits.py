"""Limits that hold across workers: what an attacker meets is the documented number in total,
whatever the number of processes and whichever endpoint sends the login codes."""
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest

from cowin_kit.accounts.otp import OtpThrottled
from cowin_kit.api.errors import answer
from cowin_kit.app import create_app
from cowin_kit.config import ConfigError

from helpers import redis_or_skip

# The API answers login throttling as Co-WIN did: 403, with Retry-After (api/cowin_codes.py).
API_THROTTLED = 403

# --- one process: every way of sending a code counts together ------------------------------

@pytest.mark.parametrize("cowin_kit_config", [{"OTP_RESEND_SECONDS": 0,
                                               "WTF_CSRF_ENABLED": False}])
def test_otp_sends_from_one_address_are_counted_across_every_endpoint(app):
    client = app.test_client()
    statuses = []
    for i in range(5):
        statuses.append(client.post("/api/v2/auth/public/generateOTP",
                                    json={"mobile": f"98765430{i}"}).status_code)
        statuses.append(client.post("/api/v2/auth/generateOTP",
                                    json={"mobile": f"98765431{i}"}).status_code)
        statuses.append(client.post("/portal/login", data={"mobile": f"98765432{i}"}
                                    ).status_code)
        statuses.append(client.post("/portal/login/resend").status_code)
    assert 429 not in statuses and len(statuses) == 20
    # The 21st code, whichever way it is asked for, is refused: on the API as the domain's
    # OTP throttling (as the API's error mapping answers it), on the portal with its page.
    with app.test_request_context("/api/v2/auth/generateOTP"):
        throttled = answer(OtpThrottled("x")).status_code
    for path in ("/api/v2/auth/public/generateOTP", "/api/v2/auth/generateOTP",
                 "/api/v2/auth/generateMobileOTP"):
        r = client.post(path, json={"mobile": "987654399"})
        assert r.status_code == throttled and "Retry-After" in r.headers, path
    assert client.post("/portal/login", data={"mobile": "987654397"}).status_code == 429
    # Showing the form is not sending a code.
    assert client.get("/portal/login").status_code == 200


# --- the refusal to count in memory with several processes ---------------------------------

def test_several_workers_with_memory_limits_refuse_to_start(cowin_kit_instance):
    with pytest.raises(ConfigError) as refused:
        create_app({"INSTANCE_PATH": cowin_kit_instance, "TESTING": True, "WORKERS": 4})
    message = str(refused.value)
    assert "4 processes" in message and "multiplied by 4" in message
    assert "REDIS_URL" in message and "RATE_LIMIT_STORAGE=database" in message
    # A shared store lets them start.
    create_app({"INSTANCE_PATH": cowin_kit_instance, "TESTING": True, "WORKERS": 4,
                "RATE_LIMIT_STORAGE": "database"}).extensions["cowin_kit"].db.dispose()


def test_config_check_requires_a_shared_store_for_several_workers(run_cli, cowin_kit_instance,
                                                                  refused):
    where = ["--instance", str(cowin_kit_instance)]
    result = run_cli("config", "check", *where, env={"WEB_CONCURRENCY": "3"})
    refused(result, "3 processes serve this deployment (WEB_CONCURRENCY)", "REDIS_URL",
            "RATE_LIMIT_STORAGE=database")
    result = run_cli("config", "check", *where, env={"COWIN_KIT_WORKERS": "8"})
    refused(result, "8 processes serve this deployment (WORKERS)")
    result = run_cli("config", "check", *where, env={"COWIN_KIT_RATE_LIMIT_STORAGE": "redis"})
    refused(result, "RATE_LIMIT_STORAGE is redis but REDIS_URL is empty")
    # One process in memory is fine, and said to be for one process only.
    result = run_cli("config", "check", *where)
    assert result.exit_code == 0, result.output
    assert "counted in each process's memory" in result.output
    result = run_cli("config", "check", *where, env={"COWIN_KIT_WORKERS": "8",
                                                     "COWIN_KIT_RATE_LIMIT_STORAGE": "database"})
    assert result.exit_code == 0, result.output
    assert "memory" not in result.output


# --- the database store ----------------------------------------------------------------------

def test_the_database_store_counts_for_every_process(cowin_kit_instance):
    apps = [create_app({"INSTANCE_PATH": cowin_kit_instance, "TESTING": True,
                        "RATE_LIMIT_STORAGE": "database"}) for _ in range(2)]
    first, second = (a.extensions["cowin_kit"].limits for a in apps)
    try:
        assert [first.hit("test", "k", "3 per hour") for _ in range(2)] == [None, None]
        assert second.hit("test", "k", "3 per hour") is None  # the third, in another process
        wait = first.hit("test", "k", "3 per hour")
        assert wait is not None and 0 < wait <= 3600
        assert second.hit("test", "other key", "3 per hour") is None
        # Its keys are visitors' addresses: as private as every other instance file.
        for side in cowin_kit_instance.glob("*-limits.db*"):
            assert side.stat().st_mode & 0o777 == 0o600, side
    finally:
        for a in apps:
            a.extensions["cowin_kit"].db.dispose()


def test_an_expired_window_starts_again(cowin_kit_instance):
    from limits import parse

    from cowin_kit.ratelimits import DatabaseStorage, storage_config

    app = create_app({"INSTANCE_PATH": cowin_kit_instance, "TESTING": True,
                      "RATE_LIMIT_STORAGE": "database"})
    dep = app.extensions["cowin_kit"]
    try:
        storage = DatabaseStorage(storage_config(dep.settings, dep.db)[0])
        key = parse("2 per second").key_for("x")
        assert [storage.incr(key, 1) for _ in range(3)] == [1, 2, 3]
        assert storage.get(key) == 3
        with storage.engine.begin() as conn:  # the window ends (no sleeping in tests)
            conn.execute(storage.table.update().values(expires_at=time.time() - 1))
        assert storage.get(key) == 0 and storage.incr(key, 1) == 1
    finally:
        dep.db.dispose()


# --- real gunicorn with two workers --------------------------------------------------------------

def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Gunicorn:
    """gunicorn with two workers serving the test instance on 127.0.0.1."""

    def __init__(self, instance, tmp_path, env):
        self.port = _free_port()
        self.access, self.errors = tmp_path / "access.log", tmp_path / "error.log"
        clean = {k: v for k, v in os.environ.items()
                 if not k.startswith("COWIN_KIT_") or k == "COWIN_KIT_TEST_DATABASE_URL"}
        clean.pop("WEB_CONCURRENCY", None)
        self.proc = subprocess.Popen(
            # A long worker timeout: on a loaded machine the arbiter must not kill the worker
            # that waits for a held request (it sends no heartbeat meanwhile); no control
            # socket, which would be shared with any other gunicorn of this user.
            [sys.executable, "-m", "gunicorn", "--workers", "2", "--timeout", "300",
             "--no-control-socket",
             "--bind", f"127.0.0.1:{self.port}", "--access-logfile", str(self.access),
             "--access-logformat", "%(p)s %(s)s %(U)s", "--error-logfile", str(self.errors),
             "cowin_kit:create_app()"],
            env={**clean, "COWIN_KIT_INSTANCE": str(instance), **env},
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def started(self) -> bool:
        """True once it answers; False if it exits instead."""
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                return False
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{self.port}/healthz", timeout=5)
                return True
            except OSError:
                time.sleep(0.2)
        raise AssertionError("gunicorn neither started nor stopped")

    def post(self, path, body, headers=None) -> int:
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.port}{path}", data=json.dumps(body).encode(),
            headers={"Content-Type": "application/json", "Connection": "close",
                     **(headers or {})}, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=60) as r:
                return r.status
        except urllib.error.HTTPError as exc:
            return exc.code

    def held(self, path, body, headers):
        """Start a request and hold it half-sent: the worker that takes it waits for the rest,
        so every request sent meanwhile goes to the other worker. Returns a function that
        sends the rest and returns the status."""
        data = json.dumps(body).encode()
        head = "".join(f"{k}: {v}\r\n" for k, v in {
            "Host": f"127.0.0.1:{self.port}", "Content-Type": "application/json",
            "Content-Length": len(data), "Connection": "close", **headers}.items())
        conn = socket.create_connection(("127.0.0.1", self.port), timeout=60)
        conn.sendall(f"POST {path} HTTP/1.1\r\n".encode())

        def finish() -> int:
            conn.sendall(head.encode() + b"\r\n" + data)
            answer = b""
            while chunk := conn.recv(65536):
                answer += chunk
            conn.close()
            return int(answer.split(b" ", 2)[1])
        return finish

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(timeout=60)


@pytest.fixture
def gunicorn(cowin_kit_instance, tmp_path):
    servers = []

    def start(**env):
        server = Gunicorn(cowin_kit_instance, tmp_path, env)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


def test_gunicorn_with_two_workers_refuses_memory_limits(gunicorn):
    server = gunicorn()
    assert not server.started()
    log = server.errors.read_text(encoding="utf-8")
    assert "2 processes serve this deployment (gunicorn --workers)" in log
    assert "REDIS_URL" in log and "RATE_LIMIT_STORAGE=database" in log


@pytest.mark.parametrize("store", ["database", "redis"])
def test_two_gunicorn_workers_hold_the_otp_limit_in_total(gunicorn, store, tmp_path):
    env = {"COWIN_KIT_RATE_LIMIT_STORAGE": store, "COWIN_KIT_PROXY_FIX_HOPS": "1",
           "COWIN_KIT_OTP_RESEND_SECONDS": "0"}
    if store == "redis":
        env["COWIN_KIT_REDIS_URL"] = redis_or_skip()
    server = gunicorn(**env)
    assert server.started(), server.errors.read_text(encoding="utf-8")
    # This run's own address (through the trusted proxy header), so that counts kept in
    # Redis by earlier runs, or by a run in parallel, do not meet it.
    octets = uuid.uuid4().bytes[:3]
    visitor = {"X-Forwarded-For": "10." + ".".join(str(1 + o % 250) for o in octets)}
    paths = ["/api/v2/auth/public/generateOTP", "/api/v2/auth/generateOTP"]

    def send(i):
        return server.post(paths[i % 2], {"mobile": f"9876543{i:02d}"}, visitor)

    # One worker waits for the rest of a request while the other answers ten; then both
    # take the remaining ones in parallel.
    try:
        finish = server.held(paths[0], {"mobile": "987654399"}, visitor)
        statuses = [send(i) for i in range(10)] + [finish()]
        with ThreadPoolExecutor(8) as pool:
            statuses += list(pool.map(send, range(10, 39)))
    except OSError as exc:  # say what the server said, not only what the socket did
        raise AssertionError(server.errors.read_text(encoding="utf-8")) from exc
    assert statuses.count(200) == 20 and statuses.count(API_THROTTLED) == 20, statuses
    served_by = {line.split()[0] for line in server.access.read_text().splitlines()
                 if "generateOTP" in line}
    assert len(served_by) == 2, "both workers should have answered"
    # The security log lines reach gunicorn's error log, masked.
    log = server.errors.read_text(encoding="utf-8")
    assert "sent to +51*******" in log and "rate limit 20 per 1 minute hit" in log
    assert "987654300" not in log


def test_an_app_without_limits_does_not_switch_them_off_for_the_next(cowin_kit_instance):
    """One process may build several apps (the tests, the CLI): the limiter's choices for
    one (here: limits off) must not carry over to the next one it is bound to."""
    from cowin_kit.app import create_app

    create_app({"INSTANCE_PATH": cowin_kit_instance, "TESTING": True,
                "RATELIMIT_ENABLED": False, "RATELIMIT_KEY_PREFIX": "first"})
    app = create_app({"INSTANCE_PATH": cowin_kit_instance, "TESTING": True})
    client = app.test_client()
    statuses = [client.post("/api/v2/auth/public/generateOTP",
                            json={"mobile": f"9876543{i:02d}"}).status_code for i in range(21)]
    assert API_THROTTLED not in statuses[:20] and statuses[20] == API_THROTTLED, statuses


def test_ipv6_addresses_of_one_network_count_as_one_visitor(app):
    """One host holds a whole /64: its addresses are one visitor for the limits."""
    client = app.test_client()
    statuses = [client.post("/api/v2/auth/public/generateOTP",
                            json={"mobile": f"9876543{i:02d}"},
                            environ_base={"REMOTE_ADDR": f"2001:db8:1:2::{i + 1:x}"}).status_code
                for i in range(21)]
    assert API_THROTTLED not in statuses[:20] and statuses[20] == API_THROTTLED, statuses
    other = client.post("/api/v2/auth/public/generateOTP", json={"mobile": "987654399"},
                        environ_base={"REMOTE_ADDR": "2001:db8:1:3::1"})
    assert other.status_code != API_THROTTLED  # the next /64 is someone else


def test_workers_starting_together_all_get_the_sqlite_counter_table(tmp_path):
    """The workers of a server start at the same moment and each opens the SQLite counter
    file: none may fail because another created the table in between (a check-then-create
    did, and the request that hit it lost its connection)."""
    import threading

    from cowin_kit.db import Database
    from cowin_kit.ratelimits import counter_engine

    url = f"sqlite:///{(tmp_path / 'kit.db').as_posix()}"
    databases = [Database(url) for _ in range(8)]
    start, failures = threading.Barrier(len(databases)), []

    def open_counters(db):
        start.wait()
        try:
            counter_engine(db)
        except Exception as exc:  # noqa: BLE001 - what a worker would have died of
            failures.append(exc)

    threads = [threading.Thread(target=open_counters, args=(db,)) for db in databases]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert failures == []
    finally:
        for db in databases:
            db.dispose()
            if getattr(db, "rate_limit_engine", None) is not None:
                db.rate_limit_engine.dispose()


def test_a_429_has_one_text_wherever_it_is_answered():
    """The API's general 429 message and the throttled OTP's are one msgid, kept once."""
    from cowin_kit.api.errors import MESSAGES
    from cowin_kit.web import limits

    assert MESSAGES[429] is limits.MSG_TOO_MANY
