"""The fixtures cowin_kit.testing ships: the settings a test changes go back, the SMS outbox
reads the OTP, and test databases are named so that parallel workers never share one."""
import pytest

from cowin_kit.testing import fixtures


@pytest.mark.parametrize("cowin_kit_config", [{"OTP_TTL_SECONDS": 42}])
def test_the_app_is_created_with_cowin_kit_config(app):
    assert app.extensions["cowin_kit"].settings["OTP_TTL_SECONDS"] == 42


def test_change_settings_knows_the_settings(app, change_settings):
    change_settings(HSTS_SECONDS=0)
    assert app.extensions["cowin_kit"].settings["HSTS_SECONDS"] == 0
    with pytest.raises(KeyError):
        change_settings(NO_SUCH_SETTING=1)


def test_the_outbox_gives_the_code_sent(client, sms_outbox):
    assert sms_outbox.messages() == []
    r = client.post("/api/v2/auth/public/generateOTP", json={"mobile": "987654321"})
    assert r.status_code == 200
    assert sms_outbox.sent_to() == ["+51987654321"]
    code = sms_outbox.last_code("+51987654321")
    assert len(code) == 6 and code.isdigit()


def test_database_names_are_per_worker_and_process(monkeypatch):
    monkeypatch.setenv(fixtures.TEST_DB_ENV, "postgresql://postgres@127.0.0.1/some_suite")
    monkeypatch.setenv("PYTEST_XDIST_WORKER", "gw1")
    first, second = fixtures._pg_name("t"), fixtures._pg_name("t")
    assert first.startswith("some_suite_t_gw1_") and first != second
    monkeypatch.delenv("PYTEST_XDIST_WORKER")
    assert "_main_" in fixtures._pg_name("tpl_pe")
    assert len(fixtures._pg_name("x" * 80)) <= 63
