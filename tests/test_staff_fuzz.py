"""The staff forms take known-nasty values in every field and answer with a page (400 with
the field named, or the session added), never a 500."""
import pytest

from helpers import LATER, NASTY, csrf, facility, staff_login as login

pytestmark = pytest.mark.usefixtures("english")

FIELDS = {"date": LATER.isoformat(), "product": "1", "min_age": "18", "max_age": "",
          "capacity_dose1": "10", "capacity_dose2": "", "capacity_dose3": "",
          "slots": "09:00-11:00", "fee": "50"}


@pytest.mark.parametrize("value", NASTY)
def test_each_session_field_takes_nasty_values(admin, database, value):
    url = f"/staff/centres/{facility(database, 'DEMO-PE-0002').id}"
    for field in FIELDS:
        token = csrf(admin.get(url).get_data(as_text=True))
        r = admin.post(url, data={**FIELDS, field: value, "csrf_token": token})
        assert r.status_code in (302, 400), (field, value, r.status_code)


@pytest.mark.parametrize("value", NASTY)
def test_login_takes_nasty_values(client, value):
    for email, password in ((value, "x" * 12), ("admin@example.org", value)):
        r = login(client, email, password)
        assert r.status_code in (400, 429), (email, password, r.status_code)
