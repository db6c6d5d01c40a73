"""Pages read right in every language (issue 16, item 9): times isolated from the text
around them, lists in the reader's alphabetical order, the ministry named, semicolon CSVs."""
from __future__ import annotations

import datetime as dt
import re

import pytest
from flask_babel import force_locale
from sqlalchemy import select

from cowin_kit.collation import sort_key, sorted_by_name
from cowin_kit.csvfiles import CsvProblems, detect_delimiter, read_rows


def test_collation_puts_accented_and_ukrainian_letters_in_their_place():
    assert sorted_by_name(["Ucayali", "Áncash", "Amazonas", "Lima", "Ñuble"], "es") == [
        "Amazonas", "Áncash", "Lima", "Ñuble", "Ucayali"]
    oblasts = ["Чернігівська", "Івано-Франківська", "Вінницька", "Запорізька", "Київська",
               "Житомирська", "Одеська", "Єрусалимка", "Ґданська"]
    assert sorted(oblasts, key=sort_key("uk")) == [
        "Вінницька", "Ґданська", "Єрусалимка", "Житомирська", "Запорізька",
        "Івано-Франківська", "Київська", "Одеська", "Чернігівська"]


def test_home_page_and_api_list_divisions_in_the_readers_order(app, client):
    page = client.get("/?lang=es").get_data(as_text=True)
    listed = re.findall(r"<li>([^<]+)</li>", page[page.index('class="divisions"'):])
    assert "Áncash" in listed
    assert listed.index("Áncash") < listed.index("Apurímac") < listed.index("Ayacucho")
    assert listed == sorted(listed, key=sort_key("es"))
    states = client.get("/api/v2/admin/location/states").get_json()["states"]
    names = [s["state_name"] for s in states]
    assert names == sorted(names, key=sort_key("es")), names


@pytest.mark.parametrize("cowin_kit_country,cowin_kit_config", [("UA", {})])
def test_ukrainian_oblasts_are_in_ukrainian_order(app, client, cowin_kit_country):
    page = client.get("/?lang=uk").get_data(as_text=True)
    listed = re.findall(r"<li>([^<]+)</li>", page[page.index('class="divisions"'):])
    at = {name.split()[0]: i for i, name in enumerate(listed)}
    assert "Запорізька" in at, listed
    # І comes after З and before К in Ukrainian, not after Я as in code-point order.
    assert at["Запорізька"] < at["Івано-Франківська"] < at["Київська"], listed
    assert listed == sorted(listed, key=sort_key("uk"))


def test_time_ranges_isolate_each_time(app):
    from cowin_kit.i18n import isolate, time_range

    with app.test_request_context("/"), force_locale("ar"):
        html = str(time_range(dt.time(14), dt.time(16)))
    assert re.fullmatch(r'<span class="time-range"><bdi>[^<]*2:00[^<]*م</bdi>–<bdi>[^<]*4:00'
                        r'[^<]*م</bdi></span>', html), html
    with app.test_request_context("/"), force_locale("es"):
        assert "<bdi>14:00</bdi>–<bdi>16:00</bdi>" in str(time_range(dt.time(14), dt.time(16)))
    assert isolate("2:00 م") == "\u20682:00 م\u2069"


def _book(app, database):
    from cowin_kit.accounts.models import CitizenAccount
    from cowin_kit.registration import service as registration
    from cowin_kit.registration.service import IdContext
    from cowin_kit.scheduling import booking

    from helpers import api_session

    session_id, slot = api_session(database)
    dep = app.extensions["cowin_kit"]
    ctx = IdContext.from_settings(dict(dep.id_providers), dep.settings)
    with database.Session() as s:
        account = s.scalar(select(CitizenAccount).where(CitizenAccount.mobile == "+51987654321"))
        if account is None:
            account = CitizenAccount(mobile="+51987654321")
            s.add(account)
            s.flush()
        person = registration.register_beneficiary(
            s, ctx, document_code="dni", id_number="40123456", name="Rosa Mamani",
            birth_year=1980, gender="female", account_id=account.id)
        [appt] = booking.schedule(s, account_id=account.id, beneficiary_ids=[person.id],
                                  session_id=session_id, slot=slot, dose=1,
                                  today=dt.date.today())
        s.commit()
        return appt.id


@pytest.fixture
def cowin_kit_config():
    return {"LANGUAGES": ["es", "en", "ar"]}


def test_the_portal_header_and_the_slip_name_the_ministry(app, client, database,
                                                          cowin_kit_instance):
    from helpers import web_login

    appointment_id = _book(app, database)
    home = client.get("/portal/login?lang=es").get_data(as_text=True)
    assert '<span class="ministry">Ministerio de Salud del Perú (MINSA)</span>' in home
    assert "Ministry of Health of Peru" in client.get("/?lang=en").get_data(as_text=True)
    web_login(client, cowin_kit_instance, "987654321")
    slip = client.get(f"/portal/appointments/{appointment_id}?lang=ar").get_data(as_text=True)
    assert '<p class="slip-issuer">Ministerio de Salud del Perú (MINSA)</p>' in slip
    # Left-to-right values are isolated inside cells that keep the page's direction.
    assert re.search(r'<dd class="slip-slot"><bdi dir="ltr">\d\d:\d\d–\d\d:\d\d</bdi></dd>',
                     slip), slip
    assert '<dd dir="ltr"' not in slip
    family = client.get("/portal/?lang=ar").get_data(as_text=True)
    assert re.search(r'<span class="time-range"><bdi>[^<]+</bdi>–<bdi>[^<]+</bdi></span>',
                     family)
    pdf = client.get(f"/portal/appointments/{appointment_id}/slip.pdf?lang=es")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")


def test_semicolon_separated_csv_is_read(tmp_path):
    file = tmp_path / "d.csv"
    file.write_text("code;level;parent_code;name\nX1;2;PE-LIM;Lima Sur\n", encoding="utf-8")
    rows = read_rows(file, ["code", "level", "parent_code", "name"])
    assert rows == [(2, {"code": "X1", "level": "2", "parent_code": "PE-LIM",
                         "name": "Lima Sur"})]
    assert detect_delimiter("code\tname", ["code", "name"]) == "\t"


def test_a_csv_with_other_columns_is_refused_with_the_separator_named(tmp_path):
    file = tmp_path / "d.csv"
    file.write_text("código;nivel\nX1;2\n", encoding="utf-8")
    with pytest.raises(CsvProblems) as err:
        read_rows(file, ["code", "level"])
    assert "the header is separated by semicolon (;)" in str(err.value)


def _day(offset=40):
    return (dt.date.today() + dt.timedelta(days=offset)).strftime("%d-%m-%Y")


CSV_IMPORTS = [
    ("geo", "code;level;parent_code;name\n1501;2;PE-LMA;Lima\n", "division(s) created"),
    ("facilities", "code;name;address;division_code;postal_code;latitude;longitude;fee_type\n"
                   "LIM-SEMI;Posta Punto y Coma;Jr. Lima 1;150101;15001;-12,0531;-77,0287;Free\n",
     None),
    ("sessions", "facility_code;date;vaccine;min_age;capacity_dose1;slots\n"
                 f"DEMO-PE-0001;{_day()};comirnaty;12;50;\"09:00-11:00;11:00-13:00\"\n", None),
    ("users", "email;role;division_code;facility_code\n"
              "semi@example.org;vaccinator;;DEMO-PE-0001\n", None),
]


@pytest.mark.parametrize("command,text,says", CSV_IMPORTS)
def test_every_csv_import_reads_semicolons(run_cli, cowin_kit_instance, tmp_path, command,
                                           text, says):
    (tmp_path / "in.csv").write_text(text, encoding="utf-8")
    result = run_cli(command, "import", "in.csv", "--instance", str(cowin_kit_instance))
    assert result.exit_code == 0, result.output
    if says:
        assert says in result.output
