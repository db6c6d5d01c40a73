"""Repeated public searches are answered before Flask (api.public.FastAnswers), exactly as
Flask answered them: same status, headers and body; anything unusual still goes through."""
import datetime as dt

import pytest

from cowin_kit.api import public

from helpers import TODAY, calendar_by_pin_url

DAY = TODAY + dt.timedelta(days=2)


@pytest.fixture
def url(database):
    return calendar_by_pin_url(database, DAY)


def _fast(app) -> public.FastAnswers:
    fast = app.wsgi_app.wsgi_app  # under the outermost middleware, the requests' metrics
    assert isinstance(fast, public.FastAnswers)
    return fast


def _count_flask_answers(monkeypatch) -> list:
    """Each search Flask answers from now on appends to the list returned."""
    calls, real = [], public.cached_search
    monkeypatch.setattr(public, "cached_search", lambda *a: calls.append(1) or real(*a))
    return calls


def test_a_repeated_search_gets_the_same_answer_without_flask(app, client, url, monkeypatch):
    first = client.get(url, headers={"Accept-Language": "en"})
    unchanged = client.get(url, headers={"Accept-Language": "en",
                                         "If-None-Match": first.headers["ETag"]})
    assert first.status_code == 200 and unchanged.status_code == 304
    assert len(_fast(app)._answers) == 1
    flask_answers = _count_flask_answers(monkeypatch)
    again = client.get(url, headers={"Accept-Language": "en"})
    assert again.status_code == 200 and again.get_data() == first.get_data()
    assert sorted(again.headers.items()) == sorted(first.headers.items())
    # One copy per language (and encoding: this answer is large enough to gzip) in a CDN.
    assert again.headers["Vary"] == "Accept-Language, Accept-Encoding"
    still = client.get(url, headers={"Accept-Language": "en",
                                     "If-None-Match": first.headers["ETag"]})
    assert still.status_code == 304
    assert sorted(still.headers.items()) == sorted(unchanged.headers.items())
    assert flask_answers == []


def test_unusual_requests_still_go_through_flask(app, client, url, monkeypatch):
    client.get(url, headers={"Accept-Language": "en"})
    flask_answers = _count_flask_answers(monkeypatch)
    variants = ((url + "&junk=1", {}), (url, {"Accept-Language": "es"}),  # not seen yet
                (url + "&lang=en", {}))  # sets the lang cookie: all that follow carry it
    for n, (variant, headers) in enumerate(variants, 1):
        assert client.get(variant, headers={"Accept-Language": "en", **headers}).status_code == 200
        assert len(flask_answers) == n
    assert client.get(url, headers={"Accept-Language": "en"}).status_code == 200
    assert len(flask_answers) == 4
    assert len(_fast(app)._answers) == 2  # es was added; junk in the query string added nothing


def test_an_expired_answer_is_built_again(app, client, url, monkeypatch):
    first = client.get(url)
    later = public.time.monotonic() + public.ANSWER_TTL_SECONDS + 1
    monkeypatch.setattr(public.time, "monotonic", lambda: later)
    calls = []
    real = public.search.calendar
    monkeypatch.setattr(public.search, "calendar",
                        lambda *a, **k: calls.append(1) or real(*a, **k))
    again = client.get(url)
    assert calls == [1] and again.get_data() == first.get_data()


def test_the_api_takes_its_language_from_the_request_not_the_portal_cookie(client, url):
    """A shared cache keys public answers on the URL and Accept-Language: the portal's lang
    cookie must not change an answer (else every visitor with a cookie needs a copy)."""
    plain = client.get(url, headers={"Accept-Language": "en"})
    client.set_cookie("lang", "es")
    with_cookie = client.get(url, headers={"Accept-Language": "en"})
    assert with_cookie.get_data() == plain.get_data()
    assert with_cookie.headers["Vary"] == "Accept-Language, Accept-Encoding"  # no Cookie
    # The language does change this answer, so the cookie was really ignored.
    spanish = client.get(url, headers={"Accept-Language": "es"})
    assert spanish.get_data() != plain.get_data()
