"""ID providers: the built-in ones, the services around them, and the integrator's kit."""
import doctest
import importlib
import logging
import subprocess
import sys
import time

import pytest
from hypothesis import given, settings as hsettings, strategies as st

from cowin_kit.plugins import discover
from cowin_kit.plugins.interfaces import IdClaims, IdProvider, InvalidIdNumber, VerificationResult
from cowin_kit.profiles import load_profile, shipped_codes
from cowin_kit.registration import ids
from cowin_kit.testing.contract import check_id_provider

REGISTRY = discover()
BUILTIN = {name: p for name, p in REGISTRY.group(IdProvider.group, only_ok=False).items()
           if p.distribution == "cowin-kit"}


def test_every_shipped_profile_document_has_a_working_provider():
    missing = {}
    for code in shipped_codes():
        providers, gaps = ids.providers_for_profile(load_profile(code), REGISTRY)
        if gaps:
            missing[code] = gaps
    assert missing == {}


@pytest.mark.parametrize("name", sorted(BUILTIN))
def test_builtin_provider_loads_and_keeps_the_contract(name):
    plugin = BUILTIN[name]
    assert plugin.ok, plugin.error
    provider = plugin.obj()
    assert provider.code == name
    assert check_id_provider(provider, random_count=400) == []


@pytest.mark.parametrize("name", sorted(BUILTIN))
def test_builtin_provider_only_raises_the_declared_error(name):
    provider = BUILTIN[name].obj()

    @hsettings(max_examples=200, deadline=None)
    @given(st.one_of(st.text(max_size=30),
                     st.from_regex(r"[0-9A-Z \-]{1,20}", fullmatch=True)))
    def run(text):
        try:
            result = provider.validate(text)
        except InvalidIdNumber as exc:
            assert exc.rule in ("length", "format", "checksum")
            assert exc.message
        else:
            assert provider.validate(result) == result
        assert isinstance(provider.mask(text), str)

    run()


MODULES = sorted({p.value.split(":")[0] for p in BUILTIN.values()})


@pytest.mark.parametrize("module", MODULES)
def test_provider_docstrings_name_a_source_and_have_valid_and_invalid_examples(module):
    mod = importlib.import_module(module)
    result = doctest.testmod(mod, optionflags=doctest.ELLIPSIS)
    assert result.failed == 0
    for plugin in BUILTIN.values():
        if plugin.value.split(":")[0] != module:
            continue
        doc = plugin.obj.__doc__ or ""
        assert "source" in doc.lower(), f"{plugin.name}: name the source of the rules"
        assert "InvalidIdNumber" in doc, f"{plugin.name}: show an invalid example"
        assert doc.count(">>> ") >= 3, f"{plugin.name}: show valid and invalid examples"


def test_one_person_one_hash_however_the_number_is_typed():
    dni = BUILTIN["pe.dni"].obj()
    key = "k" * 40
    a = ids.lookup_hash(key, "dni", ids.check_id(dni, "10117410"))
    b = ids.lookup_hash(key, "dni", ids.check_id(dni, " 10117410-2 "))
    assert a == b and len(a) == 64 and "10117410" not in a
    assert ids.lookup_hash("other-key" * 5, "dni", "10117410") != a
    assert ids.lookup_hash(key, "ce", "10117410") != ids.lookup_hash(key, "dni", "10117410")


def test_numbers_are_stored_encrypted_and_need_the_key():
    from cryptography.fernet import Fernet

    key = Fernet.generate_key().decode()
    token = ids.encrypt_number(key, "234123412346")
    assert "234123412346" not in token
    assert ids.decrypt_number(key, token) == "234123412346"
    with pytest.raises(ValueError, match="cannot be decrypted"):
        ids.decrypt_number(Fernet.generate_key().decode(), token)


def test_check_id_reports_the_rule():
    dni = BUILTIN["pe.dni"].obj()
    with pytest.raises(InvalidIdNumber) as info:
        ids.check_id(dni, "10117410-3")
    assert info.value.rule == "checksum"
    from cowin_kit.catalogues import load_translations
    from cowin_kit.paths import locales_dir

    spanish = info.value.translate(load_translations("es", [locales_dir()]).gettext)
    assert spanish and spanish != info.value.message  # translated for the reader


class _SlowRegistry(IdProvider):
    code, country, name, hint, example = "test.slow", "", "Slow", "Any", "1"
    can_verify = True
    calls = 0

    def normalize(self, raw):
        return raw

    def validate(self, number):
        return number

    def mask(self, number):
        return "X" * len(number)

    def verify(self, number, claims, timeout):
        type(self).calls += 1
        time.sleep(5)
        return VerificationResult("verified")


class _BrokenRegistry(_SlowRegistry):
    def verify(self, number, claims, timeout):
        type(self).calls += 1
        raise ConnectionError("registry down")


class _GoodRegistry(_SlowRegistry):
    def verify(self, number, claims, timeout):
        return VerificationResult("mismatch", reference="REG-42")


def test_a_slow_registry_never_blocks_registration():
    _SlowRegistry.calls = 0
    started = time.monotonic()
    result = ids.verify_online(_SlowRegistry(), "123", IdClaims("Ana", 1980), timeout=1,
                               retries=1)
    assert result.status == "unavailable" and result.reason == "timeout"
    assert time.monotonic() - started < 2.8  # two attempts of one second each
    assert _SlowRegistry.calls == 2


def test_a_broken_registry_is_unavailable_and_retried(caplog):
    _BrokenRegistry.calls = 0
    with caplog.at_level(logging.DEBUG):
        result = ids.verify_online(_BrokenRegistry(), "99887766", IdClaims("Ana Quispe"),
                                   timeout=1, retries=2)
    assert result.status == "unavailable" and _BrokenRegistry.calls == 3
    assert "99887766" not in caplog.text and "Ana Quispe" not in caplog.text


def test_a_registry_answer_is_returned_with_its_reference():
    result = ids.verify_online(_GoodRegistry(), "1", IdClaims("Ana"), timeout=2)
    assert (result.status, result.reference) == ("mismatch", "REG-42")
    assert result.checked_at.tzinfo is not None


def test_offline_providers_are_unavailable_for_verification():
    result = ids.verify_online(BUILTIN["pe.dni"].obj(), "10117410", IdClaims("Ana"), timeout=1)
    assert result.status == "unavailable"


def test_provider_map_setting_overrides_the_profile(app):
    from cowin_kit.config import load_settings

    settings = load_settings(None, overrides={"ID_PROVIDER_MAP": ["dni=passport"]})
    providers, missing = ids.providers_for_profile(load_profile("PE"), REGISTRY, settings)
    assert providers["dni"].code == "passport" and missing == {}
    assert app.extensions["cowin_kit"].id_providers["dni"].code == "pe.dni"


def test_plugins_check_runs_the_contract_on_installed_plugins(run_cli):
    result = run_cli("plugins", "check", "pe.dni", "passport", "file", "console")
    assert result.exit_code == 0, result.output
    assert "ok   pe.dni" in result.output and "ok   file" in result.output


def test_plugins_check_unknown_name(run_cli, refused):
    refused(run_cli("plugins", "check", "xx.nothing"), "no installed plugin is called")


def test_scaffolded_id_provider_passes_its_own_tests(run_cli, tmp_path):
    result = run_cli("plugins", "new", "id-provider", "ke.national-id", "ke-plugin")
    assert result.exit_code == 0, result.output
    target = tmp_path / "ke-plugin"
    assert (target / "pyproject.toml").read_text().count('"ke.national-id" =') == 1
    env = {"PYTHONPATH": str(target), "PATH": "/usr/bin:/bin"}
    out = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                          "--doctest-modules", "."], cwd=target, env=env,
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr
    assert " passed" in out.stdout
    result = run_cli("plugins", "new", "id-provider", "ke.national-id", "ke-plugin")
    assert result.exit_code == 2 and "not empty" in result.output


def test_the_contract_catches_leaks_at_debug_and_in_tracebacks():
    from cowin_kit.plugins.builtin.ids.pe import PeruDni
    from cowin_kit.testing.contract import check_sms_gateway

    class Chatty(PeruDni):
        def validate(self, number):
            try:
                return super().validate(number)
            except InvalidIdNumber:
                try:
                    raise KeyError(number)
                except KeyError:
                    logging.getLogger("chatty").debug("bad", exc_info=True)
                raise

    assert any("log record" in f for f in check_id_provider(Chatty(), invalid=["10117410-3"]))

    class Whisper:
        def send(self, phone_number, text):
            logging.getLogger("whisper").debug("sending %s", text)
            return "ref"

    assert any("OTP" in f for f in check_sms_gateway(Whisper()))
