"""What the kit relies on from its WSGI web_server, checked through `cowin-kit web` (granian) as
a client sees it: bodies too large or chunked, a staff upload, HEAD and 304s, gzip, whole
PDF downloads and the forwarded address behind a proxy. (helpers.WebServer starts
the command.)"""
from __future__ import annotations

import datetime as dt
import gzip
import hashlib
import json
import socket

import pytest
import requests
from sqlalchemy import select, text

from cowin_kit.accounts.models import AuditEvent
from cowin_kit.accounts.service import audit
from cowin_kit.geography.models import Division
from cowin_kit.scheduling.models import Facility, VaccinationSession
from cowin_kit.testing import last_otp

from helpers import (
    ADMIN_EMAIL,
    ADMIN_PASSWORD,
    LATER,
    WebServer,
    certify,
    csrf,
    register_person,
)

OTP = "/api/v2/auth/public/generateOTP"
TOO_BIG = 1024 * 1024 + 1  # one byte over MAX_CONTENT_LENGTH (1 MB)
ENGLISH = {"Accept-Language": "en"}


def _raw(web_server, request: bytes) -> tuple[bytes, bytes]:
    """Send ``request`` (it asks to close the connection) on a socket of its own and read
    until the server closes it: (status line and headers, everything after them)."""
    with socket.create_connection(("127.0.0.1", web_server.port), timeout=20) as conn:
        conn.sendall(request)
        data = b""
        while chunk := conn.recv(65536):
            data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    return head, rest


def _header(head: bytes, name: str) -> str | None:
    for line in head.decode("latin-1").split("\r\n")[1:]:
        key, _, value = line.partition(":")
        if key.strip().lower() == name.lower():
            return value.strip()
    return None


def _staff(web_server) -> requests.Session:
    """A requests session logged in to the staff pages as the instance's administrator."""
    s = requests.Session()
    s.headers.update(ENGLISH)
    page = s.get(f"{web_server.url}/staff/login").text
    r = s.post(f"{web_server.url}/staff/login", data={
        "email": ADMIN_EMAIL, "password": ADMIN_PASSWORD, "csrf_token": csrf(page)},
        allow_redirects=False)
    assert r.status_code == 302 and r.headers["Location"].endswith("/staff/"), r.text[:300]
    return s


# --- 1. bodies too large, and chunked ------------------------------------------------------

def test_an_api_body_over_the_limit_is_refused_with_413_and_a_reason(web_server):
    body = json.dumps({"mobile": "987650011", "pad": "x" * TOO_BIG}).encode()
    r = requests.post(f"{web_server.url}{OTP}", data=body, timeout=30,
                      headers={"Content-Type": "application/json", **ENGLISH})
    assert r.status_code == 413, r.text[:300]
    assert r.json() == {"errorCode": "PAYLOAD_TOO_LARGE",
                        "error": "The request body is too large."}
    # the server still answers after it (a new connection)
    assert requests.get(f"{web_server.url}/healthz", timeout=10).status_code == 200


def _chunks(body: bytes, size: int = 4096):
    for start in range(0, len(body), size):
        yield body[start:start + size]


def test_a_chunked_api_body_is_read_whole(web_server, cowin_kit_instance):
    """No Content-Length, Transfer-Encoding: chunked: the body is read (granian says
    wsgi.input_terminated), and the code is sent as for any other request."""
    body = json.dumps({"mobile": "987650012"}).encode()
    r = requests.post(f"{web_server.url}{OTP}", data=_chunks(body, 7), timeout=30,
                      headers={"Content-Type": "application/json", **ENGLISH})
    assert r.request.headers.get("Transfer-Encoding") == "chunked"
    assert "Content-Length" not in r.request.headers
    assert r.status_code == 200, r.text[:300]
    assert r.json()["txnId"] and last_otp(cowin_kit_instance)


def test_a_chunked_api_body_over_the_limit_is_refused_with_413(web_server):
    body = json.dumps({"mobile": "987650013", "pad": "x" * TOO_BIG}).encode()
    r = requests.post(f"{web_server.url}{OTP}", data=_chunks(body), timeout=30,
                      headers={"Content-Type": "application/json", **ENGLISH})
    assert r.status_code == 413, r.text[:300]
    assert r.json()["errorCode"] == "PAYLOAD_TOO_LARGE"


# --- 2. the staff's sessions file ------------------------------------------------------------

HEADER = "facility_code,date,vaccine,min_age,max_age,capacity_dose1,capacity_dose2,slots,fee\n"


def _day(days: int) -> str:
    return (LATER + dt.timedelta(days=days)).strftime("%d-%m-%Y")


def _upload(s: requests.Session, web_server, text: str, name: str = "week.csv"):
    page = s.get(f"{web_server.url}/staff/sessions/import").text
    return s.post(f"{web_server.url}/staff/sessions/import", data={"csrf_token": csrf(page)},
                  files={"file": (name, text.encode(), "text/csv")}, timeout=60)


def test_staff_import_a_sessions_file(web_server, database):
    with _staff(web_server) as s:
        r = _upload(s, web_server, HEADER + f"DEMO-PE-0001,{_day(0)},comirnaty,12,,50,30,"
                                        "09:00-11:00;11:00-13:00,\n"
                                        f"DEMO-PE-0002,{_day(1)},bbibp-corv,18,44,100,,"
                                        "08:00-12:00,\n")
        assert r.status_code == 200 and r.history[0].status_code == 302, r.text[:300]
        assert "2 session(s) added and 0 updated from week.csv." in r.text
        # a file past MAX_CONTENT_LENGTH (but not MAX_UPLOAD_LENGTH) is read: its fault named
        big = _upload(s, web_server, HEADER + "X" * 2_000_000 + ",x\n", name="big.csv")
        assert big.status_code == 400 and "cannot be read as CSV" in big.text, big.text[:300]
        # past MAX_UPLOAD_LENGTH (16 MB): refused with the page saying so
        huge = _upload(s, web_server, HEADER + "X" * 17_000_000 + ",x\n", name="huge.csv")
        assert huge.status_code == 413 and "Too large" in huge.text, huge.text[:300]
    with database.session() as db:
        assert db.scalar(select(VaccinationSession.min_age).join(Facility).where(
            Facility.code == "DEMO-PE-0001", VaccinationSession.date == LATER)) == 12


# --- 3. HEAD and conditional GET ----------------------------------------------------------------

@pytest.mark.parametrize("path,kind", [("/portal/login", "text/html"),
                                       ("/static/site.css", "text/css")])
def test_head_answers_the_headers_without_a_body(web_server, path, kind):
    got = requests.get(f"{web_server.url}{path}", headers={"Accept-Encoding": "identity"})
    assert got.status_code == 200 and got.content
    head, rest = _raw(web_server, f"HEAD {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                              "Accept-Encoding: identity\r\nConnection: close\r\n\r\n".encode())
    assert head.startswith(b"HTTP/1.1 200"), head
    assert _header(head, "Content-Type").startswith(kind)
    assert rest == b""  # no body
    if path.startswith("/static/"):  # the same file: the length of the GET's body
        assert int(_header(head, "Content-Length")) == len(got.content)
        assert _header(head, "ETag") == got.headers["ETag"]


def test_a_conditional_get_of_a_static_file_is_answered_304(web_server):
    first = requests.get(f"{web_server.url}/static/site.css")
    assert first.status_code == 200 and first.headers["ETag"]
    again = requests.get(f"{web_server.url}/static/site.css",
                         headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304 and again.content == b""
    assert again.headers["ETag"] == first.headers["ETag"]


# --- 4. gzip ---------------------------------------------------------------------------------

def test_the_portal_search_page_comes_gzipped_to_who_asks(web_server, database):
    with database.session() as db:
        district = db.scalar(select(Division.id).where(Division.level == 2,
                                                       Division.name == "Lima"))
    url = f"{web_server.url}/portal/search?by=district&district={district}"
    with requests.Session() as s:  # one visitor: the same cookie, so the same page
        plain = s.get(url, headers={"Accept-Encoding": "identity"})
        packed = s.get(url, headers={"Accept-Encoding": "gzip, deflate, br"}, stream=True)
        raw = packed.raw.read(decode_content=False)
    assert plain.status_code == packed.status_code == 200
    assert "Content-Encoding" not in plain.headers
    assert packed.headers["Content-Encoding"] == "gzip"
    assert int(packed.headers["Content-Length"]) == len(raw) < len(plain.content) / 3
    assert b"</html>" in plain.content and gzip.decompress(raw) == plain.content


# --- 5. a certificate's PDF ----------------------------------------------------------------

def _citizen(web_server, instance, mobile: str) -> dict:
    api = f"{web_server.url}/api/v2"
    txn = requests.post(f"{api}/auth/public/generateOTP", json={"mobile": mobile}).json()
    code = hashlib.sha256(last_otp(instance).encode()).hexdigest()
    token = requests.post(f"{api}/auth/public/confirmOTP", json={
        "otp": code, "txnId": txn["txnId"]}).json()["token"]
    return {"Authorization": f"Bearer {token}", **ENGLISH}


def test_a_certificate_pdf_arrives_whole_and_then_as_304(web_server, cowin_kit_instance, app,
                                                          database):
    auth = _citizen(web_server, cowin_kit_instance, "987650014")
    ref = register_person(app, database, "+51987650014", name="Ana Quispe")
    certify(app, database, ref)
    url = f"{web_server.url}/api/v2/registration/certificate/download"
    for _ in range(2):  # rendered, then sent from storage
        r = requests.get(url, params={"beneficiary_reference_id": ref}, headers=auth,
                         stream=True)
        body = r.raw.read(decode_content=False)
        assert r.status_code == 200, body[:300]
        assert r.headers["Content-Type"] == "application/pdf"
        assert int(r.headers["Content-Length"]) == len(body) > 1000
        assert body.startswith(b"%PDF") and body.rstrip().endswith(b"%%EOF")
    again = requests.get(url, params={"beneficiary_reference_id": ref},
                         headers={**auth, "If-None-Match": r.headers["ETag"]})
    assert again.status_code == 304 and again.content == b""


# --- 6. X-Forwarded-For -------------------------------------------------------------------------

FORWARDED = {"X-Forwarded-For": "198.51.100.23"}


def _login_sources(database) -> list[str]:
    with database.session() as db:
        return db.scalars(select(AuditEvent.source).where(AuditEvent.action == "staff.login")
                          .order_by(AuditEvent.id)).all()


def test_x_forwarded_for_counts_only_behind_a_proxy(cowin_kit_instance, app, database):
    for hops, source in (("0", "127.0.0.1"), ("1", "198.51.100.23")):
        running = WebServer(cowin_kit_instance, workers=1, COWIN_KIT_PROXY_FIX_HOPS=hops)
        try:
            with requests.Session() as s:
                s.headers.update(FORWARDED)
                _staff(running).close()  # without the header: the socket's address
                s.headers.update(ENGLISH)
                page = s.get(f"{running.url}/staff/login").text
                r = s.post(f"{running.url}/staff/login", data={
                    "email": ADMIN_EMAIL, "password": ADMIN_PASSWORD,
                    "csrf_token": csrf(page)}, allow_redirects=False)
                assert r.status_code == 302, r.text[:300]
        finally:
            running.stop()
        assert _login_sources(database)[-2:] == ["127.0.0.1", source], hops




# --- 7. a streamed export broken off partway ------------------------------------------------

def test_an_export_that_fails_partway_is_broken_off_not_ended(web_server, database):
    """cowin_kit.streamed relies on the server dropping the connection, without the chunked
    body's last chunk, when the body's iterator raises after rows went out: the reader's
    download fails instead of keeping a file that looks whole. Here the second batch of
    1,000 rows holds a row the app cannot read (details nested deeper than Python parses)."""
    with database.session() as db:
        bad = audit(db, "staff:99", "test.broken", "thing:bad")  # the oldest: read last
        db.flush()
        for n in range(1500):
            audit(db, "staff:99", "test.streamed", f"thing:{n}")
        db.execute(text("UPDATE audit_event SET details = :d WHERE id = :i"),
                   {"d": "[" * 3000 + "]" * 3000, "i": bad.id})
        db.commit()
    with _staff(web_server) as s:
        page = s.get(f"{web_server.url}/staff/audit").text
        cookie = "; ".join(f"{k}={v}" for k, v in s.cookies.items())
        form = f"csrf_token={csrf(page)}".encode()
        head, rest = _raw(web_server, (
            "POST /staff/audit/export HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            f"Cookie: {cookie}\r\nContent-Type: application/x-www-form-urlencoded\r\n"
            f"Content-Length: {len(form)}\r\nConnection: close\r\n\r\n").encode() + form)
        assert head.startswith(b"HTTP/1.1 200"), head
        assert _header(head, "Transfer-Encoding") == "chunked"
        assert b"thing:1499" in rest  # the first batch went out...
        assert not rest.endswith(b"0\r\n\r\n")  # ...and the body was never ended
        with pytest.raises(requests.exceptions.ChunkedEncodingError):  # as a client sees it
            s.post(f"{web_server.url}/staff/audit/export", data={"csrf_token": csrf(page)})
