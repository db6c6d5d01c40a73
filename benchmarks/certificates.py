"""Certificates: issued per second, verified per second, PDF downloads per second over HTTP.

    python benchmarks/certificates.py [--db sqlite|postgresql|both]
        [--pg-url postgresql://postgres@127.0.0.1:5432/postgres] [--people 300]
        [--sign-seconds 5] [--seconds 10] [--clients 32] [--workers 2] [--threads 8]

Per database: a fresh `cowin-kit init --country PE --demo` instance in a temporary folder
(PostgreSQL: a database made and dropped through --pg-url), then, each beside its baseline
measured in the same run (the machine is shared; the ratio is what to compare):

1. **issue (sign and encode)**: the HC1 text (CBOR, COSE_Sign1 ES256, zlib, Base45) and the
   SMART Health Card (FHIR bundle, raw DEFLATE, JWS ES256) of a two-dose person, in one
   process. Baseline: the two bare ECDSA signatures over the same bytes.
2. **issue in the database**: `issuing.issue` for --people people (their doses, the payloads,
   the row, the commit), one transaction each. Baseline: the same row written with raw SQL
   after the same two bare signatures.
3. **verify**: `verify.verify` of the issued HC1 texts against the deployment's trust list and
   revocation list. Baseline: the bare ECDSA verification of the same signatures.
4. **PDF downloads**: gunicorn (gthread) serves the Co-WIN endpoint
   `GET /api/v2/registration/certificate/download?beneficiary_reference_id=` to --clients
   keep-alive clients, each logged in by OTP as the owner of the person, for --seconds; every
   PDF was rendered once before (the first download stores it). Baseline: a bare WSGI app in
   the same gunicorn set-up sending the same bytes. Rate, p50/p95/p99, statuses.

Checks (exit 1 when one fails): every download is 200 and a PDF; every issued certificate
verifies. Only talks to 127.0.0.1.
"""
from __future__ import annotations

import argparse
import datetime as dt
import http.client
import os
import signal
import subprocess
import sys
import threading
import time

from booking_storm import SERVER, Client, Deployment, free_port, ms, pct, phase1, server_command
from sqlalchemy import select, text

BARE_WSGI = '''\
import os
BODY = open(os.environ["BENCH_PDF"], "rb").read()
HEADERS = [("Content-Type", "application/pdf"), ("Content-Length", str(len(BODY))),
           ("Content-Disposition", 'attachment; filename="certificate.pdf"')]

def app(environ, start_response):
    start_response("200 OK", HEADERS)
    return [BODY]
'''


def rate(n: int, seconds: float) -> str:
    return f"{n / seconds:,.0f}/s" if seconds > 0 else "inf"


def timed(fn, seconds: float) -> tuple[int, float]:
    """Run fn() repeatedly for about ``seconds``: (calls, elapsed)."""
    n, start = 0, time.perf_counter()
    end = start + seconds
    while True:
        fn()
        n += 1
        if n % 16 == 0 and time.perf_counter() >= end:
            return n, time.perf_counter() - start


# --- 1. sign and encode ------------------------------------------------------------------------

def sign_and_encode(dep: Deployment, seconds: float) -> dict:
    import cbor2
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec

    from cowin_kit.certificates import hc1, keys, shc
    from cowin_kit.config import load_settings

    settings = load_settings(dep.instance, environ=dep.env())
    signer = keys.from_settings(settings).current
    now = dt.datetime.now(dt.UTC)
    dcc = {"ver": "1.3.0", "nam": {"fn": "Rosa Mamani Quispe", "fnt": "ROSA<MAMANI<QUISPE"},
           "dob": "1980-04-02",
           "v": [{"tg": "840539006", "vp": "1119349007", "mp": "EU/1/20/1528",
                  "ma": "ORG-100030215", "dn": 2, "sd": 2, "dt": "2026-11-02", "co": "PE",
                  "is": "Ministerio de Salud del Perú",
                  "ci": "URN:UVCI:01:PE:ABCDEFGHIJKLMNOPQRSTUVWXYZ#A"}]}
    bundle = {"resourceType": "Bundle", "type": "collection", "entry": [
        {"fullUrl": "resource:0", "resource": {"resourceType": "Patient",
                                               "name": [{"text": "Rosa Mamani Quispe"}],
                                               "birthDate": "1980-04-02"}}] + [
        {"fullUrl": f"resource:{i}", "resource": {
            "resourceType": "Immunization", "status": "completed",
            "vaccineCode": {"coding": [{"system": "http://hl7.org/fhir/sid/cvx",
                                        "code": "208"}]},
            "patient": {"reference": "resource:0"}, "occurrenceDateTime": "2026-11-02",
            "lotNumber": "FF1234", "performer": [{"actor": {"display": "MINSA"}}]}}
        for i in (1, 2)]}
    card = shc.credential(bundle, issuer_url="https://vacunas.example.gob", issued_at=now,
                          covid=True)

    def kit():
        hc1.encode(dcc, signer, country="PE", issued_at=now,
                   expires_at=now + dt.timedelta(days=365))
        shc.sign(card, signer)

    payload = cbor2.dumps({1: "PE", 6: 1, 4: 2, -260: {1: dcc}})
    to_sign = cbor2.dumps(["Signature1", b"\xa2\x01&\x04H" + signer.kid, b"", payload])
    jws_input = b"x" * 900

    def bare():
        signer.private_key.sign(to_sign, ec.ECDSA(hashes.SHA256()))
        signer.private_key.sign(jws_input, ec.ECDSA(hashes.SHA256()))

    n_kit, t_kit = timed(kit, seconds)
    n_bare, t_bare = timed(bare, seconds)
    return {"kit": n_kit / t_kit, "bare": n_bare / t_bare}


# --- 2. issue in the database; 3. verify ----------------------------------------------------------

def people_with_doses(dep: Deployment, refs: list[str]) -> list[int]:
    """Give each person dose 1 and 2 of the demo's first adult product (no certificate yet)."""
    from cowin_kit.programmes.models import Product
    from cowin_kit.registration.models import Beneficiary
    from cowin_kit.vaccination.models import Dose

    db = dep.database()
    try:
        with db.session() as s:
            product = s.scalar(select(Product).where(Product.code == "comirnaty"))
            ids = list(s.scalars(select(Beneficiary.id).where(Beneficiary.reference_id.in_(refs))))
            today = dt.date.today()
            for pid in ids:
                for n, days in ((1, 60), (2, 20)):
                    s.add(Dose(beneficiary_id=pid, programme_id=product.programme_id,
                               product_id=product.id, dose_number=n,
                               given_on=today - dt.timedelta(days=days)))
            s.commit()
            return ids
    finally:
        db.dispose()


def issue_in_db(dep: Deployment, ids: list[int]) -> dict:
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec

    from cowin_kit.certificates import issuing
    from cowin_kit.config import load_settings
    from cowin_kit.profiles import load_profile
    from cowin_kit.registration.models import Beneficiary

    settings = load_settings(dep.instance, environ=dep.env())
    ctx = issuing.context_for(settings, load_profile("PE"))
    ctx = issuing.IssuingContext(ctx.country, ctx.issuer, ctx.ring,
                                 public_url="https://vacunas.example.gob")
    db = dep.database()
    try:
        start = time.perf_counter()
        for pid in ids:
            with db.session() as s:
                person = s.get(Beneficiary, pid)
                issuing.issue(s, person, person_programme(s, pid), ctx)
                s.commit()
        kit = len(ids) / (time.perf_counter() - start)
        signer = ctx.ring.current
        blob = b"y" * 400
        start = time.perf_counter()
        for i, pid in enumerate(ids):
            a = signer.private_key.sign(blob, ec.ECDSA(hashes.SHA256()))
            b = signer.private_key.sign(blob, ec.ECDSA(hashes.SHA256()))
            with db.engine.begin() as conn:
                conn.execute(text(
                    "INSERT INTO certificate (uvci, beneficiary_id, programme_id, version, "
                    "status, doses, issued_at, expires_at, kid, hc1, shc) VALUES (:u, :b, "
                    "(SELECT programme_id FROM dose WHERE beneficiary_id = :b LIMIT 1), "
                    "1000, 'final', 2, :now, :now, :kid, :h, :s)"),
                    {"u": f"BENCH-{i}", "b": pid, "now": dt.datetime.now(dt.UTC),
                     "kid": signer.kid_b64, "h": a.hex() * 6, "s": b.hex() * 8})
        bare = len(ids) / (time.perf_counter() - start)
        with db.engine.begin() as conn:
            conn.execute(text("DELETE FROM certificate WHERE version = 1000"))
        return {"kit": kit, "bare": bare}
    finally:
        db.dispose()


def person_programme(session, pid: int) -> int:
    from cowin_kit.vaccination.models import Dose
    return session.scalar(select(Dose.programme_id).where(Dose.beneficiary_id == pid).limit(1))


def verify_rate(dep: Deployment, seconds: float) -> dict:
    import zlib

    import base45
    import cbor2
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

    from cowin_kit.certificates import issuing, revocation, trust, verify
    from cowin_kit.certificates.models import Certificate
    from cowin_kit.config import load_settings

    settings = load_settings(dep.instance, environ=dep.env())
    ring = issuing.ring_for(settings)
    trusted = trust.TrustList.from_ring(ring)
    db = dep.database()
    try:
        with db.session() as s:
            texts = list(s.scalars(select(Certificate.hc1).where(Certificate.hc1.is_not(None))))
            revoked = verify.RevocationList.from_document(revocation.revocation_list(s))
    finally:
        db.dispose()
    bad = [t for t in texts if not verify.verify(t, trusted, revoked=revoked).valid]
    i = 0

    def kit():
        nonlocal i
        verify.verify(texts[i % len(texts)], trusted, revoked=revoked)
        i += 1

    cose = cbor2.loads(zlib.decompress(base45.b45decode(texts[0][4:])))
    protected, _, payload, sig = cose.value
    der = encode_dss_signature(int.from_bytes(sig[:32], "big"), int.from_bytes(sig[32:], "big"))
    to_sign = cbor2.dumps(["Signature1", protected, b"", payload])
    public = ring.current.certificate.public_key()

    def bare():
        public.verify(der, to_sign, ec.ECDSA(hashes.SHA256()))

    n_kit, t_kit = timed(kit, seconds)
    n_bare, t_bare = timed(bare, seconds)
    return {"kit": n_kit / t_kit, "bare": n_bare / t_bare, "failed": len(bad),
            "checked": len(texts)}


# --- 4. PDF downloads over HTTP ------------------------------------------------------------------

PATH = "/registration/certificate/download?beneficiary_reference_id="


def load(port: int, clients: list[Client], refs: list[str], seconds: float,
         path_for) -> dict:
    latencies: list[float] = []
    statuses: dict = {}
    lock = threading.Lock()
    stop = time.perf_counter() + seconds
    sizes = set()

    def run(i):
        c = clients[i]
        mine, got, codes = refs[i], [], {}
        while time.perf_counter() < stop:
            t0 = time.perf_counter()
            status, raw, _ = c.request("GET", path_for(mine))
            got.append(time.perf_counter() - t0)
            key = status if status != 200 or raw[:5] == b"%PDF-" else "200 not a PDF"
            codes[key] = codes.get(key, 0) + 1
            if status == 200:
                sizes.add(len(raw))
        with lock:
            latencies.extend(got)
            for k, v in codes.items():
                statuses[k] = statuses.get(k, 0) + v
    started = time.perf_counter()
    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(clients))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - started
    return {"rate": len(latencies) / elapsed, "p50": pct(latencies, 50),
            "p95": pct(latencies, 95), "p99": pct(latencies, 99), "statuses": statuses,
            "n": len(latencies)}


def bare_server(dep: Deployment, pdf: bytes, workers: int, threads: int):
    folder = dep.tmp / "bare"
    folder.mkdir(exist_ok=True)
    (folder / "bare_wsgi.py").write_text(BARE_WSGI, encoding="utf-8")
    (folder / "cert.pdf").write_bytes(pdf)
    port = free_port()
    env = dict(os.environ, BENCH_PDF=str(folder / "cert.pdf"))
    proc = subprocess.Popen(server_command(SERVER, workers, threads, port, folder,
                                           "bare_wsgi:app"),
                            env=env, start_new_session=True, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    end = time.monotonic() + 30
    while time.monotonic() < end:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/")
            conn.getresponse().read()
            return proc, port
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("the bare server did not start")


def run_one(kind: str, opts) -> bool:
    import cowin_kit.models  # noqa: F401 - every table, for the ORM's foreign keys

    dep = Deployment(kind, opts.pg_url, opts.workers, opts.threads, None)
    ok = True
    try:
        dep.provision()
        print(f"\n== {kind} ==")
        sig = sign_and_encode(dep, opts.sign_seconds)
        print(f"issue, sign and encode (HC1 + SMART Health Card), one process: "
              f"{sig['kit']:,.0f}/s; bare ECDSA signatures of the same bytes: "
              f"{sig['bare']:,.0f}/s; ratio {sig['kit'] / sig['bare']:.2f}")
        dep.start()
        clients = [Client(dep.port) for _ in range(opts.people)]
        refs, _ = phase1(dep, clients)
        ids = people_with_doses(dep, refs)
        db_issue = issue_in_db(dep, ids)
        print(f"issue in the database ({len(ids)} people, one transaction each): "
              f"{db_issue['kit']:,.0f}/s; raw SQL insert after the same signatures: "
              f"{db_issue['bare']:,.0f}/s; ratio {db_issue['kit'] / db_issue['bare']:.2f}")
        ver = verify_rate(dep, opts.sign_seconds)
        print(f"verify HC1 (trust list, revocation list, schema): {ver['kit']:,.0f}/s; bare "
              f"ECDSA verification: {ver['bare']:,.0f}/s; ratio {ver['kit'] / ver['bare']:.2f}"
              f"; {ver['checked'] - ver['failed']}/{ver['checked']} issued certificates valid")
        ok &= ver["failed"] == 0
        # Warm: the first download of each certificate renders and stores its PDF.
        active = clients[:opts.clients]
        first = None
        for c, ref in zip(clients, refs, strict=True):
            status, raw, _ = c.request("GET", PATH + ref)
            if status != 200 or raw[:5] != b"%PDF-":
                print(f"CHECK FAILED: first download of {ref} -> {status} {raw[:200]!r}")
                ok = False
            first = first or raw
        kit = load(dep.port, active, refs, opts.seconds, lambda r: PATH + r)
        proc, port = bare_server(dep, first, opts.workers, opts.threads)
        try:
            bare_clients = [Client(port) for _ in range(opts.clients)]
            for c in bare_clients:
                c.headers = {}
            import booking_storm
            saved, booking_storm.API = booking_storm.API, ""
            try:
                bare = load(port, bare_clients, refs, opts.seconds, lambda r: "/cert.pdf")
            finally:
                booking_storm.API = saved
        finally:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(10)
        print(f"PDF downloads ({opts.clients} clients, {opts.seconds:.0f} s, {len(first):,} "
              f"bytes): {kit['rate']:,.0f}/s p50 {ms(kit['p50'])} p95 {ms(kit['p95'])} p99 "
              f"{ms(kit['p99'])} {kit['statuses']}")
        print(f"  bare server, same bytes: {bare['rate']:,.0f}/s p50 {ms(bare['p50'])} p95 "
              f"{ms(bare['p95'])}; ratio {kit['rate'] / bare['rate']:.2f}")
        if set(kit["statuses"]) != {200}:
            print("CHECK FAILED: downloads other than 200 PDF:", kit["statuses"])
            ok = False
        for c in clients:
            c.close()
    finally:
        dep.stop()
        dep.cleanup()
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--pg-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--people", type=int, default=300)
    parser.add_argument("--sign-seconds", type=float, default=5)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=8)
    opts = parser.parse_args()
    opts.clients = min(opts.clients, opts.people)
    kinds = ("sqlite", "postgresql") if opts.db == "both" else (opts.db,)
    ok = all([run_one(kind, opts) for kind in kinds])
    print("\nall checks passed" if ok else "\nSOME CHECKS FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
