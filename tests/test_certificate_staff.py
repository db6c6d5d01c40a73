"""The certificate pages of the staff site: finding a person's certificates, revoking a
version with a reason, correcting a vaccinated person's details; for administrators, in
their area only."""
import re

import pytest

from helpers import (
    NASTY,
    STAFF_PASSWORD,
    add_member,
    audit_rows,
    beneficiary_id,
    certificate_rows,
    csrf,
    make_user,
    reference,
    staff_login,
    vaccinated,
    web_login,
)

REASON = "Recorded for the wrong person."


@pytest.fixture
def ref(app, database, client, cowin_kit_instance):
    """A member vaccinated twice at DEMO-PE-0001 (Lima); the client is then logged out of
    the portal (a fresh cookie jar for the staff pages)."""
    web_login(client, cowin_kit_instance)
    assert add_member(client, "45678912", name="Rosa Quispe", year="1980").status_code == 302
    ref = reference(database)
    vaccinated(app, database, ref, number=1, days_ago=40)
    vaccinated(app, database, ref, number=2, days_ago=10)
    client._cookies.clear()
    return ref


@pytest.fixture
def staff(client, english):
    """Log the client in as a staff user (the national administrator by default)."""
    def login(email=None, role=None, division=None, database=None):
        if email is not None:
            make_user(database, email, role, division)
            r = staff_login(client, email, STAFF_PASSWORD)
        else:
            r = staff_login(client)
        assert r.status_code == 302, r.data
        return client
    return login


def _find(client, query):
    page = client.get("/staff/certificates").get_data(as_text=True)
    return client.post("/staff/certificates", data={"query": query, "csrf_token": csrf(page)})


def test_find_by_reference_or_uvci_and_see_the_versions(database, ref, staff):
    client = staff()
    home = client.get("/staff/certificates")
    assert home.status_code == 200 and 'aria-current="page">Certificates<' in home.get_data(
        as_text=True)
    r = _find(client, ref)
    person_id = beneficiary_id(database, ref)
    assert r.status_code == 302
    assert r.headers["Location"].endswith(f"/staff/certificates/person/{person_id}")
    page = client.get(r.headers["Location"]).get_data(as_text=True)
    first, second = certificate_rows(database, ref)
    assert "Rosa Quispe" in page and "45678912" not in page  # the ID number masked
    assert first.uvci in page and second.uvci in page
    assert "Superseded" in page and "Current" in page and "Revoke version 2" in page
    # By a UVCI, typed without its prefix and in small letters: that version is marked.
    r = _find(client, first.uvci.removeprefix("URN:UVCI:").lower())
    assert r.status_code == 302 and r.headers["Location"].endswith(f"?version={first.id}")
    page = client.get(r.headers["Location"]).get_data(as_text=True)
    assert f'id="version-{first.id}"' in page and "chosen" in page
    events = audit_rows(database, "certificate.looked_up")
    assert [e.details["by"] for e in events] == ["reference", "uvci"]
    assert all(e.target == f"beneficiary:{person_id}" for e in events)


@pytest.mark.parametrize("query", ["", "12345678901234", "URN:UVCI:01:PE:NOPE#A", *NASTY[1:6]])
def test_a_search_that_finds_nothing_says_so_at_the_field(ref, staff, query):
    r = _find(staff(), query)
    assert r.status_code == 400
    page = r.get_data(as_text=True)
    assert 'class="field-error"' in page or "There is a problem" in page
    assert "Traceback" not in page


def test_revoke_with_a_reason_after_confirming(database, ref, staff):
    client = staff()
    first = certificate_rows(database, ref)[0]
    url = f"/staff/certificates/{first.id}/revoke"
    page = client.get(url).get_data(as_text=True)
    assert "cannot be undone" in page and first.uvci in page
    assert client.post(url, data={"reason": REASON}).status_code == 400  # no CSRF token
    r = client.post(url, data={"reason": "short", "csrf_token": csrf(page)})
    assert r.status_code == 400 and "at least 10 characters" in r.get_data(as_text=True)
    assert certificate_rows(database, ref)[0].revoked_at is None
    r = client.post(url, data={"reason": REASON, "csrf_token": csrf(page)})
    assert r.status_code == 302
    page = client.get(r.headers["Location"]).get_data(as_text=True)
    assert "is revoked" in page and REASON in page and "Revoked" in page
    assert certificate_rows(database, ref)[0].revocation_reason == REASON
    [event] = audit_rows(database, "certificate.revoked")
    assert event.target == f"certificate:{first.id}"
    # Revoked already: the page says so and offers no form.
    page = client.get(url).get_data(as_text=True)
    assert "already revoked" in page and 'name="reason"' not in page


def test_correct_details_on_the_page(database, ref, staff):
    client = staff()
    person_id = beneficiary_id(database, ref)
    url = f"/staff/certificates/person/{person_id}/correct"
    page = client.get(url).get_data(as_text=True)
    assert 'value="Rosa Quispe"' in page and 'value="1980"' in page
    token = csrf(page)
    r = client.post(url, data={"name": "", "birth_year": "abc", "gender": "female",
                               "reason": "x", "csrf_token": token})
    assert r.status_code == 400
    errors = re.findall(r'class="field-error" id="([a-z_]+)-error"', r.get_data(as_text=True))
    assert {"name", "birth_year"} <= set(errors)
    r = client.post(url, data={"name": "Rosa Quispe", "birth_year": "1980", "gender": "female",
                               "reason": "Nothing to change here.", "csrf_token": token})
    assert r.status_code == 400 and "already recorded" in r.get_data(as_text=True)
    r = client.post(url, data={"name": "Rosa Quispe Mamani", "birth_year": "1980",
                               "gender": "female", "reason": "Second surname was missing.",
                               "csrf_token": token})
    assert r.status_code == 302, r.data
    page = client.get(r.headers["Location"]).get_data(as_text=True)
    assert "The details are corrected (Name)" in page and "details corrected" in page
    rows = certificate_rows(database, ref)
    assert [r.revoked_at is not None for r in rows] == [True, True, False]


def test_other_roles_and_areas_are_refused_and_audited(database, ref, staff):
    person_id = beneficiary_id(database, ref)
    first = certificate_rows(database, ref)[0]
    client = staff("cusco@example.org", "district_admin", "0801", database)
    for url in (f"/staff/certificates/person/{person_id}",
                f"/staff/certificates/{first.id}/revoke",
                f"/staff/certificates/person/{person_id}/correct"):
        assert client.get(url).status_code == 403
    assert _find(client, ref).status_code == 403
    page = client.get("/staff/certificates").get_data(as_text=True)
    r = client.post(f"/staff/certificates/{first.id}/revoke",
                    data={"reason": REASON, "csrf_token": csrf(page)})
    assert r.status_code == 403
    assert certificate_rows(database, ref)[0].revoked_at is None
    denied = audit_rows(database, "access.denied")
    assert len(denied) == 5 and {e.details["reason"] for e in denied} == {"area"}
    assert not audit_rows(database, "certificate.looked_up")


def test_a_role_without_the_capability_is_refused(database, ref, staff):
    client = staff("vax@example.org", "call_centre", None, database)
    assert client.get("/staff/certificates").status_code == 403
    assert "/staff/certificates" not in client.get("/staff/password").get_data(as_text=True)
    [event] = audit_rows(database, "access.denied")
    assert event.details["reason"] == "role"


def test_the_district_of_the_latest_dose_may_act(database, ref, staff):
    client = staff("lima@example.org", "district_admin", "1501", database)
    person_id = beneficiary_id(database, ref)
    assert client.get(f"/staff/certificates/person/{person_id}").status_code == 200


def test_unknown_ids_are_404(ref, staff):
    client = staff()
    for url in ("/staff/certificates/person/999999", "/staff/certificates/999999/revoke",
                "/staff/certificates/person/0", "/staff/certificates/person/x/correct",
                "/staff/certificates/99999999999999999999/revoke"):
        assert client.get(url).status_code == 404, url


def test_lookups_are_rate_limited_per_user(ref, staff):
    client = staff()
    page = client.get("/staff/certificates").get_data(as_text=True)
    token = csrf(page)
    codes = [client.post("/staff/certificates", data={"query": "12345678901234",
                                                      "csrf_token": token}).status_code
             for _ in range(31)]
    assert codes[-1] == 429 and set(codes[:30]) == {400}


def test_reissue_from_the_page_issues_a_new_version_and_keeps_the_old_valid(database, ref,
                                                                           staff):
    client = staff()
    person = beneficiary_id(database, ref)
    page = client.get(f"/staff/certificates/person/{person}").get_data(as_text=True)
    assert "Issue a new version" in page
    stale = client.post(f"/staff/certificates/person/{person}/reissue",
                        data={"csrf_token": "stale"})
    assert stale.status_code == 400 and len(certificate_rows(database, ref)) == 2
    r = client.post(f"/staff/certificates/person/{person}/reissue",
                    data={"csrf_token": csrf(page)}, follow_redirects=True)
    assert r.status_code == 200 and "A new version of 1 certificate(s) is issued" in r.text
    rows = certificate_rows(database, ref)
    assert [c.version for c in rows] == [1, 2, 3]
    assert rows[1].superseded_at is not None and rows[1].revoked_at is None
    assert len(audit_rows(database, "certificate.reissued")) == 1


def test_reissue_outside_the_area_is_refused(database, ref, staff):
    client = staff("cusco@example.org", "district_admin", "0801", database)
    person = beneficiary_id(database, ref)
    page = client.get("/staff/certificates").get_data(as_text=True)
    r = client.post(f"/staff/certificates/person/{person}/reissue",
                    data={"csrf_token": csrf(page)})
    assert r.status_code == 403 and len(certificate_rows(database, ref)) == 2
