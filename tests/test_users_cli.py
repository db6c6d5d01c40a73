"""`cowin-kit users create|import|disable|enable|list|reset-password`, and `init --update
--admin-email`: the operator's way to manage staff users and recover a lost password."""
import re
import stat

import pytest
from sqlalchemy import select

from cowin_kit.accounts.models import StaffUser
from cowin_kit.accounts.staff_login import log_in
from cowin_kit.testing import ADMIN_EMAIL, ADMIN_PASSWORD

from helpers import STAFF_PASSWORD, audit_rows, facility, make_user, staff_login


@pytest.fixture
def inst(cowin_kit_instance):
    return ["--instance", str(cowin_kit_instance)]


def printed_password(output: str) -> str:
    match = re.search(r"One-time password \(shown once[^:]*: (\S+)", output)
    assert match, output
    return match.group(1)


def get_user(database, email):
    with database.Session() as s:
        return s.scalar(select(StaffUser).where(StaffUser.email == email))


def can_log_in(database, email, password) -> bool:
    with database.Session() as s:
        ok = log_in(s, email, password) is not None
        s.commit()
        return ok


def test_create_prints_a_one_time_password(run_cli, inst, database):
    result = run_cli("users", "create", "Vac@Example.org", "--role", "vaccinator",
                     "--facility", "DEMO-PE-0001", *inst)
    assert result.exit_code == 0, result.output
    assert "Created vac@example.org (vaccinator)." in result.output
    password = printed_password(result.output)
    user = get_user(database, "vac@example.org")
    assert user.must_change_password and user.facility_id == facility(database,
                                                                       "DEMO-PE-0001").id
    assert can_log_in(database, "vac@example.org", password)
    [event] = audit_rows(database, "staff.created")[-1:]
    assert event.actor.startswith("cli:") and event.division_id == user.division_id
    assert "vac@example.org" not in str(event.details) and password not in str(event.details)


@pytest.mark.parametrize("args,fragments", [
    (["x@example.org", "--role", "wizard"], ["role: Choose one of the roles"]),
    (["nobody", "--role", "verifier"], ["email: Enter an e-mail address"]),
    (["x@example.org", "--role", "vaccinator"], ["facility:"]),
    (["x@example.org", "--role", "state_admin", "--division", "1501"], ["level 1"]),
    (["x@example.org", "--role", "verifier", "--division", "NOPE"],
     ["division: There is no division with the code NOPE"]),
    ([ADMIN_EMAIL, "--role", "verifier"], ["already exists"]),
])
def test_create_refuses_wrong_values(run_cli, inst, refused, args, fragments):
    refused(run_cli("users", "create", *args, *inst), *fragments)


HEADER = "email,role,division_code,facility_code\n"


def test_import_creates_every_user_or_none(run_cli, inst, tmp_path, database):
    (tmp_path / "u.csv").write_text(
        HEADER + "a@example.org,vaccinator,,DEMO-PE-0001\n"
        "b@example.org,district_admin,1501,\n"
        "c@example.org,call_centre,,\n", encoding="utf-8")
    result = run_cli("users", "import", "u.csv", *inst)
    assert result.exit_code == 0, result.output
    lines = dict(line.split(",") for line in result.stdout.splitlines()[1:] if "," in line)
    assert set(lines) == {"a@example.org", "b@example.org", "c@example.org"}
    assert "3 staff user(s) created" in result.output
    assert can_log_in(database, "b@example.org", lines["b@example.org"])
    assert get_user(database, "c@example.org").division_id is None  # country-wide helpline
    [event] = audit_rows(database, "staff.imported")
    assert event.details == {"created": 3}


def test_import_reports_every_wrong_line_and_creates_nothing(run_cli, inst, tmp_path,
                                                             database, refused):
    (tmp_path / "u.csv").write_text(
        HEADER + "ok@example.org,vaccinator,,DEMO-PE-0001\n"
        "bad-address,verifier,1501,\n"
        "x@example.org,wizard,,\n"
        "y@example.org,vaccinator,,NOPE\n"
        "ok@example.org,verifier,1501,\n"
        f"{ADMIN_EMAIL},verifier,1501,\n"
        "z@example.org,district_admin,PE-LMA,\n", encoding="utf-8")
    result = run_cli("users", "import", "u.csv", *inst)
    refused(result, "nothing was imported",
            "u.csv:3: email: 'bad-address' is not an e-mail address",
            "u.csv:4: role 'wizard': use one of national_admin",
            "u.csv:5: facility_code: There is no centre with the code NOPE",
            "u.csv:6: email: ok@example.org is repeated (first on line 2)",
            f"u.csv:7: email: a staff user {ADMIN_EMAIL} already exists",
            "u.csv:8: division_code: A district administrator's area is a division below")
    assert "u.csv:2" not in result.output
    assert get_user(database, "ok@example.org") is None


def test_import_refuses_a_file_with_wrong_columns(run_cli, inst, tmp_path, refused):
    (tmp_path / "u.csv").write_text("email,role\na@example.org,verifier\n", encoding="utf-8")
    refused(run_cli("users", "import", "u.csv", *inst),
            "missing column(s) division_code, facility_code")


def test_import_writes_the_passwords_to_a_private_file(run_cli, inst, tmp_path, database,
                                                       refused):
    (tmp_path / "u.csv").write_text(HEADER + "a@example.org,verifier,1501,\n",
                                    encoding="utf-8")
    result = run_cli("users", "import", "u.csv", "--passwords-out", "pw.csv", *inst)
    assert result.exit_code == 0, result.output
    out = tmp_path / "pw.csv"
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    email, password = out.read_text().splitlines()[1].split(",")
    assert email == "a@example.org" and password not in result.output
    assert can_log_in(database, email, password)
    (tmp_path / "v.csv").write_text(HEADER + "b@example.org,verifier,1501,\n",
                                    encoding="utf-8")
    refused(run_cli("users", "import", "v.csv", "--passwords-out", "pw.csv", *inst),
            "exists already")
    assert get_user(database, "b@example.org") is None


def test_disable_and_enable(run_cli, inst, client, database):
    make_user(database, "v@example.org", "verifier", "1501")
    assert staff_login(client, "v@example.org", STAFF_PASSWORD).status_code == 302
    result = run_cli("users", "disable", "V@example.org", *inst)
    assert result.exit_code == 0, result.output
    assert "v@example.org is disabled; 1 login(s) ended." in result.output
    assert client.get("/staff/").headers["Location"].endswith("/staff/login")
    assert not can_log_in(database, "v@example.org", STAFF_PASSWORD)
    assert run_cli("users", "enable", "v@example.org", *inst).exit_code == 0
    assert can_log_in(database, "v@example.org", STAFF_PASSWORD)
    assert [e.action for e in audit_rows(database) if e.action in (
        "staff.disabled", "staff.enabled")] == ["staff.disabled", "staff.enabled"]


def test_the_last_national_administrator_is_not_disabled(run_cli, inst, refused):
    refused(run_cli("users", "disable", ADMIN_EMAIL, *inst), "last active national")
    refused(run_cli("users", "disable", "nobody@example.org", *inst),
            "there is no staff user nobody@example.org")


def test_reset_password_recovers_a_lost_administrator_password(run_cli, inst, client,
                                                               database):
    assert staff_login(client).status_code == 302
    result = run_cli("users", "reset-password", ADMIN_EMAIL, *inst)
    assert result.exit_code == 0, result.output
    password = printed_password(result.output)
    assert client.get("/staff/").status_code == 302  # the old login has ended
    assert not can_log_in(database, ADMIN_EMAIL, ADMIN_PASSWORD)
    r = staff_login(client, ADMIN_EMAIL, password)
    assert r.headers["Location"].endswith("/staff/password")  # to be changed at once
    [event] = audit_rows(database, "staff.password_reset")
    assert password not in str(event.details)


def test_list_filters_and_writes_csv(run_cli, inst, database):
    make_user(database, "lima@example.org", "district_admin", "1501")
    make_user(database, "are@example.org", "district_admin", "0401")
    make_user(database, "help@example.org", "call_centre", "150101")
    result = run_cli("users", "list", *inst)
    assert result.exit_code == 0 and "4 user(s)." in result.output
    assert ADMIN_EMAIL in result.output
    result = run_cli("users", "list", "--division", "1501", "--format", "csv", *inst)
    assert result.output.splitlines() == [
        "email,role,division_code,facility_code,active,last_login",
        "help@example.org,call_centre,150101,,yes,",
        "lima@example.org,district_admin,1501,,yes,"]
    result = run_cli("users", "list", "--role", "district_admin", *inst)
    assert "are@example.org" in result.output and "help@" not in result.output


def test_list_refuses_unknown_filters(run_cli, inst, refused):
    refused(run_cli("users", "list", "--role", "king", *inst), "not a role")
    refused(run_cli("users", "list", "--division", "XX", *inst), "not a known division")


# --- init --update --admin-email -------------------------------------------------------------

def _update(run_cli, cowin_kit_instance, *extra):
    return run_cli("init", "--country", "PE", "--instance", str(cowin_kit_instance),
                   "--update", "--no-input", *extra)


def test_init_update_adds_a_missing_administrator(run_cli, cowin_kit_instance, database):
    result = _update(run_cli, cowin_kit_instance, "--admin-email", "Second@Example.org")
    assert result.exit_code == 0, result.output
    assert "National administrator: second@example.org" in result.output
    password = printed_password(result.output)
    user = get_user(database, "second@example.org")
    assert user.role == "national_admin" and user.must_change_password
    assert can_log_in(database, "second@example.org", password)


def test_init_update_with_an_existing_administrator_changes_nothing_and_says_so(
        run_cli, cowin_kit_instance, database):
    result = _update(run_cli, cowin_kit_instance, "--admin-email", ADMIN_EMAIL)
    assert result.exit_code == 0, result.output
    assert f"{ADMIN_EMAIL} is already a national administrator; nothing was changed" \
        in result.output
    assert f"cowin-kit users reset-password {ADMIN_EMAIL}" in result.output
    assert "One-time password" not in result.output
    assert can_log_in(database, ADMIN_EMAIL, ADMIN_PASSWORD)


def test_init_update_refuses_an_address_of_another_role(run_cli, cowin_kit_instance, database,
                                                        refused):
    make_user(database, "v@example.org", "verifier", "1501")
    refused(_update(run_cli, cowin_kit_instance, "--admin-email", "v@example.org"),
            "v@example.org is a staff user with the role verifier")
    assert get_user(database, "v@example.org").role == "verifier"
