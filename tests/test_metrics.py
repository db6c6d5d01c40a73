"""GET /metrics: what Prometheus reads (requests, latencies, bookings, OTPs, doses, the SMS
outbox, the rollups' backlog), who may read it, and the counts of several gunicorn workers
added up in one scrape."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from sqlalchemy import select

from helpers import (
    LATER,
    STAFF_PASSWORD,
    TODAY,
    add_lot,
    api_otp,
    api_register,
    api_session,
    booked_person,
    csrf,
    facility,
    facility_user_at,
    give_dose,
    new_session,
    requests_of,
    samples,
    scrape,
    session_today,
    staff_login,
    value,
)

SCHEDULE = "/api/v2/appointment/schedule"


@pytest.fixture
def cowin_kit_config() -> dict:
    return {"OTP_RESEND_SECONDS": 0, "METRICS_CACHE_SECONDS": 0}


def test_requests_latencies_bookings_and_otps_are_counted(client, ana, dni_type, database,
                                                          cowin_kit_instance):
    ref = api_register(client, ana, dni_type, "40123456").get_json()["beneficiary_reference_id"]
    session_id, slot = api_session(database)
    before = scrape(client)
    for _ in range(3):
        assert client.get("/healthz").status_code == 200
    api_otp(client, cowin_kit_instance, "987000123")
    booking = {"dose": 1, "session_id": session_id, "slot": slot, "beneficiaries": [ref]}
    r = client.post(SCHEDULE, headers=ana, json=booking)
    assert r.status_code == 200, r.get_json()
    assert client.post(SCHEDULE, headers=ana, json=booking).status_code == 409  # refused
    appointment = r.get_json()["appointment_confirmation_no"]
    assert client.post("/api/v2/appointment/cancel", headers=ana, json={
        "appointment_id": appointment, "beneficiariesToCancel": [ref]}).status_code == 204
    after = scrape(client)

    def delta(name, **labels):
        return value(after, name, **labels) - value(before, name, **labels)

    assert delta("cowin_kit_http_requests_total", method="GET", route="/healthz",
                 status="2xx") == 3
    assert delta("cowin_kit_http_requests_total", method="POST", route=SCHEDULE,
                 status="2xx") == 1
    assert delta("cowin_kit_http_requests_total", method="POST", route=SCHEDULE,
                 status="4xx") == 1
    # Only what committed: the refused booking counts no booking.
    assert delta("cowin_kit_bookings_total", action="booked") == 1
    assert delta("cowin_kit_bookings_total", action="cancelled") == 1
    assert delta("cowin_kit_otps_sent_total", purpose="public") == 1
    # The latency histogram: every request of the route in +Inf, cumulative buckets.
    assert delta("cowin_kit_http_request_duration_seconds_count", route=SCHEDULE) == 2
    assert delta("cowin_kit_http_request_duration_seconds_bucket", route=SCHEDULE,
                 le="+Inf") == 2
    assert delta("cowin_kit_http_request_duration_seconds_sum", route=SCHEDULE) > 0
    buckets = [value(after, "cowin_kit_http_request_duration_seconds_bucket", route="/healthz",
                     le=le) for le in ("0.001", "0.01", "0.1", "1.0", "30.0", "+Inf")]
    assert buckets == sorted(buckets) and buckets[-1] >= 3


def test_a_recorded_dose_is_counted_once_and_waits_for_the_rollups(client, ana, dni_type,
                                                                   database):
    ref = api_register(client, ana, dni_type, "40123458").get_json()["beneficiary_reference_id"]
    before = scrape(client)
    give_dose(database, ref)
    give_dose(database, ref)  # the same dose again: a retry, not a second dose
    after = scrape(client)
    assert value(after, "cowin_kit_doses_recorded_total", source="none") - value(
        before, "cowin_kit_doses_recorded_total", source="none") == 1
    assert value(after, "cowin_kit_rollup_backlog_doses") == value(
        before, "cowin_kit_rollup_backlog_doses") + 1


def test_labels_name_routes_never_paths(client):
    assert client.get("/api/v2/admin/location/districts/98765?secret=4242").status_code in (
        200, 404)
    assert client.get("/no/such/page-31337?mobile=987654321").status_code == 404
    assert client.open("/healthz", method="BREW").status_code == 405
    day = TODAY.strftime("%d-%m-%Y")
    search = f"/api/v2/appointment/sessions/public/findByDistrict?district_id=1&date={day}"
    before = scrape(client)
    for _ in range(3):  # the second and third are answered before Flask (FastAnswers)
        assert client.get(search).status_code == 200
    text = client.get("/metrics").get_data(as_text=True)
    labels = {v for name, pairs in samples(text) for _k, v in pairs}
    assert "/api/v2/admin/location/districts/<id:state_id>" in labels
    assert not [v for v in labels if any(bit in v for bit in ("98765", "4242", "31337",
                                                               "987654321", "BREW", "?"))]
    found = samples(text)
    assert requests_of(found, "(unmatched)", status="4xx") >= 1
    assert requests_of(found, "(unmatched)", method="other", status="4xx") == 1
    route = "/api/v2/appointment/sessions/public/findByDistrict"
    assert requests_of(found, route) - requests_of(before, route) == 3


def test_compressed_answers_are_counted(client, database):
    """Gzipped answers, from Flask and from FastAnswers (304s included), count as any."""
    from cowin_kit.geography.models import Division

    with database.session() as s:  # the demo's district with the most centres
        lima = s.scalar(select(Division.id).where(Division.level == 2, Division.name == "Lima"))
    gzip = {"Accept-Encoding": "gzip"}
    day = TODAY.strftime("%d-%m-%Y")
    search = (f"/api/v2/appointment/sessions/public/calendarByDistrict?district_id={lima}"
              f"&date={day}")
    route = "/api/v2/appointment/sessions/public/calendarByDistrict"
    before = scrape(client)
    first = client.get(search, headers=gzip)
    assert first.status_code == 200 and first.headers["Content-Encoding"] == "gzip"
    for _ in range(2):  # answered before Flask
        assert client.get(search, headers=gzip).status_code == 200
    assert client.get(search, headers={**gzip, "If-None-Match": first.headers["ETag"]}
                      ).status_code == 304
    page = client.get("/portal/search?by=pincode&pincode=15001", headers=gzip)
    assert page.status_code == 200 and page.headers["Content-Encoding"] == "gzip"
    after = scrape(client)
    assert requests_of(after, route) - requests_of(before, route) == 3
    assert requests_of(after, route, status="3xx") - requests_of(before, route, status="3xx") == 1
    assert requests_of(after, "/portal/search") - requests_of(before, "/portal/search") == 1


def test_outbox_depth_after_sms_are_queued(app, client, database):
    from cowin_kit.notifications.outbox import enqueue

    before = value(scrape(client), "cowin_kit_outbox_pending")
    with database.session() as s:
        for n in range(3):
            enqueue(s, kind="test.metrics", mobile=f"+5198700{n:04d}", language=None,
                    msgid="Hello")
    found = scrape(client)
    assert value(found, "cowin_kit_outbox_pending") == before + 3
    assert value(found, "cowin_kit_database_up") == 1
    assert value(found, "cowin_kit_outbox_oldest_due_seconds") >= 0
    # No replica configured: no lag is reported, rather than a made-up one.
    assert not [k for k in found if k[0].startswith("cowin_kit_replica")]


def test_figures_are_kept_a_few_seconds(app, client, database, change_settings):
    from cowin_kit.notifications.outbox import enqueue

    change_settings(METRICS_CACHE_SECONDS=60)
    first = value(scrape(client), "cowin_kit_outbox_pending")
    with database.session() as s:
        enqueue(s, kind="test.metrics", mobile="+51987009999", language=None, msgid="Hello")
    assert value(scrape(client), "cowin_kit_outbox_pending") == first  # not read again
    change_settings(METRICS_CACHE_SECONDS=0)
    assert value(scrape(client), "cowin_kit_outbox_pending") == first + 1


# --- who may read it -----------------------------------------------------------------------

def test_without_a_token_only_this_machine_reads_metrics(client):
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "::1"}).status_code == 200
    far = client.get("/metrics", environ_base={"REMOTE_ADDR": "203.0.113.5"})
    assert far.status_code == 403 and "METRICS_TOKEN" in far.get_data(as_text=True)
    proxied = client.get("/metrics", headers={"X-Forwarded-For": "203.0.113.5"})
    assert proxied.status_code == 403
    assert "cowin_kit" not in far.get_data(as_text=True)


@pytest.mark.parametrize("cowin_kit_config", [{"METRICS_TOKEN": "s3cret-scrape-token"}])
def test_with_a_token_only_its_bearer_reads_metrics(client):
    far = {"REMOTE_ADDR": "203.0.113.5"}
    missing = client.get("/metrics", environ_base=far)
    assert missing.status_code == 401 and missing.headers["WWW-Authenticate"].startswith(
        "Bearer")
    assert "bearer token" in missing.get_data(as_text=True)
    local = client.get("/metrics")  # this machine needs it too, once a token is set
    assert local.status_code == 401
    wrong = client.get("/metrics", environ_base=far,
                       headers={"Authorization": "Bearer s3cret-scrape-tokem"})
    assert wrong.status_code == 403 and "cowin_kit" not in wrong.get_data(as_text=True)
    ok = scrape(client, environ_base=far,
                headers={"Authorization": "Bearer s3cret-scrape-token"})
    assert value(ok, "cowin_kit_database_up") == 1


@pytest.mark.parametrize("cowin_kit_config", [{"METRICS_ENABLED": False}])
def test_metrics_can_be_switched_off(client):
    assert client.get("/metrics").status_code == 404


# --- gunicorn with two workers ---------------------------------------------------------------

def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(port, path) -> tuple[int, str]:
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}",
                                     headers={"Connection": "close"})
    try:
        with urllib.request.urlopen(request, timeout=60) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def _serve(instance, tmp_path, *config):
    port = _free_port()
    clean = {k: v for k, v in os.environ.items()
             if not k.startswith(("COWIN_KIT_", "PROMETHEUS_")) or
             k == "COWIN_KIT_TEST_DATABASE_URL"}
    clean.pop("WEB_CONCURRENCY", None)
    access, errors = tmp_path / "access.log", tmp_path / "error.log"
    proc = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", *config, "--workers", "2", "--timeout", "300",
         "--no-control-socket", "--bind", f"127.0.0.1:{port}",
         "--access-logfile", str(access), "--access-logformat", "%(p)s %(s)s %(U)s",
         "--error-logfile", str(errors), "cowin_kit:create_app()"],
        env={**clean, "COWIN_KIT_INSTANCE": str(instance),
             "COWIN_KIT_RATE_LIMIT_STORAGE": "database"},
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 90
    while True:
        assert proc.poll() is None, errors.read_text(encoding="utf-8")
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5)
            break
        except OSError:
            assert time.monotonic() < deadline, "gunicorn did not start"
            time.sleep(0.2)
    return proc, port, access, errors


def _stop(proc):
    if proc.poll() is None:
        proc.terminate()
        proc.wait(timeout=60)


def test_one_scrape_counts_the_requests_of_both_gunicorn_workers(cowin_kit_instance, tmp_path):
    proc, port, access, errors = _serve(cowin_kit_instance, tmp_path,
                                        "-c", "python:cowin_kit.metrics.gunicorn")
    try:
        # One worker waits for the rest of a request meanwhile the other answers five; then
        # both take the rest in parallel.
        held = socket.create_connection(("127.0.0.1", port), timeout=60)
        held.sendall(b"GET /healthz HTTP/1.1\r\n")
        statuses = [_get(port, "/healthz")[0] for _ in range(5)]
        held.sendall(f"Host: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n".encode())
        answer = b""
        while chunk := held.recv(65536):
            answer += chunk
        held.close()
        statuses.append(int(answer.split(b" ", 2)[1]))
        with ThreadPoolExecutor(4) as pool:
            statuses += [s for s, _ in pool.map(lambda _: _get(port, "/healthz"), range(14))]
        assert statuses == [200] * 20
        status, text = _get(port, "/metrics")
        assert status == 200, text
    finally:
        _stop(proc)
    answered = [line.split() for line in access.read_text().splitlines()
                if line.endswith(" /healthz")]
    assert len({pid for pid, _status, _path in answered}) == 2, "both workers answered"
    # The 20 above and those that waited for gunicorn to start, each counted once.
    assert len(answered) >= 21
    assert requests_of(samples(text), "/healthz") == len(answered)
    assert value(samples(text), "cowin_kit_http_request_duration_seconds_count",
                 route="/healthz") == len(answered)


def test_two_workers_without_the_multiprocess_setup_refuse_to_scrape(cowin_kit_instance,
                                                                     tmp_path):
    proc, port, _access, errors = _serve(cowin_kit_instance, tmp_path)
    try:
        status, text = _get(port, "/metrics")
    finally:
        _stop(proc)
    assert status == 503 and "python:cowin_kit.metrics.gunicorn" in text
    assert "PROMETHEUS_MULTIPROC_DIR is not set" in errors.read_text(encoding="utf-8")


# --- walk-ins, their doses, cancelled sessions -----------------------------------------------

def test_walk_ins_their_doses_and_cancelled_sessions_are_counted(app, client, database):
    from cowin_kit.accounts.models import StaffUser
    from cowin_kit.scheduling.models import VaccinationSession
    from cowin_kit.scheduling.session_cancel import cancel_session

    centre = facility(database, "DEMO-PE-0001")
    walk_in_session = session_today(database, "DEMO-PE-0001", quota=1, capacity=1)
    with database.Session() as s:
        lot = add_lot(database, centre.id, s.get(VaccinationSession, walk_in_session).product_id)
    doomed = new_session(database, "DEMO-PE-0001", LATER)
    booked_person(app, database, doomed)
    facility_user_at(database, "vax@example.org", "vaccinator", "DEMO-PE-0001")
    assert staff_login(client, "vax@example.org", STAFF_PASSWORD).status_code == 302
    before = scrape(client)

    page = client.get("/staff/walk-in").get_data(as_text=True)
    r = client.post("/staff/walk-in", data={"id_type": "dni", "id_number": "40123456",
                                            "csrf_token": csrf(page)})
    assert client.post("/staff/walk-in/register", data={
        "id_type": "dni", "id_number": "40123456", "name": "Rosa Huamán", "birth_year": "1970",
        "birth_date": "", "gender": "female", "language": "es", "mobile": "",
        "csrf_token": csrf(r.get_data(as_text=True))}).status_code == 302
    page = client.get("/staff/walk-in/book").get_data(as_text=True)
    r = client.post("/staff/walk-in/book", data={"session_id": walk_in_session,
                                                 "csrf_token": csrf(page)})
    assert r.status_code == 302, r.get_data(as_text=True)
    appointment_id = r.headers["Location"].rsplit("/", 1)[-1].split("?")[0]
    token = client.get("/staff/today/queue.json").get_json()["csrf_token"]
    r = client.post("/staff/today/doses", headers={"X-CSRFToken": token}, json={
        "appointment_id": appointment_id, "lot_id": lot, "site": "left_arm",
        "idempotency_key": str(uuid.uuid4())})
    assert r.status_code in (200, 201), r.get_json()
    with database.Session() as s:
        cancel_session(s, s.scalar(select(StaffUser).order_by(StaffUser.id)),
                       s.get(VaccinationSession, doomed), "storm", today=TODAY,
                       centre_name="x")
        s.commit()
    after = scrape(client)

    def delta(name, **labels):
        return value(after, name, **labels) - value(before, name, **labels)

    assert delta("cowin_kit_bookings_total", action="walk_in") == 1
    assert delta("cowin_kit_bookings_total", action="booked") == 0
    assert delta("cowin_kit_doses_recorded_total", source="walk_in") == 1
    assert delta("cowin_kit_sessions_cancelled_total") == 1
    assert delta("cowin_kit_bookings_total", action="session_cancelled") == 1


def test_deleting_a_member_gives_their_booking_back_and_counts_it(app, client, database,
                                                                  dni_type, ana):
    ref = api_register(client, ana, dni_type, "40123459").get_json()["beneficiary_reference_id"]
    session_id, slot = api_session(database)
    assert client.post(SCHEDULE, headers=ana, json={
        "dose": 1, "session_id": session_id, "slot": slot, "beneficiaries": [ref]}
    ).status_code == 200
    before = scrape(client)
    r = client.post("/api/v2/registration/beneficiary/delete", headers=ana,
                    json={"beneficiary_reference_id": ref})
    assert r.status_code in (200, 204), r.get_data(as_text=True)
    assert value(scrape(client), "cowin_kit_bookings_total", action="cancelled") - value(
        before, "cowin_kit_bookings_total", action="cancelled") == 1


# --- the worker ------------------------------------------------------------------------------

def _worker_value(name, **labels) -> float:
    from prometheus_client import REGISTRY

    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_the_worker_counts_messages_by_channel_kind_and_outcome(app, database):
    from cowin_kit.notifications.outbox import enqueue
    from cowin_kit.notifications.service import Messenger
    from cowin_kit.notifications.worker import RetryPolicy, Worker
    from cowin_kit.plugins.interfaces import SmsError, SmsGateway

    class Gateway(SmsGateway):
        def send(self, phone_number, text, reference=None):
            if phone_number.endswith("1"):
                raise SmsError("timeout")  # tried again later
            if phone_number.endswith("2"):
                raise SmsError("barred number", permanent=True)
            return "ok"

    kind = "test.worker-metrics"
    with database.session() as s:
        for mobile in ("+51987000100", "+51987000110", "+51987000111", "+51987000112"):
            enqueue(s, kind=kind, mobile=mobile, language=None, msgid="Hello")
    real = app.extensions["cowin_kit"].messenger
    worker = Worker(database, Messenger(Gateway(None), real.translation_dirs,
                                        real.default_language), RetryPolicy(max_attempts=3))
    labels = {"channel": "sms", "kind": kind}
    before = {o: _worker_value("cowin_kit_worker_messages_total", **labels, outcome=o)
              for o in ("sent", "retried", "failed")}
    sends = _worker_value("cowin_kit_worker_send_duration_seconds_count", channel="sms")
    tally = worker.drain()
    assert (tally.sent, tally.retried, tally.failed) == (2, 1, 1)
    assert {o: _worker_value("cowin_kit_worker_messages_total", **labels, outcome=o) - n
            for o, n in before.items()} == {"sent": 2, "retried": 1, "failed": 1}
    assert _worker_value("cowin_kit_worker_send_duration_seconds_count",
                         channel="sms") - sends == 4


def test_the_worker_counts_its_background_tasks(app, database):
    import threading

    from cowin_kit.notifications.worker import Worker

    stop = threading.Event()

    def fold_metrics_test():
        stop.set()  # one round
        return 7

    def broken_metrics_test():
        raise RuntimeError("the database went away")

    runs = "cowin_kit_worker_task_runs_total"
    ok = _worker_value(runs, task="fold_metrics_test", outcome="ok")
    items = _worker_value("cowin_kit_worker_task_items_total", task="fold_metrics_test")
    Worker(database, None, stop_event=stop).run_forever(
        0, every=[(60, broken_metrics_test), (60, fold_metrics_test)])
    assert _worker_value(runs, task="fold_metrics_test", outcome="ok") - ok == 1
    assert _worker_value(runs, task="broken_metrics_test", outcome="error") >= 1
    assert _worker_value("cowin_kit_worker_task_items_total",
                         task="fold_metrics_test") - items == 7
    assert _worker_value("cowin_kit_worker_task_last_success_timestamp_seconds",
                         task="fold_metrics_test") > time.time() - 60


def test_the_worker_s_port_is_read_as_the_web_s_metrics_are():
    from prometheus_client import CollectorRegistry, Counter

    from cowin_kit.metrics import background

    registry = CollectorRegistry()
    Counter("ck_test_things", "Things.", registry=registry).inc(3)
    for token in ("", "s3cret"):
        server = background.serve("127.0.0.1", 0, token, registry=registry)
        try:
            port = server.server_port
            if token:
                assert _get(port, "/metrics")[0] == 401
                request = urllib.request.Request(f"http://127.0.0.1:{port}/metrics",
                                                 headers={"Authorization": "Bearer nope"})
                with pytest.raises(urllib.error.HTTPError) as refused:
                    urllib.request.urlopen(request, timeout=30)
                assert refused.value.code == 403
            request = urllib.request.Request(f"http://127.0.0.1:{port}/metrics",
                                             headers={"Authorization": f"Bearer {token}"})
            with urllib.request.urlopen(request, timeout=30) as r:
                assert value(samples(r.read().decode()), "ck_test_things_total") == 3
            # Through a proxy on this machine, without a token: refused.
            if not token:
                request = urllib.request.Request(f"http://127.0.0.1:{port}/metrics",
                                                 headers={"X-Forwarded-For": "203.0.113.9"})
                with pytest.raises(urllib.error.HTTPError) as refused:
                    urllib.request.urlopen(request, timeout=30)
                assert refused.value.code == 403
        finally:
            server.shutdown()
            server.server_close()


def test_cowin_kit_worker_serves_its_metrics_on_its_port(cowin_kit_instance, tmp_path):
    port, web_folder = _free_port(), tmp_path / "multiproc"
    web_folder.mkdir()
    clean = {k: v for k, v in os.environ.items()
             if not k.startswith(("COWIN_KIT_", "PROMETHEUS_")) or
             k == "COWIN_KIT_TEST_DATABASE_URL"}
    exe = Path(sys.executable).with_name("cowin-kit")
    proc = subprocess.Popen([str(exe), "worker", "--instance", str(cowin_kit_instance),
                             "--metrics-port", str(port)],
                            env={**clean, "PROMETHEUS_MULTIPROC_DIR": str(web_folder)},
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        deadline, found = time.monotonic() + 90, {}
        # The tasks run one after another, build_report_exports last.
        while value(found, "cowin_kit_worker_task_runs_total", task="build_report_exports",
                    outcome="ok") < 1:
            assert proc.poll() is None, proc.stderr.read()
            assert time.monotonic() < deadline, "no metrics from the worker"
            try:
                status, text = _get(port, "/metrics")
                found = samples(text) if status == 200 else {}
            except OSError:
                pass
            time.sleep(0.2)
        for task in ("queue_reminders", "fold_rollups"):
            assert value(found, "cowin_kit_worker_task_runs_total", task=task,
                         outcome="ok") >= 1, task
    finally:
        proc.terminate()
        proc.wait(timeout=60)
    assert list(web_folder.iterdir()) == []  # the web's multiprocess folder is not its own


def test_worker_metrics_need_metrics_enabled(run_cli, cowin_kit_instance, refused):
    result = run_cli("worker", "--instance", cowin_kit_instance, "--metrics-port", "0",
                     env={"COWIN_KIT_METRICS_ENABLED": "false"})
    refused(result, "METRICS_ENABLED")
