"""`cowin-kit web`, the production server (granian), run as an operator runs it: a citizen
books through it, /metrics adds up its workers, a staff export streams whole, and what it
cannot serve is refused before it listens."""
from __future__ import annotations

import hashlib
import re
import socket
import subprocess
from pathlib import Path

import requests
from sqlalchemy import select

from cowin_kit.accounts.models import AuditEvent
from cowin_kit.scheduling.models import Appointment
from cowin_kit.testing import last_otp

from helpers import (
    ADMIN_EMAIL,
    ADMIN_PASSWORD,
    COWIN_KIT,
    WebServer,
    api_session,
    csrf,
    free_port,
    register_person,
    web_env,
)


def test_a_citizen_logs_in_and_books_through_it(web_server, cowin_kit_instance, database, app):
    api = f"{web_server.url}/api/v2"
    mobile = "987650001"
    txn = requests.post(f"{api}/auth/public/generateOTP", json={"mobile": mobile}).json()
    code = last_otp(cowin_kit_instance)
    token = requests.post(f"{api}/auth/public/confirmOTP", json={
        "otp": hashlib.sha256(code.encode()).hexdigest(), "txnId": txn["txnId"]}).json()["token"]
    people = [register_person(app, database, "+51" + mobile, name=name, passport=passport)
              for name, passport in (("Ana Quispe", "K1234567"), ("Rosa Quispe", "K7654321"))]
    session_id, slot = api_session(database)
    auth = {"Authorization": f"Bearer {token}"}
    answers = []
    with requests.Session() as s:  # keep-alive: one connection for all three
        # the second booking goes the lean way on PostgreSQL (after Flask answered one);
        # the third is refused: this person already has an appointment
        for ref in (*people, people[0]):
            answers.append(s.post(f"{api}/appointment/schedule", headers=auth, json={
                "dose": 1, "session_id": session_id, "slot": slot, "beneficiaries": [ref]}))
    assert [a.status_code for a in answers] == [200, 200, 409], answers[-1].text
    assert "Ana Quispe ya tiene una cita" in answers[2].json()["error"]  # Spanish: PE
    bad = requests.get(f"{api}/appointment/sessions/public/findByPin", params={"pincode": "x"})
    assert bad.status_code == 400 and bad.json()["error"]  # a reason, not a server error
    with database.session() as db:
        assert sorted(db.scalars(select(Appointment.id)).all()) == sorted(
            a.json()["appointment_confirmation_no"] for a in answers[:2])
        # the visitor's address reached the app (granian's REMOTE_ADDR)
        assert db.scalars(select(AuditEvent.source).where(
            AuditEvent.action == "appointment.booked")).all() == ["127.0.0.1"] * 2


def test_metrics_add_up_every_worker(cowin_kit_instance, app):
    web_server = WebServer(cowin_kit_instance, workers=2)
    try:
        _count_across_workers(web_server)
    finally:
        web_server.stop()


def _count_across_workers(web_server) -> None:
    for _ in range(40):  # a new connection each: the workers share them
        with requests.Session() as s:
            assert s.get(f"{web_server.url}/api/v2/admin/location/states").status_code == 200
    folder = Path(re.search(r"metrics added up in (\S+?)\)",
                            _banner(web_server)).group(1))
    assert len([f for f in folder.glob("counter_*.db") if _states_count(f)]) == 2  # both served
    for _ in range(4):  # whichever worker answers the scrape, it counts all 40
        text = requests.get(f"{web_server.url}/metrics").text
        line = next(x for x in text.splitlines() if x.startswith(
            'cowin_kit_http_requests_total{method="GET",route="/api/v2/admin/location/states"'))
        assert float(line.rsplit(" ", 1)[1]) == 40.0


def _states_count(path: Path) -> float:
    """The requests for the states list that one process's counter file holds."""
    from prometheus_client.mmap_dict import MmapedDict

    return sum(value for key, value, *_ in MmapedDict.read_all_values_from_file(str(path))
               if "cowin_kit_http_requests_total" in key and "location/states" in key)


def _banner(web_server) -> str:
    """The command's first line (read without waiting for the process to end)."""
    if not hasattr(web_server, "banner"):
        web_server.banner = web_server.proc.stdout.readline()
    return web_server.banner


def test_a_staff_export_streams_whole(web_server, app, database):
    with requests.Session() as s:
        page = s.get(f"{web_server.url}/staff/login").text
        s.post(f"{web_server.url}/staff/login", data={"email": ADMIN_EMAIL,
                                                  "password": ADMIN_PASSWORD,
                                                  "csrf_token": csrf(page)})
        page = s.get(f"{web_server.url}/staff/audit").text
        answer = s.post(f"{web_server.url}/staff/audit/export", data={"csrf_token": csrf(page)})
    assert answer.status_code == 200, answer.text[:300]
    lines = answer.text.strip().splitlines()
    with database.session() as db:
        # every event before the export's own, a line each, after the header
        events = len(db.scalars(select(AuditEvent.id)).all())
    assert len(lines) - 1 in (events - 1, events)
    assert "staff.login" in answer.text


def test_many_open_connections_do_not_shut_a_new_one_out(cowin_kit_instance, app):
    """Phones keep their connections open. granian's default let one worker take on 1,024
    connections and left the next waiting until one closed (logins, which open a new one,
    waited 8-25 s in benchmarks/opening_day.py); every connection is answered in turn."""
    running = WebServer(cowin_kit_instance, workers=1)
    held = []
    try:
        request = b"GET /static/site.css HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
        for _ in range(1100):  # all open at once, each with a request on it
            conn = socket.create_connection(("127.0.0.1", running.port), timeout=20)
            conn.sendall(request)
            held.append(conn)
        late = socket.create_connection(("127.0.0.1", running.port), timeout=20)
        held.append(late)
        late.sendall(request)
        for conn in held:  # every one is answered (a timeout here: shut out)
            assert conn.recv(64).startswith(b"HTTP/1.1 200"), "no answer"
    finally:
        for conn in held:
            conn.close()
        running.stop()


def test_it_stops_on_sigterm_and_removes_its_metrics_folder(cowin_kit_instance, app):
    running = WebServer(cowin_kit_instance, workers=1)
    folder = Path(re.search(r"metrics added up in (\S+?)\)", _banner(running)).group(1))
    assert folder.is_dir()
    running.stop()
    assert running.proc.returncode == 0
    assert not folder.exists()


def test_the_access_log_is_off_unless_asked_and_never_holds_a_query(cowin_kit_instance, app):
    secret = "Quispe-987654321"
    quiet = WebServer(cowin_kit_instance, workers=1)
    assert requests.get(f"{quiet.url}/healthz?who={secret}", timeout=10).status_code == 200
    assert "GET /healthz" not in quiet.stop()

    logged = WebServer(cowin_kit_instance, workers=1, options=("--access-log",))
    assert requests.get(f"{logged.url}/healthz?who={secret}", timeout=10).status_code == 200
    assert requests.get(f"{logged.url}/no-such-page?q={secret}", timeout=10).status_code == 404
    output = logged.stop()
    assert re.search(r'"GET /healthz HTTP/1.1" 200 \d+\.\d+', output), output
    assert '"GET /no-such-page HTTP/1.1" 404' in output
    assert secret not in output


def test_what_it_cannot_serve_is_refused_before_it_listens(cowin_kit_instance, app, tmp_path):
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen()
    port = taken.getsockname()[1]
    try:
        done = subprocess.run([*COWIN_KIT, "web", "--port", str(port), "--workers", "2"],
                              env=web_env(cowin_kit_instance), capture_output=True, text=True,
                              timeout=60)
        # in the operator's language (Spanish here), naming the same fix
        in_spanish = subprocess.run(
            [*COWIN_KIT, "web", "--port", str(port), "--workers", "2"],
            env=web_env(cowin_kit_instance, LANGUAGE="es"), capture_output=True, text=True,
            timeout=60)
    finally:
        taken.close()
    assert done.returncode == 2, done.stdout + done.stderr
    assert f"cannot listen on 127.0.0.1:{port}" in done.stderr
    assert "Traceback" not in done.stderr
    assert in_spanish.returncode == 2
    assert f"no se puede escuchar en 127.0.0.1:{port}" in in_spanish.stderr
    assert "elija otro --port u otro --host" in in_spanish.stderr

    # rate limits in each process's memory, with two processes: refused, with the fix
    done = subprocess.run([*COWIN_KIT, "web", "--port", str(free_port()), "--workers", "2"],
                          env=web_env(cowin_kit_instance, COWIN_KIT_RATE_LIMIT_STORAGE="memory",
                                   TMPDIR=str(tmp_path)),
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "2 processes serve this deployment (WEB_CONCURRENCY)" in done.stderr
    assert not list(tmp_path.glob("cowin-kit-metrics-*")), "its metrics folder was left"
    assert "REDIS_URL" in done.stderr and "Traceback" not in done.stderr
