"""API tokens: what checking a signed JWT (issue 14) adds to every logged-in API call.

    python benchmarks/api_tokens.py [--db sqlite|postgresql|both]
        [--pg-url postgresql://postgres@127.0.0.1:5432/postgres] [--seconds 5]

Per database: a fresh `cowin-kit init --country PE --demo` instance in a temporary folder
(PostgreSQL: a database made and dropped through --pg-url), one citizen logged in through
the API (auth/generateOTP, the code read from sms-outbox.jsonl, auth/confirmOTP). Then, in
one process and for --seconds each, in rounds that alternate (the machine is shared; the
ratio is what to compare):

1. **baseline**: `otp.authenticate(session, token)`, the look-up of the token's row and its
   account by the token's hash in one round trip: all an opaque token needed before.
2. **API check**: `otp.authenticate(session, token, settings=…)`, what `login_required` runs:
   the HS256 signature checked, then the same look-up.
3. **signature alone**: `otp.check_signature(token, settings)`.

Prints calls/s, mean and p95 in microseconds, and the ratio of 2 to 1. Only talks to
127.0.0.1.
"""
from __future__ import annotations

import argparse
import hashlib
import os
import time

from booking_storm import Deployment, pct, read_otp


def login(dep: Deployment, app) -> str:
    client = app.test_client()
    mobile = "987654321"
    txn = client.post("/api/v2/auth/generateOTP", json={"mobile": mobile}).get_json()["txnId"]
    code = read_otp(dep.instance / "sms-outbox.jsonl", mobile)
    answer = client.post("/api/v2/auth/confirmOTP", json={
        "txnId": txn, "otp": hashlib.sha256(code.encode()).hexdigest()})
    return answer.get_json()["token"]


def timed(fn, seconds: float) -> list[float]:
    """Durations of fn() called repeatedly for about ``seconds``."""
    out, end = [], time.perf_counter() + seconds
    while time.perf_counter() < end:
        start = time.perf_counter()
        fn()
        out.append(time.perf_counter() - start)
    return out


def line(name: str, durations: list[float]) -> str:
    total, n = sum(durations), len(durations)
    return (f"  {name:<18} {n / total:>9,.0f}/s   mean {total / n * 1e6:7.1f} µs"
            f"   p95 {pct(durations, 95) * 1e6:7.1f} µs")


def run_one(kind: str, opts) -> None:
    from cowin_kit.accounts import otp
    from cowin_kit.app import create_app
    from cowin_kit.config import load_settings

    dep = Deployment(kind, opts.pg_url, 1, 1, None)
    try:
        dep.provision()
        os.environ.update(dep.env())
        app = create_app({"INSTANCE_PATH": dep.instance, "RATELIMIT_ENABLED": False})
        token = login(dep, app)
        settings = load_settings(dep.instance, environ=dep.env())
        db = dep.database()
        runs = {"baseline (look-up)": [], "API check": [], "signature alone": []}
        with db.session() as s:
            calls = {"baseline (look-up)": lambda: otp.authenticate(s, token),
                     "API check": lambda: otp.authenticate(s, token, settings=settings),
                     "signature alone": lambda: otp.check_signature(token, settings)}
            for call in calls.values():  # warm up: statement caches, connections
                timed(call, 0.2)
            for _round in range(4):
                for name, call in calls.items():
                    runs[name] += timed(call, opts.seconds / 4)
        db.dispose()
        print(f"\n{kind}: {opts.seconds:g} s each, 4 alternating rounds")
        for name, durations in runs.items():
            print(line(name, durations))
        base, api = (sum(runs[n]) / len(runs[n]) for n in ("baseline (look-up)", "API check"))
        print(f"  ratio API check / baseline: {api / base:.2f}")
    finally:
        dep.cleanup()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--pg-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--seconds", type=float, default=5)
    opts = parser.parse_args()
    for kind in (("sqlite", "postgresql") if opts.db == "both" else (opts.db,)):
        run_one(kind, opts)


if __name__ == "__main__":
    main()
