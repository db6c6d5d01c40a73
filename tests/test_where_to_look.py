"""`init` ends by saying where the deployment is and where login codes go; `config check`
warns (exit 0) about what makes a deployment look right while it is not: codes that never
reach a phone, login cookies that may cross the network in clear."""
import json

import pytest


def _init(run_cli, url, *extra):
    return run_cli("init", "--country", "PE", "--instance", "inst", "--database-url", url,
                   "--no-input", "--admin-email", "you@example.org", "--demo", *extra)


def test_init_ends_with_the_addresses_and_the_codes_file(run_cli, cowin_kit_database_url,
                                                          tmp_path):
    result = _init(run_cli, cowin_kit_database_url)
    assert result.exit_code == 0, result.output
    tail = result.output[result.output.index("Where to look"):]
    assert "citizens' portal  http://127.0.0.1:5000/portal/" in tail
    assert "staff pages       http://127.0.0.1:5000/staff/" in tail
    assert "dashboard         http://127.0.0.1:5000/dashboard" in tail
    assert "http://127.0.0.1:5000/open-data" in tail
    assert "http://127.0.0.1:5000/api/v2/" in tail and "/api/openapi.json" in tail
    outbox = tmp_path / "inst" / "sms-outbox.jsonl"
    assert f"appended to {outbox}" in tail and "No code reaches a phone" in tail


def test_init_uses_the_public_address_and_names_the_console(run_cli, cowin_kit_database_url):
    env = {"COWIN_KIT_PUBLIC_URL": "https://vacunas.example.gob",
           "COWIN_KIT_SMS_GATEWAY": "console"}
    result = run_cli("init", "--country", "PE", "--instance", "inst", "--database-url",
                     cowin_kit_database_url, "--no-input", "--admin-email", "you@example.org",
                     env=env)
    assert result.exit_code == 0, result.output
    tail = result.output[result.output.index("Where to look"):]
    assert "https://vacunas.example.gob/portal/" in tail and "127.0.0.1" not in tail
    assert "printed in the terminal where the server runs" in tail


def test_the_outbox_named_by_init_is_where_the_code_arrives(run_cli, cowin_kit_database_url,
                                                            tmp_path):
    """Follow init's words as a first-time user would: the code is in the file it named."""
    from cowin_kit.app import create_app

    result = _init(run_cli, cowin_kit_database_url)
    line = next(x for x in result.output.splitlines() if "login codes" in x)
    named = line.split("appended to ", 1)[1].split(" ", 1)[0]
    app = create_app({"INSTANCE_PATH": tmp_path / "inst", "TESTING": True})
    try:
        r = app.test_client().post("/api/v2/auth/public/generateOTP",
                                   json={"mobile": "987654321"})
        assert r.status_code == 200
    finally:
        app.extensions["cowin_kit"].db.dispose()
    with open(named, encoding="utf-8") as fh:
        message = json.loads(fh.readlines()[-1])
    assert message["to"] == "+51987654321"


def warnings(result) -> str:
    return "\n".join(x for x in result.output.splitlines() if x.startswith("Warning:"))


@pytest.fixture
def inst(cowin_kit_instance):
    return ["--instance", str(cowin_kit_instance)]


def test_check_warns_that_demo_gateways_reach_no_phone(run_cli, inst, cowin_kit_instance):
    result = run_cli("config", "check", *inst)
    assert result.exit_code == 0, result.output
    assert "SMS_GATEWAY is file" in warnings(result)
    assert str(cowin_kit_instance / "sms-outbox.jsonl") in warnings(result)
    assert "never reach people's phones" in warnings(result)
    result = run_cli("config", "check", *inst, env={"COWIN_KIT_SMS_GATEWAY": "console"})
    assert result.exit_code == 0 and "SMS_GATEWAY is console" in warnings(result)
    result = run_cli("config", "check", *inst, env={
        "COWIN_KIT_SMS_GATEWAY": "http", "COWIN_KIT_SMS_HTTP_URL": "https://sms.example.org/"})
    assert result.exit_code == 0 and "SMS_GATEWAY" not in warnings(result)


@pytest.mark.parametrize("env,warned", [
    ({}, False),  # the development server on this machine
    ({"COWIN_KIT_PUBLIC_URL": "http://localhost:8000"}, False),
    ({"COWIN_KIT_PUBLIC_URL": "https://vacunas.example.gob"}, True),
    ({"COWIN_KIT_PROXY_FIX_HOPS": "1"}, True),  # a proxy in front: not a laptop
    ({"COWIN_KIT_PUBLIC_URL": "https://vacunas.example.gob",
      "COWIN_KIT_SESSION_COOKIE_SECURE": "true"}, False),
])
def test_check_warns_about_cookies_without_secure_off_this_machine(run_cli, inst, env, warned):
    result = run_cli("config", "check", *inst, env=env)
    assert result.exit_code == 0, result.output
    assert ("SESSION_COOKIE_SECURE is off" in warnings(result)) is warned


def test_check_warns_about_plain_http_and_refuses_a_bad_public_url(run_cli, inst, refused):
    result = run_cli("config", "check", *inst, env={
        "COWIN_KIT_PUBLIC_URL": "http://vacunas.example.gob",
        "COWIN_KIT_SESSION_COOKIE_SECURE": "true"})
    assert result.exit_code == 0 and "plain HTTP" in warnings(result)
    for bad in ("vacunas.example.gob", "https://vacunas.example.gob/portal", "ftp://x"):
        refused(run_cli("config", "check", *inst, env={"COWIN_KIT_PUBLIC_URL": bad}),
                "PUBLIC_URL")
