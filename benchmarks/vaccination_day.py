"""A vaccination day: many vaccinators recording doses at once over HTTP, through gunicorn.

    python benchmarks/vaccination_day.py [--db sqlite|postgresql|both]
        [--pg-url postgresql://postgres@127.0.0.1:5432/postgres] [--facilities 40]
        [--vaccinators 80] [--doses 4000] [--workers 2] [--threads 4] [--no-kill]

Per database: a fresh `cowin-kit init --country PE --demo` instance in a temporary folder
(PostgreSQL: a database `bench_day_<pid>`, dropped afterwards); --facilities centres, each
with a session today, a lot and --vaccinators / --facilities vaccinators; 2 x --doses people
with a mobile and a booked appointment today, spread over the centres. Then:

1. baseline: the same thread count records --doses doses straight into the database with
   raw SQL, one transaction per dose doing what the kit's transaction does (take a dose
   from the lot, insert the dose, close the appointment, queue the SMS, write the audit
   entry), on the first half of the appointments;
2. the day: every vaccinator logs in on the staff pages and POSTs
   /staff/today/doses (the endpoint the offline page syncs through) for the appointments
   of its centre, the other half; a request that dies with its connection is sent again
   with the same idempotency key, as the page's queue does. Unless --no-kill, a third of
   the way in one gunicorn worker is SIGKILLed (the master starts another) and so is the
   `cowin-kit worker` sending the SMS (started again a second later);
3. checks, from the database and the file SMS gateway's log: one dose per appointment, no
   person with two doses, lot use = doses, and every "dose recorded" SMS sent exactly once.

Prints doses/s and p50/p95/p99 for both, and the ratio of the day to the baseline. Exits 1
if a check fails. Talks only to 127.0.0.1.
"""
from __future__ import annotations

import argparse
import collections
import datetime as dt
import http.client
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.parse
import uuid
from zoneinfo import ZoneInfo

from booking_storm import COUNTRY, Deployment, ms, pct, tool
from sqlalchemy import func, insert, select, text

PASSWORD = "bench-vaccinator-Horse-Staple-42"


class Staff:
    """A vaccinator's browser: one keep-alive connection and the cookie jar."""

    def __init__(self, port: int):
        self.port = port
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        self.cookies: dict[str, str] = {}
        self.csrf = None
        self.reconnects = 0

    def _headers(self, extra=None) -> dict:
        h = {"Accept-Language": "en"}
        if self.cookies:
            h["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        return dict(h, **(extra or {}))

    def request(self, method: str, path: str, body: bytes | None = None, headers=None):
        self.conn.request(method, path, body=body, headers=self._headers(headers))
        resp = self.conn.getresponse()
        raw = resp.read()
        for name, value in resp.getheaders():
            if name.lower() == "set-cookie":
                pair = value.split(";", 1)[0]
                key, _, val = pair.partition("=")
                self.cookies[key.strip()] = val.strip()
        return resp.status, raw, resp

    def reconnect(self) -> None:
        self.conn.close()
        self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
        self.reconnects += 1

    def login(self, email: str) -> None:
        _st, raw, _ = self.request("GET", "/staff/login")
        token = re.search(rb'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', raw)
        body = urllib.parse.urlencode({"email": email, "password": PASSWORD,
                                       "csrf_token": token.group(1).decode()}).encode()
        st, raw, _ = self.request("POST", "/staff/login", body,
                                  {"Content-Type": "application/x-www-form-urlencoded"})
        if st != 302:
            raise RuntimeError(f"login {email} -> {st}: {raw[:300]!r}")
        st, raw, _ = self.request("GET", "/staff/today")
        if st != 200:
            raise RuntimeError(f"/staff/today -> {st}: {raw[:300]!r}")
        found = (re.search(rb'name="csrf-token" content="([^"]+)"', raw)
                 or re.search(rb'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', raw))
        if not found:
            raise RuntimeError("no CSRF token on /staff/today")
        self.csrf = found.group(1).decode()

    def record(self, body: dict):
        """POST one dose; on a dropped connection send it again (same idempotency key)."""
        data = json.dumps(body).encode()
        headers = {"Content-Type": "application/json", "X-CSRFToken": self.csrf,
                   "Accept": "application/json"}
        for _ in range(20):
            try:
                return self.request("POST", "/staff/today/doses", data, headers)[:2]
            except (http.client.HTTPException, OSError):
                self.reconnect()
                time.sleep(0.2)
        raise RuntimeError("the server did not come back")


# --- seeding ---------------------------------------------------------------------------------

def seed(dep: Deployment, n_facilities: int, n_vaccinators: int, n_people: int) -> dict:
    """Sessions today at n_facilities centres, a lot each, the vaccinators, and n_people
    people with an account and a booked appointment, spread over the centres. Bulk SQL:
    seeding is not what is measured."""
    from werkzeug.security import generate_password_hash

    from cowin_kit.accounts.models import CitizenAccount, StaffUser
    from cowin_kit.programmes.models import Product
    from cowin_kit.registration.models import Beneficiary, IdDocumentType
    from cowin_kit.scheduling.models import (
        Appointment,
        Facility,
        SessionCapacity,
        VaccinationSession,
    )
    from cowin_kit.scheduling.sessions import create_session
    from cowin_kit.vaccination.models import VaccineLot

    today = dt.datetime.now(ZoneInfo(_profile()["timezone"])).date()
    db = dep.database()
    try:
        with db.session() as s:
            product = s.scalars(select(Product).where(
                Product.is_active.is_(True), Product.min_age_years <= 40,
                (Product.max_age_years.is_(None)) | (Product.max_age_years >= 60))
                .order_by(Product.id)).first()
            centres = list(s.scalars(select(Facility).order_by(Facility.id)))
            while len(centres) < n_facilities:  # more centres beside the demo's
                base = centres[len(centres) % max(1, len(centres))]
                extra = Facility(code=f"BENCH-{len(centres):05d}", name=f"Bench {len(centres)}",
                                 division_id=base.division_id, address="", fee_type="Free")
                s.add(extra)
                s.flush()
                centres.append(extra)
            centres = centres[:n_facilities]
            per_centre = -(-n_people // n_facilities)
            sessions, slots, lots = {}, {}, {}
            for c in centres:
                vs = s.scalar(select(VaccinationSession).where(  # the demo's, if it has one
                    VaccinationSession.facility_id == c.id, VaccinationSession.date == today,
                    VaccinationSession.product_id == product.id))
                if vs is None:
                    vs = create_session(s, c, today, product, 18, None, {1: 1},
                                        [(dt.time(0, 0), dt.time(23, 59))])
                    s.flush()
                s.execute(SessionCapacity.__table__.update().where(
                    SessionCapacity.session_id == vs.id, SessionCapacity.dose_number == 1)
                    .values(capacity=SessionCapacity.capacity + per_centre + 10))
                sessions[c.id], slots[c.id] = vs.id, vs.slots[0].id
                lot = VaccineLot(facility_id=c.id, product_id=product.id,
                                 lot_number=f"LOT{c.id}", expires_on=today + dt.timedelta(days=90),
                                 doses_received=per_centre + 100)
                s.add(lot)
                s.flush()
                lots[c.id] = lot.id
            hashed = generate_password_hash(PASSWORD)
            users = []
            for i in range(n_vaccinators):
                c = centres[i % n_facilities]
                email = f"vac{i}@bench.example.org"
                s.execute(insert(StaffUser).values(
                    email=email, password_hash=hashed, role="vaccinator",
                    division_id=c.division_id, facility_id=c.id, must_change_password=False,
                    is_active=True, language="en"))
                users.append((email, c.id))
            doc = s.scalar(select(IdDocumentType.id).order_by(IdDocumentType.id))
            now = dt.datetime.now(dt.UTC)
            accounts = [{"mobile": f"+5197{i:07d}", "language": "es", "created_at": now}
                        for i in range(n_people)]
            s.execute(insert(CitizenAccount), accounts)
            account_ids = dict(s.execute(select(CitizenAccount.mobile, CitizenAccount.id)).all())
            people = []
            for i in range(n_people):
                people.append({
                    "reference_id": f"B{i:013d}", "account_id": account_ids[f"+5197{i:07d}"],
                    "name": f"Persona {i}", "birth_year": 1980, "gender": "female",
                    "priority_groups": [], "language": "es", "id_document_type_id": doc,
                    "id_number_hash": uuid.uuid4().hex * 2, "id_number_encrypted": "x",
                    "id_number_masked": "XXXX0000", "id_verification_status": "unverified",
                    "id_verification_reference": "", "created_at": now})
            s.execute(insert(Beneficiary), people)
            person_ids = list(s.scalars(select(Beneficiary.id).where(
                Beneficiary.reference_id.like("B%")).order_by(Beneficiary.id)))
            appts, by_centre = [], collections.defaultdict(int)
            for i, pid in enumerate(person_ids):
                c = centres[i % n_facilities]
                appts.append({"id": str(uuid.uuid4()), "beneficiary_id": pid,
                              "session_id": sessions[c.id], "slot_id": slots[c.id],
                              "dose_number": 1, "secret_code": f"{i % 10000:04d}",
                              "status": "booked", "reschedule_count": 0, "created_at": now,
                              "source": "online"})
                by_centre[c.id] += 1
            s.execute(insert(Appointment), appts)
            for c in centres:
                s.execute(SessionCapacity.__table__.update()
                          .where(SessionCapacity.session_id == sessions[c.id],
                                 SessionCapacity.dose_number == 1)
                          .values(booked=SessionCapacity.booked + by_centre[c.id]))
            centre_of = {c.id: c for c in centres}
            return {"product_id": product.id, "users": users, "lots": lots,
                    "appointments": [(a["id"], centre_of[centres[i % n_facilities].id].id,
                                      a["beneficiary_id"]) for i, a in enumerate(appts)]}
    finally:
        db.dispose()


def _profile():
    from cowin_kit.profiles import load_profile

    return load_profile(COUNTRY)


# --- the baseline: the same transaction in raw SQL -------------------------------------------

def baseline(dep: Deployment, work: list[tuple[str, int, int]], lots: dict, product_id: int,
             n_threads: int) -> dict:
    """Record each dose in one raw-SQL transaction, from n_threads threads."""
    db = dep.database()
    engine = db.engine
    sqlite = engine.dialect.name == "sqlite"
    queue = list(work)
    lock = threading.Lock()
    lat: list[float] = []
    programme = None
    with engine.connect() as conn:
        programme = conn.scalar(text("SELECT programme_id FROM product WHERE id = :p"),
                                {"p": product_id})

    def loop():
        mine = []
        with engine.connect() as conn:
            while True:
                with lock:
                    if not queue:
                        break
                    appt, centre, person = queue.pop()
                t0 = time.perf_counter()
                now = dt.datetime.now(dt.UTC)
                if sqlite:
                    conn.exec_driver_sql("BEGIN IMMEDIATE")
                else:
                    conn.begin()
                conn.execute(text("SELECT id FROM appointment WHERE id = :a AND status = "
                                  "'booked'" + ("" if sqlite else " FOR UPDATE")), {"a": appt})
                conn.execute(text("UPDATE vaccine_lot SET doses_used = doses_used + 1 WHERE "
                                  "id = :l AND doses_used < doses_received"), {"l": lots[centre]})
                conn.execute(text(
                    "INSERT INTO dose (beneficiary_id, programme_id, dose_number, product_id, "
                    "facility_id, given_on, appointment_id, created_at, lot_id, site, given_at, "
                    "idempotency_key) VALUES (:b, :prog, 1, :prod, :f, :d, :a, :now, :l, "
                    "'left_arm', :now, :k)"),
                    {"b": person, "prog": programme, "prod": product_id, "f": centre,
                     "d": now.date(), "a": appt, "now": now, "l": lots[centre],
                     "k": uuid.uuid4().hex})
                conn.execute(text("UPDATE appointment SET status = 'done' WHERE id = :a AND "
                                  "status = 'booked'"), {"a": appt})
                conn.execute(text(
                    "INSERT INTO notification_outbox (created_at, kind, mobile, language, msgid, "
                    "params, beneficiary_id, status, attempts, next_attempt_at) VALUES (:now, "
                    # written as sent: the same write, but the worker of the day leaves it
                    "'dose.recorded', '+51900000000', 'es', 'x', '{}', :b, 'sent', 0, :now)"),
                    {"now": now, "b": person})
                conn.execute(text(
                    "INSERT INTO audit_event (at, actor, action, target, details) VALUES "
                    "(:now, 'staff:1', 'dose.recorded', :t, '{}')"), {"now": now, "t": appt})
                if sqlite:
                    conn.exec_driver_sql("COMMIT")
                else:
                    conn.commit()
                mine.append(time.perf_counter() - t0)
        with lock:
            lat.extend(mine)

    threads = [threading.Thread(target=loop) for _ in range(n_threads)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - started
    db.dispose()
    return {"n": len(lat), "wall": wall, "rate": len(lat) / wall, "p50": pct(lat, 50),
            "p95": pct(lat, 95), "p99": pct(lat, 99)}


# --- the day over HTTP -------------------------------------------------------------------------

def worker_proc(dep: Deployment) -> subprocess.Popen:
    log = open(dep.tmp / "worker.log", "a")
    return subprocess.Popen([tool("cowin-kit"), "worker", "--instance", str(dep.instance)],
                            env=dep.env(), stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)


def gunicorn_workers(master: int) -> list[int]:
    out = subprocess.run(["pgrep", "-P", str(master)], capture_output=True, text=True)
    return [int(p) for p in out.stdout.split()]


def the_day(dep: Deployment, data: dict, work: list[tuple[str, int, int]], kill: bool,
            logged_in=None) -> dict:
    """``logged_in``, if given, is called once every vaccinator has logged in, just before the
    doses (sizing.py starts its CPU meters there)."""
    users = data["users"]
    staff = [Staff(dep.port) for _ in users]
    started = time.perf_counter()
    for client, (email, _centre) in zip(staff, users, strict=True):
        client.login(email)
    login_s = time.perf_counter() - started
    if logged_in is not None:
        logged_in()
    by_centre = collections.defaultdict(list)
    for item in work:
        by_centre[item[1]].append(item)
    queues = {}  # each vaccinator takes the next person of its centre
    lock = threading.Lock()
    for _email, centre in users:
        queues.setdefault(centre, by_centre[centre])
    results = collections.Counter()
    lat: list[float] = []
    done = [0]
    killed = {"gunicorn": None, "worker": False}
    sms_worker = worker_proc(dep)
    total = len(work)

    def vaccinate(client: Staff, centre: int):
        mine = []
        while True:
            with lock:
                if not queues[centre]:
                    break
                appt, _c, _person = queues[centre].pop()
            body = {"appointment_id": appt, "lot_id": data["lots"][centre], "site": "left_arm",
                    "given_at": dt.datetime.now(dt.UTC).isoformat(),
                    "idempotency_key": str(uuid.uuid4())}
            t0 = time.perf_counter()
            status, raw = client.record(body)
            mine.append(time.perf_counter() - t0)
            with lock:
                results[status] += 1
                done[0] += 1
                if status not in (200, 201) and results[status] <= 3:
                    print(f"    unexpected {status}: {raw[:200]!r}")
        with lock:
            lat.extend(mine)

    def killer():
        nonlocal sms_worker
        while done[0] < total // 3:
            time.sleep(0.05)
        pids = gunicorn_workers(dep.proc.pid)
        if pids:
            os.kill(pids[0], signal.SIGKILL)
            killed["gunicorn"] = pids[0]
        os.killpg(sms_worker.pid, signal.SIGKILL)
        sms_worker.wait()
        killed["worker"] = True
        time.sleep(1)
        sms_worker = worker_proc(dep)

    threads = [threading.Thread(target=vaccinate, args=(c, centre))
               for c, (_e, centre) in zip(staff, users, strict=True)]
    if kill:
        threads.append(threading.Thread(target=killer))
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - started
    reconnects = sum(c.reconnects for c in staff)
    for c in staff:
        c.conn.close()
    return {"n": len(lat), "wall": wall, "rate": len(lat) / wall, "p50": pct(lat, 50),
            "p95": pct(lat, 95), "p99": pct(lat, 99), "statuses": dict(results),
            "login_s": login_s, "killed": killed, "reconnects": reconnects,
            "sms_worker": sms_worker}


def drain_and_check(dep: Deployment, day: dict, work: list, deadline: float = 300) -> dict:
    """Wait for the SMS worker to send everything, then count."""
    from cowin_kit.notifications.models import OutboxMessage
    from cowin_kit.scheduling.models import Appointment
    from cowin_kit.vaccination.models import Dose, VaccineLot

    db = dep.database()
    try:
        end = time.monotonic() + deadline
        while time.monotonic() < end:
            with db.session() as s:
                pending = s.scalar(select(func.count()).select_from(OutboxMessage).where(
                    OutboxMessage.kind == "dose.recorded",
                    OutboxMessage.status.in_(("pending", "sending")),
                    OutboxMessage.mobile != "+51900000000"))
            if not pending:
                break
            time.sleep(0.5)
        day["sms_worker"].send_signal(signal.SIGTERM)
        try:
            day["sms_worker"].wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(day["sms_worker"].pid, signal.SIGKILL)
        ids = [a for a, _c, _p in work]
        with db.session() as s:
            doses = s.scalar(select(func.count()).select_from(Dose).where(
                Dose.appointment_id.in_(ids)))
            twice = s.scalar(select(func.count()).select_from(
                select(Dose.beneficiary_id).group_by(Dose.beneficiary_id)
                .having(func.count() > 1).subquery()))
            undone = s.scalar(select(func.count()).select_from(Appointment).where(
                Appointment.id.in_(ids), Appointment.status != "done"))
            lot_used = s.scalar(select(func.sum(VaccineLot.doses_used)))
            all_doses = s.scalar(select(func.count()).select_from(Dose))
            queued = s.scalar(select(func.count()).select_from(OutboxMessage).where(
                OutboxMessage.kind == "dose.recorded",
                OutboxMessage.mobile != "+51900000000"))
            unsent = queued - s.scalar(select(func.count()).select_from(OutboxMessage).where(
                OutboxMessage.kind == "dose.recorded", OutboxMessage.status == "sent",
                OutboxMessage.mobile != "+51900000000"))
        sent = collections.Counter()
        log = dep.instance / "sms-outbox.jsonl"
        if log.exists():
            for line in log.read_text(encoding="utf-8").splitlines():
                msg = json.loads(line)
                sent[msg["to"]] += 1
        people = len(work)
        return {"doses": doses, "twice": twice, "undone": undone, "lot_used": lot_used,
                "all_doses": all_doses, "queued": queued, "unsent": unsent,
                "sms_people": len(sent), "sms_twice": sum(1 for n in sent.values() if n > 1),
                "sms_total": sum(sent.values()), "people": people}
    finally:
        db.dispose()


def run_one(kind: str, opts) -> bool:
    dep = Deployment(kind, opts.pg_url, opts.workers, opts.threads, None)
    dep.pg_db = f"bench_day_{os.getpid()}"
    try:
        t0 = time.perf_counter()
        dep.provision()
        data = seed(dep, opts.facilities, opts.vaccinators, 2 * opts.doses)
        half = len(data["appointments"]) // 2
        base_work, day_work = data["appointments"][:half], data["appointments"][half:]
        setup = time.perf_counter() - t0
        base = baseline(dep, base_work, data["lots"], data["product_id"], opts.vaccinators)
        dep.start()
        day = the_day(dep, data, day_work, kill=not opts.no_kill)
        check = drain_and_check(dep, day, day_work)
    finally:
        dep.stop()
        dep.cleanup()
    print(f"\n=== {kind}: {opts.facilities} centres, {opts.vaccinators} vaccinators, "
          f"{len(day_work)} doses; gunicorn {opts.workers} workers x {opts.threads} threads, "
          f"{os.cpu_count()} CPUs ===")
    print(f"  setup (init --demo, seed)            {setup:8.1f} s; "
          f"{len(data['users'])} logins took {day['login_s']:.1f} s")
    print("                                        doses/s   p50 ms   p95 ms   p99 ms")
    for label, r in (("baseline: raw SQL, same transaction", base),
                     ("the day: POST /staff/today/doses", day)):
        print(f"  {label:<37} {r['rate']:8.0f} {ms(r['p50'])} {ms(r['p95'])} {ms(r['p99'])}")
    print(f"  ratio (the day / baseline)           {day['rate'] / base['rate']:8.2f}")
    print(f"  statuses {day['statuses']}; connections re-made by clients {day['reconnects']}")
    if not opts.no_kill:
        print(f"  killed: gunicorn worker pid {day['killed']['gunicorn']}, "
              f"SMS worker {'yes' if day['killed']['worker'] else 'no'} (restarted)")
    print(f"  doses recorded {check['doses']} of {check['people']}; people with two doses "
          f"{check['twice']}; appointments not done {check['undone']}")
    print(f"  lot doses used {check['lot_used']} = doses in the database {check['all_doses']}")
    print(f"  SMS 'dose recorded': queued {check['queued']}, unsent {check['unsent']}, "
          f"people texted {check['sms_people']}, texted twice {check['sms_twice']}, "
          f"texts sent {check['sms_total']}")
    ok = (check["doses"] == check["people"] and check["twice"] == 0 and check["undone"] == 0
          and check["lot_used"] == check["all_doses"] and check["queued"] == check["people"]
          and check["unsent"] == 0 and check["sms_twice"] == 0
          and check["sms_people"] == check["people"])
    print("  CHECKS " + ("PASSED" if ok else "FAILED"))
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--pg-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--facilities", type=int, default=40)
    parser.add_argument("--vaccinators", type=int, default=80)
    parser.add_argument("--doses", type=int, default=4000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4, help="gthread threads per worker")
    parser.add_argument("--no-kill", action="store_true",
                        help="do not kill a gunicorn worker and the SMS worker mid-run")
    opts = parser.parse_args()
    kinds = ["sqlite", "postgresql"] if opts.db == "both" else [opts.db]
    good = True
    for kind in kinds:
        good = run_one(kind, opts) and good
    return 0 if good else 1


if __name__ == "__main__":
    sys.exit(main())
