"""The audit log page (/staff/audit) and its CSV export: an administrator's area only,
filters, pages, and an export without personal data that is itself audited."""
import csv
import datetime as dt
import io

import pytest
from sqlalchemy import select

from cowin_kit.accounts import staff_users
from cowin_kit.accounts.models import AuditEvent, StaffUser
from cowin_kit.accounts.service import audit
from cowin_kit.db import utcnow
from cowin_kit.geography.models import Division
from cowin_kit.testing import ADMIN_EMAIL

from helpers import (
    STAFF_PASSWORD,
    TODAY,
    add_member,
    audit_rows,
    csrf,
    make_user,
    staff_login,
    web_login,
)

pytestmark = pytest.mark.usefixtures("english")


def division_id(database, code):
    with database.Session() as s:
        return s.scalar(select(Division.id).where(Division.code == code))


def shown(page: str, action: str) -> bool:
    """Whether the log's table shows an event of ``action`` (not just the filter's choice)."""
    return f'<span dir="ltr">{action}</span></td>' in page


def add_event(database, action, code=None, at=None, **details):
    with database.Session() as s:
        event = audit(s, "staff:99", action, "thing:1",
                      division_id=code and s.scalar(select(Division.id)
                                                    .where(Division.code == code)),
                      **details)
        if at is not None:
            event.at = at
        s.commit()


@pytest.fixture
def lima_admin(client, database):
    make_user(database, "lima@example.org", "district_admin", "1501")
    assert staff_login(client, "lima@example.org", STAFF_PASSWORD).status_code == 302
    return client


def test_a_district_administrator_sees_its_area_only(lima_admin, database):
    add_event(database, "test.in_lima", "150101")  # a district of the province
    add_event(database, "test.in_arequipa", "0401")
    add_event(database, "test.national")
    page = lima_admin.get("/staff/audit").get_data(as_text=True)
    assert shown(page, "test.in_lima") and "150101" in page
    assert not shown(page, "test.in_arequipa") and not shown(page, "test.national")
    assert not shown(page, "instance.initialised")


def test_a_national_administrator_sees_everything(admin, database):
    add_event(database, "test.in_arequipa", "0401")
    page = admin.get("/staff/audit").get_data(as_text=True)
    assert shown(page, "test.in_arequipa") and shown(page, "instance.initialised")


def test_filters_by_action_actor_and_dates(admin, database):
    now = utcnow()
    add_event(database, "test.old", "0401", at=now - dt.timedelta(days=40))
    add_event(database, "test.new", "0401")
    page = admin.get("/staff/audit?action=test.old").get_data(as_text=True)
    assert "Events found: 1" in page and not shown(page, "test.new")
    page = admin.get("/staff/audit?action=test.").get_data(as_text=True)
    assert "Events found: 2" in page
    assert '<option value="test.old">' in page  # suggested in the action's list
    page = admin.get("/staff/audit?actor=staff:99").get_data(as_text=True)
    assert "Events found: 2" in page and not shown(page, "instance.initialised")
    since = (TODAY - dt.timedelta(days=1)).isoformat()
    page = admin.get(f"/staff/audit?actor=staff:99&since={since}").get_data(as_text=True)
    assert shown(page, "test.new") and not shown(page, "test.old")
    until = (TODAY - dt.timedelta(days=20)).isoformat()
    page = admin.get(f"/staff/audit?actor=staff:99&until={until}").get_data(as_text=True)
    assert shown(page, "test.old") and not shown(page, "test.new")


@pytest.mark.parametrize("query,message", [
    ("since=2026-02-30", "Enter a real date"),
    ("since=2026-03-02&until=2026-03-01", "must not be before the start date"),
    ("actor=" + "x" * 300, "Actor"),
    ("action=" + "x" * 81, "Action"),
])
def test_wrong_filters_are_a_form_error(admin, query, message):
    r = admin.get(f"/staff/audit?{query}")
    assert r.status_code == 400 and message in r.get_data(as_text=True)


def test_the_log_is_paginated(admin, database):
    with database.Session() as s:
        for n in range(120):
            audit(s, "staff:99", "test.many", f"thing:{n}")
        s.commit()
    page = admin.get("/staff/audit?action=test.many").get_data(as_text=True)
    assert "Page 1 of 3" in page and "thing:119" in page and "thing:69" not in page
    page = admin.get("/staff/audit?action=test.many&page=3").get_data(as_text=True)
    assert "Page 3 of 3" in page and "thing:0<" in page
    assert 'href="/staff/audit?action=test.many&amp;page=2"' in page


def export(client, query=""):
    page = client.get(f"/staff/audit?{query}").get_data(as_text=True)
    return client.post(f"/staff/audit/export?{query}", data={"csrf_token": csrf(page)})


def rows_of(response):
    return list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))


def test_the_export_is_the_filtered_view_without_personal_data(admin, app, database,
                                                               cowin_kit_instance):
    citizen = app.test_client()
    web_login(citizen, cowin_kit_instance)
    assert add_member(citizen, "40123456").status_code == 302
    add_event(database, "test.leaky", "0401", email="someone@example.org",
              note="call +51987654321 or mail x@example.org", count=3)
    r = export(admin)
    text = r.get_data(as_text=True)
    assert r.status_code == 200 and r.mimetype == "text/csv"
    assert "attachment" in r.headers["Content-Disposition"]
    rows = rows_of(r)
    assert list(rows[0]) == ["at_utc", "actor", "action", "target", "division", "details"]
    actions = [row["action"] for row in rows]
    assert "beneficiary.registered" in actions and "test.leaky" in actions
    for secret in ("40123456", "987654321", "someone@example.org", "x@example.org",
                   ADMIN_EMAIL, "127.0.0.1"):
        assert secret not in text, secret
    leaky = next(row for row in rows if row["action"] == "test.leaky")
    assert leaky["division"] == "0401" and '"count": 3' in leaky["details"]
    [exported] = audit_rows(database, "audit.exported")
    assert exported.actor.startswith("staff:")
    only = rows_of(export(admin, "action=test.leaky"))
    assert [row["action"] for row in only] == ["test.leaky"]


def test_the_export_of_a_district_is_its_area_only(lima_admin, database):
    add_event(database, "test.in_lima", "150101")
    add_event(database, "test.in_arequipa", "0401")
    actions = {row["action"] for row in rows_of(export(lima_admin))}
    assert "test.in_lima" in actions and "test.in_arequipa" not in actions
    assert "instance.initialised" not in actions
    [exported] = audit_rows(database, "audit.exported")
    assert exported.division_id == division_id(database, "1501")


def test_the_export_needs_its_csrf_token_and_a_post(admin):
    assert admin.post("/staff/audit/export").status_code == 400
    assert admin.get("/staff/audit/export").status_code == 405


def test_staff_actions_are_logged_in_the_users_area(lima_admin, database):
    """What the district's administrator does to its users shows in its own log."""
    with database.Session() as s:
        admin = s.scalar(select(StaffUser).where(StaffUser.email == "lima@example.org"))
        staff_users.create_user(s, admin, "v@example.org", "vaccinator",
                                facility_code="DEMO-PE-0002")
        s.commit()
    page = lima_admin.get("/staff/audit?action=staff.created").get_data(as_text=True)
    assert "Events found: 1" in page and "v@example.org" not in page
    with database.Session() as s:
        event = s.scalar(select(AuditEvent).where(AuditEvent.action == "staff.created",
                                                  AuditEvent.actor.like("staff:%")))
        assert event.division_id == division_id(database, "150122")  # Miraflores


def test_the_logins_of_a_districts_users_are_in_its_log(app, lima_admin, database):
    make_user(database, "v@example.org", "verifier", "150101")
    assert staff_login(app.test_client(), "v@example.org", STAFF_PASSWORD).status_code == 302
    assert staff_login(app.test_client(), "v@example.org", "wrong-password-1").status_code \
        == 400
    page = lima_admin.get("/staff/audit?action=staff.login").get_data(as_text=True)
    assert "Events found: 2" in page  # the administrator's own login and the verifier's
    page = lima_admin.get("/staff/audit?action=staff.login_failed").get_data(as_text=True)
    assert "Events found: 1" in page
