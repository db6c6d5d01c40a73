"""Tests of the example provider: the kit's contract, online verification against the fake
registry on 127.0.0.1, and that no log record holds the ID number or the name.

Run with:
pip install -e './examples/registry-id-provider[test]' && pytest examples/registry-id-provider
"""
from __future__ import annotations

import logging
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from example_registry.fake_registry import DEMO_PEOPLE, FakeRegistry, Person, fold
from example_registry.provider import URL_SETTING, RegistryNationalId

from cowin_kit.testing.contract import IdProviderContract, check_id_provider
from cowin_kit.toolkit import IdClaims, InvalidIdNumber, VerificationResult

NUMBER = "123456782"
NAME = "Ana María Quispe"
YEAR = 1980
UNKNOWN = "405128737"  # a valid number the registry below does not know
PEOPLE = {NUMBER: Person(NAME, YEAR)}


@pytest.fixture(autouse=True)
def no_registry_from_environment(monkeypatch):
    """Tests choose the registry; the developer's own EXAMPLE_REGISTRY_URL must not leak in."""
    monkeypatch.delenv(URL_SETTING, raising=False)


@pytest.fixture
def registry():
    with FakeRegistry(PEOPLE) as running:
        yield running


@pytest.fixture
def provider(registry):
    return RegistryNationalId({URL_SETTING: registry.url})


def unused_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# -- 1. The kit's contract -------------------------------------------------------------------


class TestContract(IdProviderContract):
    provider_class = RegistryNationalId
    valid = ["123456782", "123 456 782", "123-456-782", " 405128737 ", "700.112.352"]
    invalid = [
        "",  # length: empty
        "12345678",  # length: 8 digits
        "1234567820",  # length: 10 digits
        "123456781",  # checksum: last digit mistyped
        "132456782",  # checksum: two digits swapped
        "12345678A",  # format: a letter
        "１２３４５６７８２",  # format: full-width digits
        "١٢٣٤٥٦٧٨٢",  # format: Arabic-Indic digits
    ]

    @pytest.fixture(autouse=True)
    def registry_on_localhost(self, monkeypatch, no_registry_from_environment):
        """The contract's verify check then goes over the network to a registry that knows
        the example number, and its log check covers the whole exchange."""
        people = {self.provider_class.example: Person("Contract Test", 1980)}
        with FakeRegistry(people) as running:
            monkeypatch.setenv(URL_SETTING, running.url)
            yield running


@pytest.mark.parametrize("number, rule", [
    ("", "length"), ("12345678", "length"), ("1234567820", "length"),
    ("12345678A", "format"), ("１２３４５６７８２", "format"), ("123456781", "checksum"),
])
def test_each_invalid_number_names_the_rule_it_breaks(number, rule):
    with pytest.raises(InvalidIdNumber) as caught:
        RegistryNationalId().validate(number)
    assert caught.value.rule == rule


def test_the_demo_people_have_valid_numbers():
    provider = RegistryNationalId()
    assert all(provider.validate(number) == number for number in DEMO_PEOPLE)
    assert RegistryNationalId.example in DEMO_PEOPLE


@pytest.mark.parametrize("running", [True, False], ids=["registry up", "registry down"])
def test_contract_holds_with_and_without_a_registry(running, monkeypatch):
    if running:
        with FakeRegistry({NUMBER: Person("Contract Test", 1980)}) as live:
            monkeypatch.setenv(URL_SETTING, live.url)
            assert check_id_provider(RegistryNationalId(), random_count=50) == []
            assert live.requests == 1
    else:
        monkeypatch.setenv(URL_SETTING, f"http://127.0.0.1:{unused_port()}")
        assert check_id_provider(RegistryNationalId(), random_count=50) == []


# -- 2. Verification against the fake registry -----------------------------------------------


def test_verified(provider, registry):
    result = provider.verify(NUMBER, IdClaims(NAME, YEAR), timeout=2)
    assert isinstance(result, VerificationResult)
    assert result.status == "verified"
    assert result.reference.startswith("FAKE-")


def test_sends_the_canonical_number_and_the_claims(provider, registry):
    provider.verify("123 456-782", IdClaims(NAME, YEAR), timeout=2)
    assert registry.last_request == {"id_number": NUMBER, "name": NAME, "birth_year": YEAR}


def test_verified_without_a_birth_year(provider, registry):
    assert provider.verify(NUMBER, IdClaims(NAME), timeout=2).status == "verified"
    assert registry.last_request["birth_year"] is None


def test_the_fake_registry_compares_names_loosely(provider):
    assert fold("  ANA maria   quispe ") == fold(NAME)
    assert provider.verify(NUMBER, IdClaims("ana maria  QUISPE", YEAR), 2).status == "verified"


@pytest.mark.parametrize("claims", [IdClaims("Ana María Mamani", YEAR), IdClaims(NAME, YEAR + 1)],
                         ids=["wrong name", "wrong birth year"])
def test_mismatch(provider, claims):
    result = provider.verify(NUMBER, claims, timeout=2)
    assert result.status == "mismatch"
    assert result.reference.startswith("FAKE-")


def test_not_found(provider):
    assert provider.verify(UNKNOWN, IdClaims(NAME, YEAR), timeout=2).status == "not_found"


def test_an_invalid_number_is_not_found_without_asking_the_registry(provider, registry):
    assert provider.verify("123456781", IdClaims(NAME, YEAR), timeout=2).status == "not_found"
    assert provider.verify("🙂" * 5000, IdClaims(NAME, YEAR), timeout=2).status == "not_found"
    assert registry.requests == 0


@pytest.mark.parametrize("status", [400, 401, 403, 404, 429, 500, 502, 503])
def test_unavailable_when_the_registry_answers_an_error(provider, registry, status):
    registry.fail_with = status
    result = provider.verify(NUMBER, IdClaims(NAME, YEAR), timeout=2)
    assert (result.status, result.reason) == ("unavailable", f"HTTP {status}")


@pytest.mark.parametrize("answer", [
    b"<html>Service temporarily down</html>",
    b"",
    b"[]",
    b"null",
    b"{}",
    b'{"result": "yes", "reference": "R1"}',
    b'{"result": "MATCH", "reference": "R1"}',
    b'{"result": ["match"], "reference": "R1"}',
    b'{"result": "match", "reference": 42}',
    b'{"result": "match", "reference": "' + b"R" * 500 + b'"}',
    b'{"result": "match", "reference": "R1\\n<script>"}',
    b"\xff\xfe{",
    b"[" * 50_000,  # deep enough to make the JSON parser give up
    b"[" * 100_000,  # larger than any answer of the registry
], ids=lambda a: a[:30].decode("latin-1"))
def test_unavailable_when_the_answer_is_malformed(provider, registry, answer):
    registry.raw_answer = answer
    result = provider.verify(NUMBER, IdClaims(NAME, YEAR), timeout=2)
    assert (result.status, result.reason) == ("unavailable", "malformed answer")


def test_a_match_without_a_reference_is_still_verified(provider, registry):
    registry.raw_answer = b'{"result": "match"}'
    assert provider.verify(NUMBER, IdClaims(NAME, YEAR), timeout=2).status == "verified"


def test_unavailable_within_the_timeout_when_the_registry_is_slow(provider, registry):
    registry.delay = 5
    timeout = 1.0
    started = time.monotonic()
    result = provider.verify(NUMBER, IdClaims(NAME, YEAR), timeout=timeout)
    elapsed = time.monotonic() - started
    assert (result.status, result.reason) == ("unavailable", "timeout")
    assert elapsed < timeout + 0.5


def test_unavailable_when_nothing_listens():
    provider = RegistryNationalId({URL_SETTING: f"http://127.0.0.1:{unused_port()}"})
    started = time.monotonic()
    result = provider.verify(NUMBER, IdClaims(NAME, YEAR), timeout=2)
    assert (result.status, result.reason) == ("unavailable", "connection failed")
    assert time.monotonic() - started < 2.5


def test_unavailable_when_no_registry_is_configured():
    for settings in (None, {}, {URL_SETTING: ""}, object()):
        result = RegistryNationalId(settings).verify(NUMBER, IdClaims(NAME, YEAR), timeout=2)
        assert (result.status, result.reason) == ("unavailable", "registry URL not configured")


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://127.0.0.1/", "127.0.0.1:8080"])
def test_unavailable_when_the_url_is_not_http(url):
    result = RegistryNationalId({URL_SETTING: url}).verify(NUMBER, IdClaims(NAME, YEAR), 2)
    assert (result.status, result.reason) == ("unavailable", "registry URL is not http(s)")


@pytest.mark.parametrize("url", ["http://registry.example.org", "http://10.0.0.7:8080"])
def test_plain_http_is_refused_beyond_this_machine(url):
    result = RegistryNationalId({URL_SETTING: url}).verify(NUMBER, IdClaims(NAME, YEAR), 2)
    assert (result.status, result.reason) == ("unavailable", "registry URL must use https")


@pytest.mark.parametrize("timeout", [0, -1])
def test_unavailable_without_time_to_ask(provider, registry, timeout):
    assert provider.verify(NUMBER, IdClaims(NAME, YEAR), timeout).status == "unavailable"
    assert registry.requests == 0


def test_the_url_comes_from_the_environment_when_settings_lack_it(registry, monkeypatch):
    monkeypatch.setenv(URL_SETTING, registry.url + "/")  # a trailing slash is fine
    for settings in (None, {}):
        result = RegistryNationalId(settings).verify(NUMBER, IdClaims(NAME, YEAR), timeout=2)
        assert result.status == "verified"


def test_settings_take_precedence_over_the_environment(provider, monkeypatch):
    monkeypatch.setenv(URL_SETTING, f"http://127.0.0.1:{unused_port()}")
    assert provider.verify(NUMBER, IdClaims(NAME, YEAR), timeout=2).status == "verified"


class _Redirect(BaseHTTPRequestHandler):
    target = ""

    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.send_response(307)
        self.send_header("Location", self.target)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


def test_redirects_are_not_followed(registry):
    """Following one would hand the request, and any credentials, to another server."""
    _Redirect.target = registry.url + "/v1/verify"
    server = HTTPServer(("127.0.0.1", 0), _Redirect)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}"
        result = RegistryNationalId({URL_SETTING: url}).verify(NUMBER, IdClaims(NAME, YEAR), 2)
    finally:
        server.shutdown()
        server.server_close()
    assert (result.status, result.reason) == ("unavailable", "HTTP 307")
    assert registry.requests == 0


def test_the_fake_registry_refuses_what_is_not_its_protocol(registry):
    """The provider sends only what the fake accepts; other requests are told why not."""
    import json
    import urllib.error
    import urllib.request

    def post(path, body, method="POST"):
        request = urllib.request.Request(registry.url + path, data=body, method=method,
                                         headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=2) as response:
                return response.status
        except urllib.error.HTTPError as exc:
            exc.close()
            return exc.code

    good = json.dumps({"id_number": NUMBER, "name": NAME, "birth_year": YEAR}).encode()
    assert post("/v1/verify", good) == 200
    assert post("/v2/verify", good) == 404
    assert post("/v1/verify", None, method="GET") == 405
    assert post("/v1/verify", b"not json") == 400
    assert post("/v1/verify", b'{"id_number": 123456782, "name": "A"}') == 400
    assert post("/v1/verify", b'{"id_number": "1", "name": "A", "birth_year": "1980"}') == 400


def test_the_fake_registry_listens_on_localhost_only(registry):
    assert registry.url.startswith("http://127.0.0.1:")
    with pytest.raises(RuntimeError):
        _ = FakeRegistry().url  # not started


# -- 3. Nothing personal in the logs ---------------------------------------------------------


def test_no_log_record_holds_the_number_or_the_name(caplog, registry):
    caplog.set_level(logging.DEBUG)
    url = registry.url
    provider = RegistryNationalId({URL_SETTING: url})
    claims = IdClaims(NAME, YEAR)
    outcomes = [
        provider.verify(NUMBER, claims, 2),  # verified
        provider.verify("123 456 782", IdClaims("Someone Else", YEAR), 2),  # mismatch
        provider.verify(UNKNOWN, claims, 2),  # not_found
        provider.verify("123456781", claims, 2),  # invalid: not_found, not sent
    ]
    registry.fail_with = 500
    outcomes.append(provider.verify(NUMBER, claims, 2))
    registry.fail_with = None
    registry.raw_answer = b'{"result": "match", "reference": ' + NAME.encode() + b"}"
    outcomes.append(provider.verify(NUMBER, claims, 2))  # malformed, and echoes the name
    registry.raw_answer = None
    registry.delay = 3
    outcomes.append(provider.verify(NUMBER, claims, 0.5))  # timeout
    dead = RegistryNationalId({URL_SETTING: f"http://127.0.0.1:{unused_port()}"})
    outcomes.append(dead.verify(NUMBER, claims, 2))  # nothing listens
    outcomes.append(RegistryNationalId().verify(NUMBER, claims, 2))  # not configured

    assert [r.status for r in outcomes] == ["verified", "mismatch", "not_found", "not_found"] + \
        ["unavailable"] * 5
    secrets = [NUMBER, "123 456 782", UNKNOWN, "123456781", NAME, "Quispe", "Someone Else"]
    texts = [caplog.text] + [
        f"{record.getMessage()} {record.args!r} {record.exc_text or ''}"
        for record in caplog.records
    ]
    for secret in secrets:
        assert not any(secret in text for text in texts), f"a log record holds {secret!r}"
    # The outcomes themselves are logged, with the HTTP status where there was one.
    messages = [record.getMessage() for record in caplog.records]
    assert "registry verification: verified (HTTP 200)" in messages
    assert "registry verification: unavailable (HTTP 500)" in messages
    assert "registry verification: unavailable (malformed answer, HTTP 200)" in messages
    assert "registry verification: unavailable (timeout)" in messages
