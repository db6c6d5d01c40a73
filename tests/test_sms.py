"""SMS gateways: the built-in ones keep the contract; http talks to a real local server."""
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

import pytest

from cowin_kit.config import load_settings
from cowin_kit.plugins.builtin.sms import ConsoleGateway, FileGateway, HttpGateway
from cowin_kit.plugins.interfaces import SmsError
from cowin_kit.testing import Outbox
from cowin_kit.testing.contract import check_sms_gateway


class _Provider(BaseHTTPRequestHandler):
    received: list = []
    status = 200

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).received.append((dict(self.headers), body.decode("utf-8")))
        self.send_response(type(self).status)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(json.dumps({"message_id": "SM-1"}).encode())

    def log_message(self, *args):  # keep test output clean
        pass


@pytest.fixture
def sms_server():
    _Provider.received = []
    _Provider.status = 200
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Provider)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/send"
    server.shutdown()


def _settings(tmp_path, **values):
    return load_settings(tmp_path, overrides=values, environ={})


def test_http_gateway_posts_json_with_headers(sms_server, tmp_path):
    gateway = HttpGateway(_settings(tmp_path, SMS_HTTP_URL=sms_server,
                                    SMS_HTTP_HEADERS=["Authorization: Bearer k-123"]))
    ref = gateway.send("+51987654321", 'Su código es "493817"\nNo lo comparta.')
    assert ref == "SM-1"
    headers, body = _Provider.received[0]
    assert headers["Authorization"] == "Bearer k-123"
    assert json.loads(body) == {"to": "+51987654321",
                                "text": 'Su código es "493817"\nNo lo comparta.'}


def test_http_gateway_form_body(sms_server, tmp_path):
    gateway = HttpGateway(_settings(
        tmp_path, SMS_HTTP_URL=sms_server,
        SMS_HTTP_CONTENT_TYPE="application/x-www-form-urlencoded",
        SMS_HTTP_BODY="To=$to&Body=$text&From=MINSA"))
    gateway.send("+51987654321", "código & más")
    _, body = _Provider.received[0]
    assert parse_qs(body) == {"To": ["+51987654321"], "Body": ["código & más"], "From": ["MINSA"]}


def test_http_gateway_errors_are_sms_errors(sms_server, tmp_path):
    _Provider.status = 500
    with pytest.raises(SmsError, match="HTTP 500"):
        HttpGateway(_settings(tmp_path, SMS_HTTP_URL=sms_server)).send("+1", "x")
    with pytest.raises(SmsError, match="could not be reached"):
        HttpGateway(_settings(tmp_path, SMS_HTTP_URL="http://127.0.0.1:1/x",
                              SMS_HTTP_TIMEOUT=2)).send("+1", "x")
    with pytest.raises(SmsError, match="SMS_HTTP_URL"):
        HttpGateway(_settings(tmp_path)).send("+1", "x")


@pytest.mark.parametrize("factory", [ConsoleGateway, FileGateway])
def test_builtin_gateways_keep_the_contract(factory, tmp_path):
    assert check_sms_gateway(factory(_settings(tmp_path))) == []


def test_the_file_gateway_accepts_a_reference_once_across_processes(tmp_path):
    """A message sent again after a worker died between sending it and marking it sent
    (the same outbox reference) is not written twice, whichever worker process sends it
    again; messages without a reference (login codes) are always written."""
    settings = _settings(tmp_path)
    first, restarted = FileGateway(settings), FileGateway(settings)  # two worker processes
    ref = first.send("+51987654321", "Dose 1 recorded", reference="outbox-7")
    first.send("+51987654322", "Dose 1 recorded", reference="outbox-8")
    assert restarted.send("+51987654321", "Dose 1 recorded", reference="outbox-7") == ref
    assert first.send("+51987654321", "Dose 1 recorded", reference="outbox-7") == ref
    first.send("+51987654321", "123456 is your code", None)
    first.send("+51987654321", "123456 is your code", None)
    restarted.send("+51987654323", "Dose 1 recorded", reference="outbox-9")
    lines = [json.loads(x) for x in
             (tmp_path / "sms-outbox.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [x.get("reference") for x in lines] == ["outbox-7", "outbox-8", None, None,
                                                   "outbox-9"]


def test_http_gateway_keeps_the_contract(sms_server, tmp_path):
    assert check_sms_gateway(HttpGateway(_settings(tmp_path, SMS_HTTP_URL=sms_server))) == []


def test_a_gateway_that_logs_the_text_breaks_the_contract(tmp_path):
    import logging

    class Leaky(FileGateway):
        def send(self, phone_number, text):
            logging.getLogger("leaky").warning("sending %s", text)
            return "ref"

    assert any("OTP" in p for p in check_sms_gateway(Leaky(_settings(tmp_path))))


def test_sms_are_written_in_the_persons_language(app, cowin_kit_instance):
    messenger = app.extensions["cowin_kit"].messenger
    from cowin_kit.notifications.service import OTP_TEXT

    messenger.send("+51987654321", "es", OTP_TEXT, code="493817", service="Vacunación",
                   minutes=3)
    messenger.send("+51987654322", "ar", OTP_TEXT, code="111222", service="X", minutes=3)
    messenger.send("+51987654323", None, OTP_TEXT, code="333444", service="X", minutes=3)
    lines = Outbox(cowin_kit_instance).messages()
    assert "493817" in lines[0]["text"] and "minutos" in lines[0]["text"]
    assert "111222" in lines[1]["text"] and "دقائق" in lines[1]["text"]
    assert "minutos" in lines[2]["text"]  # no choice recorded: the deployment's language


def test_a_failing_gateway_is_logged_without_the_text(app, caplog, tmp_path):
    from cowin_kit.notifications.service import OTP_TEXT, Messenger

    messenger = Messenger(HttpGateway(_settings(tmp_path, SMS_HTTP_URL="http://127.0.0.1:1/x",
                                                SMS_HTTP_TIMEOUT=1)), [], "en")
    assert messenger.send("+1", "en", OTP_TEXT, code="987654", service="S", minutes=3) is None
    assert "987654" not in caplog.text and "SMS not sent" in caplog.text


def test_http_gateway_refuses_plain_http_to_other_hosts(tmp_path):
    with pytest.raises(SmsError, match="must be an https"):
        HttpGateway(_settings(tmp_path, SMS_HTTP_URL="http://sms.example.net/x")).send("+1", "x")


def test_http_gateway_passes_the_reference_and_tells_permanent_refusals(sms_server, tmp_path):
    gateway = HttpGateway(_settings(tmp_path, SMS_HTTP_URL=sms_server,
                                    SMS_HTTP_BODY='{"to": "$to", "text": "$text", '
                                                  '"client_ref": "$reference"}'))
    gateway.send("+51987654321", "hola", reference="outbox-42")
    assert json.loads(_Provider.received[0][1])["client_ref"] == "outbox-42"
    gateway.send("+51987654321", "hola")  # the OTP: no reference
    assert json.loads(_Provider.received[1][1])["client_ref"] == ""
    for status, permanent in ((400, True), (404, True), (429, False), (408, False),
                              (503, False)):
        _Provider.status = status
        with pytest.raises(SmsError) as refused:
            gateway.send("+51987654321", "hola", reference="outbox-43")
        assert refused.value.permanent is permanent, status
