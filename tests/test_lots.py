"""Vaccine lots of a centre on the staff pages: added, corrected, withdrawn; an expired or
duplicate lot refused, another centre's lot unknown; and what a vaccinator may then use."""
import datetime as dt

import pytest
from sqlalchemy import select

from cowin_kit.programmes.models import Product
from cowin_kit.vaccination import lots
from cowin_kit.vaccination.models import VaccineLot

from helpers import (
    STAFF_PASSWORD,
    TODAY,
    audit_rows,
    csrf,
    facility,
    make_facility_user,
    make_user,
    staff_login,
)

pytestmark = pytest.mark.usefixtures("english")
NEXT_YEAR = TODAY + dt.timedelta(days=365)


@pytest.fixture
def lima_admin(client, database):
    make_user(database, "lima@example.org", "district_admin", "1501")
    assert staff_login(client, "lima@example.org", STAFF_PASSWORD).status_code == 302
    return client


def _product_id(database, code="comirnaty"):
    with database.Session() as s:
        return s.scalar(select(Product.id).where(Product.code == code))


def _add_lot(client, centre_id, **data):
    url = f"/staff/centres/{centre_id}/lots/new"
    page = client.get(url).get_data(as_text=True)
    return client.post(url, data={"lot_number": "fk-1234", "product": "2",
                                  "expires_on": NEXT_YEAR.isoformat(),
                                  "doses_received": "500", "csrf_token": csrf(page), **data})


def _lots(database, centre_id):
    """The lots added by the test (the demo data gives every demo centre a DEMO- lot)."""
    with database.Session() as s:
        return s.scalars(select(VaccineLot).where(VaccineLot.facility_id == centre_id,
                                                  VaccineLot.lot_number.not_like("DEMO-%"))
                         .order_by(VaccineLot.id)).all()


def _not_demo(found):
    return [x for x in found if not x.lot_number.startswith("DEMO-")]


def test_adding_a_lot(database, lima_admin):
    centre = facility(database, "DEMO-PE-0001")
    r = _add_lot(lima_admin, centre.id)
    assert r.status_code == 302 and r.headers["Location"].endswith("#lots")
    [lot] = _lots(database, centre.id)
    assert (lot.lot_number, lot.product_id, lot.expires_on, lot.doses_received,
            lot.doses_used, lot.is_active) == ("FK-1234", _product_id(database), NEXT_YEAR,
                                               500, 0, True)
    html = lima_admin.get(r.headers["Location"]).get_data(as_text=True)
    assert "Lot FK-1234 has been added." in html and "500 of 500" in html
    [event] = audit_rows(database, "lot.added")
    assert event.target == f"lot:{lot.id}" and event.division_id == centre.division_id
    with database.Session() as s:  # the vaccinator may choose it
        assert [x.id for x in _not_demo(lots.usable_lots(s, centre.id, lot.product_id,
                                                         TODAY))] == [lot.id]


@pytest.mark.parametrize("data,field,message", [
    ({"expires_on": (TODAY - dt.timedelta(days=1)).isoformat()}, "expires_on",
     "an expired lot cannot be added"),
    ({"expires_on": "2030-02-30"}, "expires_on", "Enter a real date"),
    ({"lot_number": ""}, "lot_number", "Enter the lot number."),
    ({"lot_number": "FK 12/34 !"}, "lot_number", "Enter the lot number as printed"),
    ({"doses_received": "0"}, "doses_received", "Enter a number from 1 to"),
    ({"doses_received": "many"}, "doses_received", "Enter a whole number"),
    ({"product": "999"}, "product", "Choose one of the vaccines offered."),
])
def test_a_wrong_lot_is_refused_and_named(database, lima_admin, data, field, message):
    centre = facility(database, "DEMO-PE-0001")
    r = _add_lot(lima_admin, centre.id, **data)
    html = r.get_data(as_text=True)
    assert r.status_code == 400 and message in html, html[-2000:]
    assert f'href="#{field}"' in html or f'id="{field}-error"' in html
    assert _lots(database, centre.id) == []


def test_a_lot_number_is_once_per_product_and_centre(database, lima_admin):
    centre = facility(database, "DEMO-PE-0001")
    assert _add_lot(lima_admin, centre.id).status_code == 302
    r = _add_lot(lima_admin, centre.id, lot_number="FK-1234")
    assert r.status_code == 400
    assert "This centre already has lot FK-1234 of" in r.get_data(as_text=True)
    # Another vaccine, or another centre, may have the same number.
    assert _add_lot(lima_admin, centre.id, product="1").status_code == 302
    assert _add_lot(lima_admin, facility(database, "DEMO-PE-0002").id).status_code == 302
    assert len(_lots(database, centre.id)) == 2


def test_correcting_doses_received_never_below_doses_used(database, lima_admin):
    centre = facility(database, "DEMO-PE-0001")
    _add_lot(lima_admin, centre.id, doses_received="10")
    [lot] = _lots(database, centre.id)
    with database.Session() as s:
        for _ in range(4):
            lots.take_dose(s, lot.id, facility_id=centre.id, product_id=lot.product_id,
                           on=TODAY)
        s.commit()
    url = f"/staff/centres/{centre.id}/lots/{lot.id}"
    page = lima_admin.get(url).get_data(as_text=True)
    r = lima_admin.post(url, data={"doses_received": "3", "csrf_token": csrf(page)})
    assert r.status_code == 400
    assert "4 doses of this lot are already used" in r.get_data(as_text=True)
    r = lima_admin.post(url, data={"doses_received": "4", "csrf_token": csrf(page)})
    assert r.status_code == 302
    [lot] = _lots(database, centre.id)
    assert (lot.doses_received, lot.doses_used) == (4, 4)
    with database.Session() as s, pytest.raises(lots.LotError, match="used up"):
        lots.take_dose(s, lot.id, facility_id=centre.id, product_id=lot.product_id, on=TODAY)
    assert audit_rows(database, "lot.updated")[0].details["doses_received"] == 4


def test_a_withdrawn_lot_is_not_used_any_more(database, lima_admin):
    centre = facility(database, "DEMO-PE-0001")
    _add_lot(lima_admin, centre.id)
    [lot] = _lots(database, centre.id)
    page = lima_admin.get(f"/staff/centres/{centre.id}/lots/{lot.id}").get_data(as_text=True)
    r = lima_admin.post(f"/staff/centres/{centre.id}/lots/{lot.id}/withdraw",
                        data={"csrf_token": csrf(page)})
    assert r.status_code == 302
    assert "withdrawn" in lima_admin.get(r.headers["Location"]).get_data(as_text=True)
    with database.Session() as s:
        assert _not_demo(lots.usable_lots(s, centre.id, lot.product_id, TODAY)) == []
        with pytest.raises(lots.LotError, match="withdrawn"):
            lots.take_dose(s, lot.id, facility_id=centre.id, product_id=lot.product_id,
                           on=TODAY)
    assert len(audit_rows(database, "lot.withdrawn")) == 1
    # Its page no longer offers to change it.
    html = lima_admin.get(f"/staff/centres/{centre.id}/lots/{lot.id}").get_data(as_text=True)
    assert 'name="doses_received"' not in html


def test_another_centres_lot_is_unknown_and_another_facility_forbidden(database, client):
    own, other = facility(database, "DEMO-PE-0001"), facility(database, "DEMO-PE-0002")
    make_user(database, "lima@example.org", "district_admin", "1501")
    staff_login(client, "lima@example.org", STAFF_PASSWORD)
    _add_lot(client, other.id)
    [lot] = _lots(database, other.id)
    # The lot under another centre's address: unknown.
    assert client.get(f"/staff/centres/{own.id}/lots/{lot.id}").status_code == 404
    page = client.get(f"/staff/centres/{own.id}/lots/new").get_data(as_text=True)
    r = client.post(f"/staff/centres/{own.id}/lots/{lot.id}/withdraw",
                    data={"csrf_token": csrf(page)})
    assert r.status_code == 404
    # A centre outside the administrator's area: unknown too.
    assert client.get(f"/staff/centres/{facility(database, 'DEMO-PE-0011').id}/lots/new"
                      ).status_code == 404
    # A facility manager: their own centre's lots only; another centre is 403, audited.
    client.post("/staff/logout", data={"csrf_token": page and csrf(page)})
    make_facility_user(database, "fm@example.org", "facility_manager", "DEMO-PE-0001")
    assert staff_login(client, "fm@example.org", STAFF_PASSWORD).status_code == 302
    assert _add_lot(client, own.id, lot_number="OWN-1").status_code == 302
    assert client.get(f"/staff/centres/{other.id}/lots/new").status_code == 403
    assert client.get(f"/staff/centres/{other.id}/lots/{lot.id}").status_code == 403
    assert [e.details["reason"] for e in audit_rows(database, "access.denied")] == [
        "facility", "facility"]
    assert [x.lot_number for x in _lots(database, own.id)] == ["OWN-1"]
    assert "OWN-1" in client.get("/staff/my-centre").get_data(as_text=True)


def test_the_lot_rules_in_the_service(database):
    """What the pages rely on, called directly (the CLI or the API would call the same)."""
    centre = facility(database, "DEMO-PE-0001")
    with database.Session() as s:
        product = s.get(Product, _product_id(database))
        with pytest.raises(lots.LotError) as refused:
            lots.add_lot(s, "test", centre, lot_number="X1", product=product,
                         expires_on=TODAY - dt.timedelta(days=1), doses_received=5,
                         today=TODAY)
        assert refused.value.field == "expires_on"
        lot = lots.add_lot(s, "test", centre, lot_number="X1", product=product,
                           expires_on=TODAY, doses_received=5, today=TODAY)  # lasts today
        with pytest.raises(lots.LotError, match="already has lot X1"):
            lots.add_lot(s, "test", centre, lot_number="x1", product=product,
                         expires_on=TODAY, doses_received=5, today=TODAY)
        with pytest.raises(lots.LotNotFound):
            lots.facility_lot(s, centre.id + 1, lot.id)
        assert lots.set_lot_active(s, "test", centre, lot, False) is True
        assert lots.set_lot_active(s, "test", centre, lot, False) is False
