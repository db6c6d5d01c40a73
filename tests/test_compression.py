"""Text answers are gzipped for clients that accept it (web.compression): the same bytes once
decoded, their own ETag, 304s for both encodings, Vary for shared caches; the public searches'
compressed bytes are made once per cached answer and served by FastAnswers too."""
from __future__ import annotations

import datetime as dt
import gzip
import json

import pytest
from flask import Response, stream_with_context
from sqlalchemy import select

from cowin_kit.api import public
from cowin_kit.geography.models import Division
from cowin_kit.web import compression

from helpers import TODAY, calendar_by_pin_url, csrf

DAY = TODAY + dt.timedelta(days=2)
GZIP = {"Accept-Encoding": "gzip, deflate, br"}  # what browsers send
PLAIN = {"Accept-Encoding": "identity"}


@pytest.mark.parametrize("header,accepted", [
    ("gzip, deflate, br", True), ("GZIP", True), ("br;q=1.0, gzip;q=0.8", True),
    ("x-gzip", True), ("*", True), ("deflate, *;q=0.1", True),
    (None, False), ("", False), ("identity", False), ("br", False), ("gzip;q=0", False),
    ("*;q=0", False), ("*, gzip;q=0", False), ("gzip;q=zero", False),
])
def test_which_clients_accept_gzip(header, accepted):
    assert compression.accepts_gzip(header) is accepted


def _vary(response) -> set[str]:
    return {v.strip() for v in response.headers.get("Vary", "").split(",") if v.strip()}


@pytest.fixture
def district(database) -> int:
    """The Lima district of the PE demo data: the demo's most centres."""
    with database.session() as s:
        return s.scalar(select(Division.id).where(Division.level == 2, Division.name == "Lima"))


def test_the_portal_search_page_is_a_fraction_of_its_size_gzipped(client, district):
    url = f"/portal/search?by=district&district={district}"
    plain = client.get(url, headers=PLAIN)
    packed = client.get(url, headers=GZIP)
    assert plain.status_code == packed.status_code == 200
    assert "Content-Encoding" not in plain.headers
    assert packed.headers["Content-Encoding"] == "gzip"
    page = plain.get_data()
    assert len(page) > 20_000 and b"</html>" in page  # a page of centres with their week
    assert gzip.decompress(packed.get_data()) == page
    assert int(packed.headers["Content-Length"]) == len(packed.get_data())
    assert len(packed.get_data()) < len(page) / 3
    # Both answers say that the encoding varies, besides what already varied (the cookie).
    assert {"Accept-Encoding", "Cookie"} <= _vary(plain) and _vary(plain) == _vary(packed)


@pytest.fixture
def url(database):
    """A calendarByPin answer of about 1 kB: large enough to compress."""
    return calendar_by_pin_url(database, DAY)


def _count(monkeypatch, module, name) -> list:
    calls, real = [], getattr(module, name)
    monkeypatch.setattr(module, name, lambda *a, **k: calls.append(1) or real(*a, **k))
    return calls


def test_a_public_search_in_both_encodings_with_their_etags(client, url, monkeypatch):
    gzipped = _count(monkeypatch, compression, "gzip_bytes")
    en = {"Accept-Language": "en"}
    seen = []
    for round_ in ("through Flask", "from FastAnswers"):
        if round_ == "from FastAnswers":
            flask_answers = _count(monkeypatch, public, "cached_search")
        plain = client.get(url, headers={**en, **PLAIN})
        packed = client.get(url, headers={**en, **GZIP})
        assert plain.status_code == packed.status_code == 200
        body = plain.get_data()
        assert len(body) >= compression.MIN_SIZE and json.loads(body)["centers"]
        assert packed.headers["Content-Encoding"] == "gzip"
        assert gzip.decompress(packed.get_data()) == body
        assert len(packed.get_data()) < len(body)
        assert _vary(plain) == _vary(packed) == {"Accept-Language", "Accept-Encoding"}
        tag, gz_tag = plain.headers["ETag"], packed.headers["ETag"]
        assert tag != gz_tag and not gz_tag.startswith("W/")  # strong: each names its bytes
        # Each client revalidates with the ETag it got; the other's is another body.
        for headers, has in ((PLAIN, tag), (GZIP, gz_tag)):
            again = client.get(url, headers={**en, **headers, "If-None-Match": has})
            assert again.status_code == 304 and again.get_data() == b""
            assert again.headers["ETag"] == has and "Content-Encoding" not in again.headers
            assert _vary(again) == {"Accept-Language", "Accept-Encoding"}
        crossed = client.get(url, headers={**en, **PLAIN, "If-None-Match": gz_tag})
        assert crossed.status_code == 200 and crossed.get_data() == body
        seen.append([(r.status_code, sorted(r.headers.items()), r.get_data())
                     for r in (plain, packed)])
    assert flask_answers == []  # the second round never reached Flask
    assert seen[0] == seen[1]  # and got what Flask had sent
    assert gzipped == [1]  # compressed once, when the answer was cached


def test_a_small_answer_is_sent_as_it_is(client):
    r = client.get("/api/v2/appointment/sessions/public/findByPin?pincode=15001&date=01-01-2030",
                   headers=GZIP)
    assert r.status_code == 200 and len(r.get_data()) < compression.MIN_SIZE
    assert "Content-Encoding" not in r.headers and r.headers["Vary"] == "Accept-Language"


def test_a_static_file_is_gzipped_once_and_revalidates(client, monkeypatch):
    gzipped = _count(monkeypatch, compression, "gzip_bytes")
    plain = client.get("/static/portal.css", headers=PLAIN)
    assert plain.status_code == 200 and "Content-Encoding" not in plain.headers
    packed = [client.get("/static/portal.css", headers=GZIP) for _ in range(2)]
    for r in packed:
        assert r.status_code == 200 and r.headers["Content-Encoding"] == "gzip"
        assert gzip.decompress(r.get_data()) == plain.get_data()
        assert "Accept-Ranges" not in r.headers  # ranges are of the plain file
    assert gzipped == [1]  # kept by its ETag
    gz_tag = packed[0].headers["ETag"]
    assert gz_tag != plain.headers["ETag"] and _vary(packed[0]) == {"Accept-Encoding"}
    assert client.get("/static/portal.css", headers={
        **GZIP, "If-None-Match": gz_tag}).status_code == 304
    assert client.get("/static/portal.css", headers={
        **PLAIN, "If-None-Match": plain.headers["ETag"]}).status_code == 304
    part = client.get("/static/portal.css", headers={**GZIP, "Range": "bytes=0-99"})
    assert part.status_code == 206 and "Content-Encoding" not in part.headers
    assert part.get_data() == plain.get_data()[:100]


def test_streamed_answers_are_not_compressed(app, client):
    @app.get("/test-stream")
    def stream():
        rows = (json.dumps({"n": i}) + "\n" for i in range(500))
        return Response(stream_with_context(rows), mimetype="application/json")

    r = client.get("/test-stream", headers=GZIP)
    assert r.status_code == 200 and "Content-Encoding" not in r.headers
    assert r.get_data().count(b"\n") == 500


def test_the_audit_export_is_streamed_as_it_is(admin):
    page = admin.get("/staff/audit").get_data(as_text=True)
    r = admin.post("/staff/audit/export", data={"csrf_token": csrf(page)}, headers=GZIP)
    assert r.status_code == 200 and r.mimetype == "text/csv"
    assert "Content-Encoding" not in r.headers
    assert b"action" in r.get_data().splitlines()[0]  # the CSV's header row, as it was
