"""What the browser is told (CSP, framing, referrer, sniffing, HSTS), and a session cookie
that shows its holder (or whoever copies it) neither the mobile number nor the login token."""
import base64
import binascii
import re
import zlib
from pathlib import Path

import pytest

import cowin_kit

from helpers import MOBILE, csrf, web_login

PAGES = ["/", "/portal/login", "/staff/login", "/api"]
TEMPLATES = sorted(Path(cowin_kit.__file__).parent.glob("**/templates/**/*.html"))


@pytest.fixture(autouse=True)
def english(client):
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"


def directives(header: str) -> dict[str, str]:
    return {d.strip().split(" ", 1)[0]: d.strip().partition(" ")[2]
            for d in header.split(";") if d.strip()}


@pytest.mark.parametrize("path", PAGES)
def test_pages_run_only_the_sites_own_scripts_and_are_never_framed(client, path):
    r = client.get(path)
    assert r.status_code == 200 and r.mimetype == "text/html"
    csp = directives(r.headers["Content-Security-Policy"])
    assert csp["default-src"] == "'self'"
    assert csp["script-src"] == "'self'" and csp["style-src"] == "'self'"
    assert "unsafe-inline" not in r.headers["Content-Security-Policy"]
    assert csp["frame-ancestors"] == "'none'" and r.headers["X-Frame-Options"] == "DENY"
    assert csp["object-src"] == "'none'" and csp["base-uri"] == "'none'"
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert r.headers["Referrer-Policy"] == "same-origin"


def test_json_and_error_answers_carry_the_headers_that_apply_to_them(client):
    for r in (client.get("/api/v2/admin/location/states"), client.get("/api/v2/no-such-thing"),
              client.get("/api/openapi.json")):
        assert r.mimetype == "application/json", r.status_code
        assert directives(r.headers["Content-Security-Policy"]) == {
            "default-src": "'none'", "frame-ancestors": "'none'"}
        assert r.headers["X-Content-Type-Options"] == "nosniff"
        assert r.headers["Referrer-Policy"] == "same-origin"
    page404 = client.get("/portal/no-such-page")
    assert page404.status_code == 404
    assert "script-src 'self'" in page404.headers["Content-Security-Policy"]


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda p: "/".join(p.parts[-2:]))
def test_templates_hold_no_inline_script_or_style(template):
    """The policy forbids inline code: any that a template adds would silently not run."""
    text = template.read_text(encoding="utf-8")
    assert not re.search(r"<script(?![^>]*\ssrc=)", text), "inline <script>: use static/site.js"
    assert not re.search(r"\son[a-z]+\s*=", text), "inline event handler: use static/site.js"
    assert "javascript:" not in text.lower()
    assert not re.search(r"\sstyle\s*=|<style", text), "inline style: use a stylesheet"


def test_hsts_only_over_https(client, change_settings):
    assert "Strict-Transport-Security" not in client.get("/").headers
    r = client.get("/", base_url="https://vacunas.example.gob")
    assert r.headers["Strict-Transport-Security"] == "max-age=31536000"
    change_settings(HSTS_SECONDS=0)
    assert "Strict-Transport-Security" not in client.get(
        "/", base_url="https://vacunas.example.gob").headers


def test_hsts_behind_a_tls_proxy(cowin_kit_instance):
    from cowin_kit.app import create_app

    app = create_app({"INSTANCE_PATH": cowin_kit_instance, "TESTING": True,
                      "PROXY_FIX_HOPS": 1, "HSTS_SECONDS": 600})
    try:
        client = app.test_client()
        r = client.get("/", headers={"X-Forwarded-Proto": "https", "X-Forwarded-For": "1.2.3.4"})
        assert r.headers["Strict-Transport-Security"] == "max-age=600"
        assert "Strict-Transport-Security" not in client.get("/").headers
    finally:
        app.extensions["cowin_kit"].db.dispose()


# --- the session cookie ----------------------------------------------------------------------

def session_cookie(client) -> str:
    cookie = client.get_cookie("session")
    assert cookie is not None, "no session cookie"
    return cookie.value


def what_an_attacker_reads(value: str) -> bytes:
    """Everything base64 and zlib give out of the cookie, as for Flask's default cookie
    (an optional leading "." for compressed, then base64 parts joined by ".")."""
    found = [value.encode()]
    for part in value.lstrip(".").split("."):
        try:
            raw = base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))
        except (binascii.Error, ValueError):
            continue
        found.append(raw)
        try:
            found.append(zlib.decompress(raw))
        except zlib.error:
            pass
    return b"\n".join(found)


def server_view(app, value: str) -> dict:
    return app.session_interface.get_signing_serializer(app).loads(value)


def test_the_cookie_shows_neither_mobile_nor_token(app, client, cowin_kit_instance):
    page = client.get("/portal/login").get_data(as_text=True)
    client.post("/portal/login", data={"mobile": MOBILE, "csrf_token": csrf(page)})
    waiting = session_cookie(client)
    assert server_view(app, waiting)["otp_mobile"].endswith(MOBILE)  # the server has it
    seen = what_an_attacker_reads(waiting)
    assert MOBILE.encode() not in seen and b"otp_mobile" not in seen

    web_login(client, cowin_kit_instance)
    logged_in = session_cookie(client)
    token = server_view(app, logged_in)["citizen_token"]
    assert len(token) >= 16
    seen = what_an_attacker_reads(logged_in)
    assert token.encode() not in seen and b"citizen_token" not in seen
    assert MOBILE.encode() not in seen
    assert client.get("/portal/").status_code == 200  # and the session works


def test_the_cookie_keeps_its_flags(client, cowin_kit_instance):
    web_login(client, cowin_kit_instance)
    cookie = client.get_cookie("session")
    assert cookie.http_only and cookie.same_site == "Lax"


def tampered(value: str) -> list[str]:
    middle = len(value) // 2
    flipped = value[:middle] + ("A" if value[middle] != "A" else "B") + value[middle + 1:]
    return [flipped, value[:middle] + value[middle + 1:], value[:-5], value + "x", "",
            "not.a.cookie", "é" * 10, "A" * 4000]


def test_a_tampered_cookie_is_a_logged_out_visitor(app, client, cowin_kit_instance):
    web_login(client, cowin_kit_instance)
    good = session_cookie(client)
    for bad in tampered(good):
        client.set_cookie("session", bad)
        r = client.get("/portal/")
        assert r.status_code == 302 and "/portal/login" in r.headers["Location"], bad[:20]
        client.set_cookie("session", bad)
        assert client.get("/staff/").status_code in (302, 200)
        client.set_cookie("session", bad)
        assert client.get("/portal/login").status_code == 200
    client.set_cookie("session", good)
    assert client.get("/portal/").status_code == 200


def test_a_readable_cookie_of_the_old_kind_is_not_accepted(app, client, cowin_kit_instance):
    """A cookie signed the Flask default way, with the right key and a real token, is not a
    session any more: only encrypted cookies are read."""
    from flask.sessions import SecureCookieSessionInterface

    web_login(client, cowin_kit_instance)
    token = server_view(app, session_cookie(client))["citizen_token"]
    old = SecureCookieSessionInterface().get_signing_serializer(app).dumps(
        {"citizen_token": token, "_permanent": True})
    client.set_cookie("session", old)
    assert client.get("/portal/").status_code == 302


def test_an_expired_cookie_is_a_logged_out_visitor(app, client, cowin_kit_instance):
    import time

    from flask.sessions import session_json_serializer

    from cowin_kit.web.security import cookie_fernet

    web_login(client, cowin_kit_instance)
    data = server_view(app, session_cookie(client))
    lifetime = int(app.permanent_session_lifetime.total_seconds())
    fernet = cookie_fernet([app.secret_key])
    stale = fernet.encrypt_at_time(session_json_serializer.dumps(data).encode(),
                                   int(time.time()) - lifetime - 120).decode()
    fresh = fernet.encrypt(session_json_serializer.dumps(data).encode()).decode()
    client.set_cookie("session", stale)
    assert client.get("/portal/").status_code == 302
    client.set_cookie("session", fresh)  # the same session, made now: accepted
    assert client.get("/portal/").status_code == 200
