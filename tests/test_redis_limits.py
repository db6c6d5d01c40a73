"""Rate limits shared through Redis (REDIS_URL): every worker and machine counts together,
and a Redis that stops answering does not take the service down."""
import uuid

from cowin_kit.app import create_app


def _app(instance, url, prefix):
    return create_app({"INSTANCE_PATH": instance, "TESTING": True, "REDIS_URL": url,
                       "RATELIMIT_KEY_PREFIX": prefix})


def test_two_workers_share_one_limit(cowin_kit_instance, redis_url):
    prefix = f"test-{uuid.uuid4().hex}"  # this test's own keys
    first, second = (_app(cowin_kit_instance, redis_url, prefix).test_client()
                     for _ in range(2))
    statuses = [first.post("/api/v2/auth/public/generateOTP",
                           json={"mobile": f"9876543{i:02d}"}).status_code for i in range(20)]
    assert 403 not in statuses
    # The 21st request within the minute reaches another process: still refused (403, as
    # Co-WIN answered login throttling: api/cowin_codes.py).
    r = second.post("/api/v2/auth/public/generateOTP", json={"mobile": "987654399"})
    assert r.status_code == 403 and r.get_json()["errorCode"] == "OTP_THROTTLED"


def test_a_redis_outage_does_not_refuse_requests(cowin_kit_instance):
    client = _app(cowin_kit_instance, "redis://127.0.0.1:1/0", "down").test_client()
    r = client.post("/api/v2/auth/public/generateOTP", json={"mobile": "987654321"})
    assert r.status_code == 200 and "txnId" in r.get_json()


def test_config_check_names_a_redis_that_does_not_answer(run_cli, cowin_kit_instance, refused):
    result = run_cli("config", "check", "--instance", str(cowin_kit_instance),
                     env={"COWIN_KIT_REDIS_URL": "redis://:secret@127.0.0.1:1/0"})
    refused(result, "REDIS_URL 127.0.0.1:1/0", "Redis does not answer")
    assert "secret" not in result.output
    result = run_cli("config", "check", "--instance", str(cowin_kit_instance),
                     env={"COWIN_KIT_REDIS_URL": "http://127.0.0.1:6379"})
    refused(result, "is not a Redis URL")


def test_config_check_accepts_a_redis_that_answers(run_cli, cowin_kit_instance, redis_url):
    result = run_cli("config", "check", "--instance", str(cowin_kit_instance),
                     env={"COWIN_KIT_REDIS_URL": redis_url})
    assert result.exit_code == 0, result.output
