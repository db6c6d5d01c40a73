"""Public Co-WIN v2 endpoints: locations, metadata, session search. No login needed."""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import threading
import time

from flask import Blueprint, Response, current_app, request
from flask_babel import get_locale, gettext
from sqlalchemy import select
from werkzeug.http import parse_etags

from cowin_kit.accounts import otp
from cowin_kit.api.body import load_query
from cowin_kit.api.errors import ApiError, register
from cowin_kit.api.inputs import MSG_ONE_OF
from cowin_kit.certificates import downloads
from cowin_kit.collation import sorted_by_name
from cowin_kit.geography.models import Division
from cowin_kit.geography.service import division_name
from cowin_kit.plugins.interfaces import N_
from cowin_kit.registration.choices import GENDERS, accepted_id_types
from cowin_kit.runtime import db_session, deployment, read_session
from cowin_kit.scheduling import search
from cowin_kit.web import compression

bp = Blueprint("api_public", __name__, url_prefix="/api/v2")
register(bp)

# Location lists change rarely: clients may keep them this many hours (Co-WIN's "ttl").
LOCATION_TTL_HOURS = 24
# Public availability is cacheable for a short time, as Co-WIN's was.
SEARCH_MAX_AGE = 30

# The session searches' optional filters (see _filters).
NO_FILTERS = search.Filters()


def _lang() -> str:
    return str(get_locale() or deployment().default_language)


def _encode(data: dict) -> tuple[str, str]:
    body = json.dumps(data, ensure_ascii=False, separators=(",", ":"), default=str)
    return body, hashlib.sha256(body.encode()).hexdigest()[:32]


def respond_cached(body: str | bytes, tag: str, max_age: int,
                   gzipped: bytes | None = None) -> Response:
    """``body`` (JSON) with Cache-Control and its strong ETag ``tag``, or a 304 when the
    client has it. A body large enough to compress goes to a client that accepts gzip as
    gzip (``gzipped``, when the caller keeps it, else compressed now) under its own ETag
    (web.compression's rules; its after_request hook leaves an encoded answer alone)."""
    # The answer depends only on the URL (?lang=) and Accept-Language (select_locale
    # ignores the cookie on the API), so a shared cache keeps one copy per language, and
    # per encoding once it could be compressed.
    data = body.encode() if isinstance(body, str) else body
    headers = {"Cache-Control": f"public, max-age={max_age}", "Vary": "Accept-Language"}
    if compression.compressible(len(data)):
        headers["Vary"] = "Accept-Language, Accept-Encoding"
        if compression.accepts_gzip(request.headers.get("Accept-Encoding")):
            data = gzipped if gzipped is not None else compression.gzip_bytes(data)
            tag = compression.gzip_tag(tag)
            headers["Content-Encoding"] = "gzip"
    headers["ETag"] = f'"{tag}"'
    if request.if_none_match.contains(tag):
        return Response(status=304, headers=headers)  # werkzeug drops Content-Encoding
    return Response(data, status=200, mimetype="application/json", headers=headers)


def cached_json(data: dict, max_age: int) -> Response:
    """JSON with Cache-Control and a strong ETag; 304 when the client already has it."""
    return respond_cached(*_encode(data), max_age)


class AnswerCache:
    """Encoded public answers kept for a few seconds, per process and per app.

    Public availability is read far more than it changes (Co-WIN served it from a CDN):
    one answer per (endpoint, parameters, language) is built, encoded, hashed and (when
    large enough) gzipped once, and a request that already has it (If-None-Match) costs
    no database work at all.
    Bookings stay exact: they take places in the database, never from here.

    One build per answer at a time (a "single flight"): when an answer expires under
    load, the requests that miss it meanwhile wait for the one building it rather than
    each reading the district again, and get its answer, or its error. A ``ttl`` of 0
    keeps and shares nothing: every request builds its own answer.
    """

    WAIT_SECONDS = 60  # a waiter builds for itself if the build it waits for takes longer

    def __init__(self, ttl: float, max_entries: int = 4096):
        self.ttl, self.max_entries = ttl, max_entries
        self._entries: dict = {}
        self._flights: dict = {}  # key -> _Flight of the build under way
        self._lock = threading.Lock()

    def get_or_build(self, key, build) -> tuple[bytes, str, bytes | None]:
        """(body, tag, gzipped): respond_cached's arguments, less max_age."""
        return self.entry(key, build)[1:]

    def entry(self, key, build) -> tuple[float, bytes, str, bytes | None]:
        """(expires, body as UTF-8 bytes, tag, the body gzipped or None when too small to
        be compressed); ``expires`` is on the time.monotonic clock."""
        now = time.monotonic()
        hit = self._entries.get(key)  # one dict read is atomic; entries are never changed
        if hit and hit[0] > now:
            return hit
        if self.ttl <= 0:
            return self._build(now, build)
        with self._lock:
            hit = self._entries.get(key)  # built while this thread waited for the lock
            if hit and hit[0] > now:
                return hit
            flight = self._flights.get(key)
            if flight is None:
                flight = self._flights[key] = _Flight()
                leader = True
            else:
                leader = False
        if not leader:
            found = flight.wait(self.WAIT_SECONDS)
            return found if found is not None else self._build(now, build)
        try:
            entry = self._build(now, build)
        except BaseException as exc:
            with self._lock:
                del self._flights[key]
            flight.finish(error=exc)
            raise
        with self._lock:
            _make_room(self._entries, self.max_entries)
            self._entries[key] = entry  # before the flight ends: late comers find it here
            del self._flights[key]
        flight.finish(entry)
        return entry

    def _build(self, now: float, build) -> tuple[float, bytes, str, bytes | None]:
        body, tag = _encode(build())
        data = body.encode()  # bytes: FastAnswers shares them
        gzipped = compression.gzip_bytes(data) if compression.compressible(len(data)) else None
        return now + self.ttl, data, tag, gzipped


class _Flight:
    """An answer being built: what the requests that wait for it get."""

    def __init__(self):
        self._done = threading.Event()
        self.entry = self.error = None

    def finish(self, entry=None, error: BaseException | None = None) -> None:
        self.entry, self.error = entry, error
        self._done.set()

    def wait(self, seconds: float):
        """The entry; the build's error raised again; None if it did not end in time."""
        if not self._done.wait(seconds):
            return None
        if self.error is not None:
            raise self.error
        return self.entry


def _make_room(entries: dict, max_entries: int) -> None:
    """Drop the quarter that expires first when full (callers hold their lock)."""
    if len(entries) >= max_entries:
        for old in sorted(entries, key=lambda k: entries[k][0])[: max_entries // 4]:
            entries.pop(old, None)


class FastAnswers:
    """The search answers again, served before Flask: WSGI middleware for repeated GETs.

    A public search that AnswerCache answered is recorded here with the exact status
    line, headers and body Flask sent, until that answer expires; the same request is
    then answered from here without a request context, locale negotiation or routing.
    Only plain requests take this path: a GET of a search path with its parameters in
    canonical form (so junk in the query string adds no entries; a filtered search, with
    vaccine, min_age_limit, dose or fee_type, is never in that form, so it always goes
    through Flask, where cached_search keys on its filters; nor is a point given to more
    than 6 decimals, which Flask answers from the point's rounded key) and no Cookie or
    Authorization header; the language is the one Flask chose for the same
    Accept-Language. Answers that set a cookie or carry rate-limit headers are never
    recorded, so whatever a hook or a limit would add still goes through Flask.

    Each answer is kept as Flask sent it for each encoding (identity, gzip: the same
    choice respond_cached makes, web.compression.accepts_gzip), with the AnswerCache's
    bytes of both: nothing is compressed here.
    """

    DATE = r"&date=[0-9]{2}-[0-9]{2}-(?:[0-9]{2}){1,2}"  # DD-MM-YYYY or DD-MM-YY
    DEGREES = r"-?[0-9]{1,3}(?:\.[0-9]{1,6})?"  # a phone's fix has 6 decimals at most
    QUERIES = {
        "/appointment/sessions/public/calendarByDistrict":
            "district_id=(?:0|[1-9][0-9]{0,8})" + DATE,
        "/appointment/sessions/public/findByDistrict": "district_id=(?:0|[1-9][0-9]{0,8})" + DATE,
        "/appointment/sessions/public/calendarByPin": "pincode=[0-9A-Za-z]{1,12}" + DATE,
        "/appointment/sessions/public/findByPin": "pincode=[0-9A-Za-z]{1,12}" + DATE,
        "/appointment/centers/public/findByLatLong": f"lat={DEGREES}&long={DEGREES}",
    }
    ENVIRON_KEY = "cowin_kit.fast_answer"
    MAX_LANGS = 256  # distinct Accept-Language values remembered

    def __init__(self, wsgi_app, prefix: str, max_entries: int = 4096):
        self.wsgi_app, self.max_entries = wsgi_app, max_entries
        self.queries = {prefix + path: re.compile(q) for path, q in self.QUERIES.items()}
        # (path, query, lang) -> (expires, tag, body, gzipped,
        #                         {(status, encoding): (line, headers)})
        self._answers: dict = {}
        self._langs: dict = {}  # raw Accept-Language -> the language Flask chose
        self._lock = threading.Lock()

    def _eligible(self, environ) -> bool:
        pattern = self.queries.get(environ.get("PATH_INFO"))
        return (pattern is not None and environ.get("REQUEST_METHOD") == "GET"
                and "HTTP_COOKIE" not in environ and "HTTP_AUTHORIZATION" not in environ
                and pattern.fullmatch(environ.get("QUERY_STRING", "")) is not None)

    def __call__(self, environ, start_response):
        if not self._eligible(environ):
            return self.wsgi_app(environ, start_response)
        accept = environ.get("HTTP_ACCEPT_LANGUAGE", "")
        lang = self._langs.get(accept)
        hit = lang and self._answers.get((environ["PATH_INFO"], environ["QUERY_STRING"], lang))
        if hit and hit[0] > time.monotonic():
            _expires, tag, body, gzipped, sent = hit
            encoding = _encoding(environ, gzipped)
            if encoding == "gzip":
                tag, body = compression.gzip_tag(tag), gzipped
            inm = environ.get("HTTP_IF_NONE_MATCH")
            status = 304 if inm and parse_etags(inm).contains(tag) else 200
            answer = sent.get((status, encoding))
            if answer is not None:
                start_response(*answer)
                return [body] if status == 200 else []
        environ[self.ENVIRON_KEY] = None  # cached_search fills it in
        captured = []

        def capture(status_line, headers, exc_info=None):
            captured.append((status_line, list(headers)))
            return start_response(status_line, headers, exc_info)

        body = self.wsgi_app(environ, capture)
        answer = environ.get(self.ENVIRON_KEY)
        if answer is not None and captured:
            self._record(environ, accept, answer, *captured[-1])
        return body

    def _record(self, environ, accept, answer, status_line, headers) -> None:
        lang, expires, body, tag, gzipped = answer
        status = int(status_line.split(" ", 1)[0])
        names = {name.lower() for name, _value in headers}
        encoding = _encoding(environ, gzipped)
        if status not in (200, 304) or "set-cookie" in names or any(
                n.startswith("x-ratelimit") or n == "retry-after" for n in names):
            return
        if status == 200 and ("content-encoding" in names) != (encoding == "gzip"):
            return  # a hook changed the encoding: not what _encoding expects; leave it to Flask
        key = (environ["PATH_INFO"], environ["QUERY_STRING"], lang)
        with self._lock:
            if len(self._langs) >= self.MAX_LANGS:
                self._langs.clear()
            self._langs[accept] = lang
            old = self._answers.get(key)
            sent = dict(old[4]) if old and old[1] == tag else {}
            sent[status, encoding] = (status_line, headers)
            if key not in self._answers:
                _make_room(self._answers, self.max_entries)
            self._answers[key] = (expires, tag, body, gzipped, sent)  # the AnswerCache's bytes


def _encoding(environ, gzipped: bytes | None) -> str:
    """The body respond_cached sends for this request: gzip when there is one and the
    client accepts it."""
    if gzipped is not None and compression.accepts_gzip(environ.get("HTTP_ACCEPT_ENCODING")):
        return "gzip"
    return "identity"


# How long a search answer is reused. Short, so people see places go as they are booked.
ANSWER_TTL_SECONDS = 10


def cached_search(build, *params) -> Response:
    """``params`` are the parsed parameters the answer depends on, filters included (in
    canonical form): junk in the query string cannot add entries, and a filtered answer is
    never another query's."""
    cache = current_app.extensions.setdefault("cowin_kit.answers",
                                              AnswerCache(ANSWER_TTL_SECONDS))
    lang = _lang()
    expires, body, tag, gzipped = cache.entry((request.path, params, lang), build)
    if FastAnswers.ENVIRON_KEY in request.environ:  # a plain request: FastAnswers may keep it
        request.environ[FastAnswers.ENVIRON_KEY] = (lang, expires, body, tag, gzipped)
    return respond_cached(body, tag, SEARCH_MAX_AGE, gzipped)


MSG_NO_POSTAL_CODES = N_("This country has no postal codes: search by district or by "
                         "location instead.")


def _pincode(raw: str) -> str:
    """A postal code of the deployment's country (its pattern is the profile's), in the form
    it is stored in: the number an answer carried is padded back (search.postal_code_query)."""
    profile = deployment().profile
    if not profile["postal_code_example"]:
        raise ApiError(MSG_NO_POSTAL_CODES, "pincode")
    code = search.postal_code_query(raw, profile["postal_code_pattern"],
                                    profile["postal_code_example"])
    if code is None:
        raise ApiError(N_("pincode must be a postal code of this country, e.g. %(example)s."),
                       "pincode", example=profile["postal_code_example"])
    return code


def answer_pincodes(centres: list[dict]) -> list[dict]:
    """The centres with their ``pincode`` as Co-WIN sent it (search.pincode_answer): an
    integer where the country's codes are digits, else the code as written."""
    numbers = search.postal_codes_are_numbers(deployment().profile["postal_code_example"])
    return [{**c, "pincode": search.pincode_answer(c["pincode"], numbers)} for c in centres]


MSG_NO_DISTRICT = N_("There is no district %(id)s.")


def _district(district_id: int) -> Division:
    division = read_session().get(Division, district_id)
    if division is None:
        raise ApiError(MSG_NO_DISTRICT, status=404, id=district_id)
    return division


def _area(district_id: int, block_id: int | None) -> int:
    """The division a search by district covers: the district, or its block ``block_id``
    (404 for a block of another district)."""
    _district(district_id)
    if block_id is None:
        return district_id
    block = read_session().get(Division, block_id)
    if block is None or block.parent_id != district_id:
        raise ApiError(N_("There is no block %(block)s in district %(district)s."),
                       status=404, block=block_id, district=district_id)
    return block_id


@bp.get("/admin/location/states")
def states():
    lang = _lang()
    rows = read_session().scalars(select(Division).where(Division.level == 1)).all()
    # state_name is in the deployment's main language: sorted in its collation.
    items = sorted_by_name(({"state_id": d.id, "state_name": d.name,
                             "state_name_l": division_name(d, lang)} for d in rows),
                           deployment().default_language, lambda x: x["state_name"])
    return cached_json({"states": items, "ttl": LOCATION_TTL_HOURS}, 3600)


@bp.get("/admin/location/districts/<id:state_id>")
def districts(state_id: int):
    lang = _lang()
    state = read_session().get(Division, state_id)
    if state is None or state.level != 1:
        raise ApiError(N_("There is no state %(id)s."), status=404, id=state_id)
    rows = read_session().scalars(select(Division).where(Division.parent_id == state_id)).all()
    items = sorted_by_name(({"district_id": d.id, "district_name": d.name,
                             "district_name_l": division_name(d, lang)} for d in rows),
                           deployment().default_language, lambda x: x["district_name"])
    return cached_json({"districts": items, "ttl": LOCATION_TTL_HOURS}, 3600)


@bp.get("/admin/location/blocks/<id:district_id>")
def blocks(district_id: int):
    """The divisions under a district (the profile's third level, e.g. Peru's distritos):
    what findByDistrict's and calendarByDistrict's ``block_id`` narrows to."""
    lang = _lang()
    district = read_session().get(Division, district_id)
    if district is None or district.level != 2:
        raise ApiError(MSG_NO_DISTRICT, status=404, id=district_id)
    rows = read_session().scalars(select(Division).where(Division.parent_id == district_id)).all()
    items = sorted(({"block_id": d.id, "block_name": d.name,
                     "block_name_l": division_name(d, lang)} for d in rows),
                   key=lambda x: x["block_name"].casefold())
    return cached_json({"blocks": items, "ttl": LOCATION_TTL_HOURS}, 3600)


@bp.get("/registration/beneficiary/idTypes")
def id_types():
    dep = deployment()
    types = accepted_id_types(read_session(), dep.id_providers, _lang(),
                              dep.profile.default_language)
    return cached_json({"types": [{"id": t.id, "type": t.name, "type_l": t.name_l,
                                   "code": t.code} for t in types]}, 3600)


@bp.get("/registration/beneficiary/genders")
def genders():
    return cached_json({"genders": [{"id": i, "gender": label.capitalize(),
                                     "gender_l": gettext(text)}
                                    for i, label, text in GENDERS]}, 3600)


def _filters(query: dict) -> search.Filters:
    """The optional filters of a session search (``vaccine``, ``min_age_limit``, ``dose``,
    ``fee_type``, as schemas.SearchFilters loads them), in canonical form: the answer cache
    keys on them. An empty one filters nothing. Whether ``vaccine`` names a product is
    checked when the answer is built."""
    return search.Filters(vaccine=(query.get("vaccine") or "").strip().casefold() or None,
                          min_age=query.get("min_age_limit"), dose=query.get("dose"),
                          fee_type=query.get("fee_type"))


def _vaccine_products(filters: search.Filters) -> list:
    """The products, when ``filters`` has a vaccine (it may be one's name or code, in any
    case); 400 when it is neither of any product."""
    if filters.vaccine is None:
        return []
    products = search.products(read_session())
    if not any(filters.vaccine in (p.name.casefold(), p.code.casefold()) for p in products):
        raise ApiError(MSG_ONE_OF, "vaccine", name="vaccine",
                       choices=", ".join(sorted({p.code for p in products})))
    return products


def _sessions_answer(day: dt.date, filters: search.Filters, **where) -> dict:
    products = _vaccine_products(filters)
    found = search.find_sessions(read_session(), _lang(), day, **where)
    if filters != NO_FILTERS:
        found = search.filter_sessions(found, filters, products)
    return {"sessions": answer_pincodes(found)}


def _calendar_answer(day: dt.date, filters: search.Filters, **where) -> dict:
    products = _vaccine_products(filters)
    found = search.calendar(read_session(), _lang(), day, **where)
    if filters != NO_FILTERS:
        found = search.filter_centres(found, filters, products)  # drops emptied centres
    return {"centers": answer_pincodes(found)}


# The searches' queries are schemas.ByPinQuery and schemas.ByDistrictQuery (load_query).

@bp.get("/appointment/sessions/public/findByPin")
def find_by_pin():
    query = load_query()
    pincode, day, filters = _pincode(query["pincode"]), query["date"], _filters(query)
    return cached_search(lambda: _sessions_answer(day, filters, pincode=pincode),
                         pincode, day, filters)


@bp.get("/appointment/sessions/public/findByDistrict")
def find_by_district():
    query = load_query()
    district_id, day, filters = query["district_id"], query["date"], _filters(query)
    block_id = query.get("block_id")

    def build():
        return _sessions_answer(day, filters, district_id=_area(district_id, block_id))
    return cached_search(build, district_id, block_id, day, filters)


@bp.get("/appointment/sessions/public/calendarByPin")
def calendar_by_pin():
    query = load_query()
    pincode, day, filters = _pincode(query["pincode"]), query["date"], _filters(query)
    return cached_search(lambda: _calendar_answer(day, filters, pincode=pincode),
                         pincode, day, filters)


@bp.get("/appointment/sessions/public/calendarByDistrict")
def calendar_by_district():
    query = load_query()
    district_id, day, filters = query["district_id"], query["date"], _filters(query)
    block_id = query.get("block_id")

    def build():
        return _calendar_answer(day, filters, district_id=_area(district_id, block_id))
    return cached_search(build, district_id, block_id, day, filters)


# findByLatLong looks from the point rounded to this many decimals of a degree: 3 is about
# 110 m of latitude (less of longitude away from the equator). The people of a neighbourhood
# (and a phone whose fix wanders) then share one cached answer instead of each costing the
# database a query, and a distance is off by at most some 80 m, nothing when choosing among
# centres a kilometre or more apart. The answer is built from the rounded point, so it is
# exactly the one its cache key stands for.
LAT_LONG_DECIMALS = 3


@bp.get("/appointment/centers/public/findByLatLong")
@bp.get("/appointment/centers/findByLatLong")
def find_by_lat_long():
    query = load_query()  # schemas.LatLongQuery: decimal degrees within ±90 and ±180
    lat, lon = round(query["lat"], LAT_LONG_DECIMALS), round(query["long"], LAT_LONG_DECIMALS)

    def build():
        near = search.centres_near(read_session(), _lang(), lat, lon)
        return {"centers": answer_pincodes(near), "ttl": LOCATION_TTL_HOURS}
    return cached_search(build, lat, lon)


@bp.get("/registration/certificate/public/download")
def certificate_public_download():
    """Co-WIN's public download: the token of /auth/public/confirmOTP, for the mobile number
    the person is registered with; their certificate's PDF."""
    return certificate_pdf()


def certificate_pdf():
    """The PDF of the current certificate of ``beneficiary_reference_id`` for the holder of
    the Bearer token: one indexed query (token, person of the token's account, certificate),
    then the stored file. 401 without a token in force, 400 for a malformed id, 404 for a
    person of another account (as for one that does not exist) or without a certificate."""
    from cowin_kit.api.auth import bearer_token
    from cowin_kit.web import certificate_files

    token = bearer_token()
    otp.token_digest(token)  # no token at all: 401 before anything else
    query = load_query()  # schemas.CertificateQuery
    found = downloads.by_token(db_session(), token, query["beneficiary_reference_id"])
    return certificate_files.pdf_response(found)
