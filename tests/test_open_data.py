"""Open data (cowin_kit.reporting.open_data): the files, their numbers, suppression of small
counts and of the counts that would give them away, the command and the page."""
from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
from collections import defaultdict
from pathlib import Path

import pytest
from hypothesis import given, settings, strategies as st
from sqlalchemy import select

from cowin_kit.geography.models import Division
from cowin_kit.profiles import load_profile
from cowin_kit.programmes.models import Product
from cowin_kit.reporting import open_data as od
from cowin_kit.reporting.suppression import recoverable, suppress
from cowin_kit.scheduling.models import Facility
from cowin_kit.vaccination.service import record_dose

from helpers import TODAY, fold_rollups, new_person

NAT, DIV, AGE = od.NATIONAL, od.BY_DIVISION, od.BY_AGE_GENDER
CLASSES = ("first_doses", "second_doses", "later_doses")


def read_csv(body: bytes) -> list[dict]:
    return list(csv.DictReader(io.StringIO(body.decode("utf-8"))))


def count(text: str) -> int | None:
    return None if text == "" else int(text)


# --- what a reader can subtract, worked out from the published files alone ------------------

def published_sums(files: dict[str, bytes]) -> list[tuple[str, list, list]]:
    """Every (name, left, right) pair of published cell lists that count the same doses:
    the national columns, a day's national figure against the division table, a month's
    division and dose in the daily table against the monthly one, a month's national days
    against the monthly table. Cells are ints, None where suppressed."""
    nat = read_csv(files[f"{NAT}.csv"])
    div = read_csv(files[f"{DIV}.csv"])
    age = read_csv(files[f"{AGE}.csv"])

    def cls(dose: str) -> str:
        return CLASSES[min(int(dose), 3) - 1]

    sums = []
    by_day, by_day_cls = defaultdict(list), defaultdict(list)
    for r in div:
        by_day[r["date"]].append(count(r["doses"]))
        by_day_cls[(r["date"], cls(r["dose_number"]))].append(count(r["doses"]))
    month_nat, month_nat_cls = defaultdict(list), defaultdict(list)
    for r in nat:
        cells = {c: count(r[c]) for c in ("doses", *CLASSES)}
        sums.append((f"columns {r['date']}", [cells["doses"]], [cells[c] for c in CLASSES]))
        sums.append((f"day {r['date']}", [cells["doses"]], by_day.pop(r["date"], [])))
        for c in CLASSES:
            sums.append((f"day {r['date']} {c}", [cells[c]],
                         by_day_cls.pop((r["date"], c), [])))
        month_nat[r["date"][:7]].append(cells["doses"])
        for c in CLASSES:
            month_nat_cls[(r["date"][:7], c)].append(cells[c])
    assert not by_day, "division rows on a day the national table lacks"
    daily, monthly = defaultdict(list), defaultdict(list)
    month_age, month_age_cls = defaultdict(list), defaultdict(list)
    for r in div:
        daily[(r["date"][:7], r["division_code"], r["dose_number"])].append(count(r["doses"]))
    for r in age:
        monthly[(r["month"], r["division_code"], r["dose_number"])].append(count(r["doses"]))
        month_age[r["month"]].append(count(r["doses"]))
        month_age_cls[(r["month"], cls(r["dose_number"]))].append(count(r["doses"]))
    for key in daily.keys() | monthly.keys():
        sums.append((f"month/division/dose {key}", daily[key], monthly[key]))
    for month in month_nat.keys() | month_age.keys():
        sums.append((f"month {month}", month_nat[month], month_age[month]))
        for c in CLASSES:
            sums.append((f"month {month} {c}", month_nat_cls[(month, c)],
                         month_age_cls[(month, c)]))
    return sums


def assert_nothing_recoverable(files: dict[str, bytes]) -> int:
    """No suppressed count equals a published total minus published counts, in any sum;
    sums without a suppressed count add up. Returns how many counts are suppressed."""
    for name, left, right in published_sums(files):
        unknown = sum(1 for v in left + right if v is None)
        assert unknown != 1, f"{name}: one suppressed count, recoverable: {left} = {right}"
        if unknown == 0:
            assert sum(left) == sum(right), (name, left, right)
    return sum(1 for table in (NAT, DIV, AGE) for r in read_csv(files[f"{table}.csv"])
               for c in ("doses", *CLASSES) if r.get(c) == "")


# --- random drives, for the properties -------------------------------------------------------

START = dt.date(2026, 1, 20)  # the days cross a month's end
DIVISIONS = {"PE-CUS": "Cusco", "PE-LIM": "Lima", od.NO_DIVISION: ""}
PRODUCTS = {("covid19", "comirnaty"): "Comirnaty", ("covid19", "spikevax"): "Spikevax"}
BANDS = [0, 18, 60]

records = st.lists(st.tuples(
    st.integers(0, 20),  # days after START
    st.sampled_from(sorted(DIVISIONS)),
    st.sampled_from(sorted(PRODUCTS)),
    st.integers(1, 4),  # dose number
    st.sampled_from(BANDS),
    st.sampled_from(["female", "male", "other"]),
    st.integers(1, 30),  # doses
), max_size=60)


def source_of(recs, through=START + dt.timedelta(days=20)) -> od.Source:
    source = od.Source(BANDS, through, {c: n for c, n in DIVISIONS.items() if c},
                       dict(PRODUCTS))
    daily, monthly = defaultdict(int), defaultdict(int)
    for days, division, (programme, product), dose, band, gender, n in recs:
        day = START + dt.timedelta(days=days)
        daily[(day, division, programme, product, dose)] += n
        monthly[(day.strftime("%Y-%m"), division, band, gender, dose)] += n
    source.daily, source.monthly = dict(daily), dict(monthly)
    return source


class FakeProfile(dict):
    code = "PE"


PROFILE = FakeProfile(reporting={"licence": "CC-BY-4.0",
                                 "licence_url": "https://creativecommons.org/licenses/by/4.0/"})
NOW = dt.datetime(2026, 2, 10, 12, tzinfo=dt.UTC)


@settings(max_examples=300, deadline=None)
@given(records, st.integers(1, 15))
def test_no_suppressed_count_is_a_published_total_minus_published_counts(recs, k):
    source = source_of(recs)
    data = od.build(source, k)
    files = od.render(data, PROFILE, extracted=NOW).files
    hidden = assert_nothing_recoverable(files)
    assert hidden == data.primary + data.complementary == sum(data.suppressed.values())
    # What is published is true, and never a small count.
    truth_div = {(d.isoformat(), v, p, pr, str(n)): c for (d, v, p, pr, n), c
                 in source.daily.items()}
    for r in read_csv(files[f"{DIV}.csv"]):
        key = (r["date"], r["division_code"], r["programme_code"], r["product_code"],
               r["dose_number"])
        assert (r["doses"] == "") == (r["suppressed"] == "true")
        if r["doses"]:
            assert int(r["doses"]) == truth_div[key] and int(r["doses"]) >= k
        else:
            assert truth_div[key] > 0
    for r in read_csv(files[f"{AGE}.csv"]):
        assert r["doses"] == "" or int(r["doses"]) >= k
        assert r["age_band"] in ("0–17", "18–59", "60+")
    for r in read_csv(files[f"{NAT}.csv"]):
        for c in ("doses", *CLASSES):
            assert r[c] == "" or int(r[c]) == 0 or int(r[c]) >= k
    # Every small count is suppressed.
    small = sum(1 for n in [*source.daily.values(), *source.monthly.values()] if 0 < n < k)
    assert data.suppressed[DIV] + data.suppressed[AGE] >= small


@settings(max_examples=300, deadline=None)
@given(st.lists(st.integers(1, 40), min_size=2, max_size=30), st.data(), st.integers(1, 20))
def test_complementary_suppression_leaves_no_group_with_one_hidden_cell(values, data, k):
    n = len(values)
    groups = data.draw(st.lists(st.lists(st.integers(0, n - 1), min_size=2, max_size=n,
                                         unique=True), max_size=12))
    primary, complementary = suppress(values, groups, k)
    assert primary == {i for i, v in enumerate(values) if v < k}
    assert not recoverable(primary | complementary, groups)
    assert not primary & complementary


def test_the_next_smallest_cell_is_the_complement():
    # A total of 45 over three cells, one of them small: the next smallest goes with it.
    values = [45, 3, 12, 30]
    primary, complementary = suppress(values, [[0, 1, 2, 3]], 10)
    assert (primary, complementary) == ({1}, {2})
    # Two small cells already hide each other; a total hides only if no detail can.
    assert suppress([45, 3, 4, 38], [[0, 1, 2, 3]], 10) == ({1, 2}, set())
    assert suppress([5, 5, 0], [[0, 1, 2]], 10, priority=[1, 0, 0]) == ({0, 1}, set())
    assert suppress([12, 5, 7], [[0, 1, 2]], 10, priority=[1, 0, 0]) == ({1, 2}, set())


def test_one_complement_hides_a_small_count_in_both_tables():
    """The example of docs/reporting.md: Cusco's 3 first doses are small; the day's 40 first
    doses minus Lima's 25 would give them away, so Arequipa's 12 are hidden too, in both
    tables (the month's division and dose ties them), and nothing more: Lima's 14 + 11 stay."""
    day = dt.date(2026, 11, 30)
    source = od.Source([0, 18, 60], day, {"PE-ARE": "Arequipa", "PE-CUS": "Cusco",
                                          "PE-LMA": "Lima Metropolitana"},
                       {("covid19", "comirnaty"): "Comirnaty"})
    for division, dose, band, gender, n in [
            ("PE-LMA", 1, 18, "female", 14), ("PE-LMA", 1, 18, "male", 11),
            ("PE-CUS", 1, 60, "female", 3), ("PE-ARE", 1, 18, "female", 12),
            ("PE-LMA", 2, 60, "male", 30)]:
        key = (day, division, "covid19", "comirnaty", dose)
        source.daily[key] = source.daily.get(key, 0) + n
        source.monthly[("2026-11", division, band, gender, dose)] = n
    data = od.build(source, 10)
    files = od.render(data, PROFILE, extracted=NOW).files
    assert (data.primary, data.complementary) == (2, 2)
    assert read_csv(files[f"{NAT}.csv"]) == [{
        "date": "2026-11-30", "doses": "70", "first_doses": "40", "second_doses": "30",
        "later_doses": "0", "suppressed": "false"}]
    daily = {(r["division_code"], r["dose_number"]): r["doses"]
             for r in read_csv(files[f"{DIV}.csv"])}
    assert daily == {("PE-ARE", "1"): "", ("PE-CUS", "1"): "", ("PE-LMA", "1"): "25",
                     ("PE-LMA", "2"): "30"}
    monthly = [r["doses"] for r in read_csv(files[f"{AGE}.csv"])]
    assert monthly == ["", "", "14", "11", "30"]
    assert json.loads(files[f"{DIV}.json"])[0]["doses"] is None
    assert_nothing_recoverable(files)


def test_a_randomised_drive_with_a_fixed_seed():
    """A larger drive than hypothesis draws, the same property (seeded, reproducible)."""
    import random

    rnd = random.Random(20261206)
    recs = [(rnd.randrange(40), rnd.choice(sorted(DIVISIONS)), rnd.choice(sorted(PRODUCTS)),
             rnd.choice([1, 1, 1, 2, 2, 3, 4]), rnd.choice(BANDS),
             rnd.choice(["female", "male", "other"]), rnd.choice([1, 2, 3, 5, 8, 20, 60]))
            for _ in range(3000)]
    data = od.build(source_of(recs, START + dt.timedelta(days=40)), 10)
    files = od.render(data, PROFILE, extracted=NOW).files
    assert assert_nothing_recoverable(files) > 0
    assert data.complementary > 0


# --- doses recorded in a deployment ----------------------------------------------------------

NAMES = ("Zoraida Quispetupa", "Wenceslao Huamanchumo")


@pytest.fixture
def drive(app, database):
    """Doses in Lima (the demo centre) and Cusco (a centre made here) and without a centre,
    folded into the rollups: 12 first doses of Comirnaty in Lima three days ago, 3 in Cusco
    the same day, 2 second doses in Lima, one imported dose without a centre."""
    day = TODAY - dt.timedelta(days=3)
    with database.Session() as s:
        lima = s.scalar(select(Facility).where(Facility.code == "DEMO-PE-0001"))
        cusco = s.scalar(select(Division).where(Division.code == "PE-CUS"))
        centre = Facility(code="TEST-CUS-1", name="Centro Cusco", division_id=cusco.id)
        s.add(centre)
        s.flush()
        product = s.scalar(select(Product).where(Product.code == "comirnaty"))
        people = []
        for i in range(17):
            name = NAMES[i % 2] if i < 2 else f"Persona {i}"
            people.append(new_person(s, name, year=1960 + i, gender=("female", "male")[i % 2]))
        for p in people[:12]:
            record_dose(s, beneficiary_id=p.id, product=product, dose_number=1,
                        given_on=day, facility_id=lima.id)
        for p in people[12:15]:
            record_dose(s, beneficiary_id=p.id, product=product, dose_number=1,
                        given_on=day, facility_id=centre.id)
        for p in people[:2]:
            record_dose(s, beneficiary_id=p.id, product=product, dose_number=2,
                        given_on=day + dt.timedelta(days=1), facility_id=lima.id)
        record_dose(s, beneficiary_id=people[16].id, product=product, dose_number=1,
                    given_on=day)
        s.commit()
        secrets = [p.reference_id for p in people] + [p.id_number_masked for p in people]
    assert fold_rollups(app) == 18
    return day, secrets


def export(app, database, through=None):
    dep = app.extensions["cowin_kit"]
    with database.Session() as s:
        return od.export(s, dep.profile, lang="es", now=NOW, tz=dep.timezone,
                         through=through or TODAY - dt.timedelta(days=1))


def test_numbers_from_recorded_doses(app, database, drive):
    day, _secrets = drive
    result = export(app, database)
    nat = {r["date"]: r for r in read_csv(result.files[f"{NAT}.csv"])}
    # 16 doses on the day: 12 + 3 + 1. Its 15 first doses minus the 12 of Lima would give
    # the 3 of Cusco plus the 1 without a centre away: those are small, both suppressed.
    assert nat[day.isoformat()]["doses"] == "16"
    assert nat[day.isoformat()]["first_doses"] == "16"
    # The next day's two second doses are fewer than k: suppressed, and with them the day's
    # total they would be (the only other non-zero count of their sums).
    nextday = nat[(day + dt.timedelta(days=1)).isoformat()]
    assert nextday["second_doses"] == "" and nextday["doses"] == ""
    assert nextday["first_doses"] == "0" and nextday["suppressed"] == "true"
    assert list(nat)[-1] == (TODAY - dt.timedelta(days=1)).isoformat()  # to the last whole day
    rows = read_csv(result.files[f"{DIV}.csv"])
    got = {(r["date"], r["division_code"], r["dose_number"]): (r["doses"], r["suppressed"])
           for r in rows}
    assert got[(day.isoformat(), "PE-LMA", "1")] == ("12", "false")
    assert got[(day.isoformat(), "PE-CUS", "1")] == ("", "true")
    assert got[(day.isoformat(), od.NO_DIVISION, "1")] == ("", "true")
    lima = {r["division_name"] for r in rows if r["division_code"] == "PE-LMA"}
    assert lima == {"Lima Metropolitana"}
    assert {r["product_code"] for r in rows} == {"comirnaty"}
    assert_nothing_recoverable(result.files)
    # The monthly table: 18 doses, in bands by year of birth, all of them small here.
    age = read_csv(result.files[f"{AGE}.csv"])
    assert {r["gender"] for r in age} <= {"female", "male"}
    assert all(r["doses"] == "" for r in age)
    assert sum(result.data.source.monthly.values()) == 18


def test_a_smaller_k_publishes_more(app, database, drive):
    dep = app.extensions["cowin_kit"]
    with database.Session() as s:
        source = od.gather(s, dep.profile, TODAY, "es")
    files = od.render(od.build(source, 1), dep.profile, extracted=NOW).files
    rows = read_csv(files[f"{DIV}.csv"])
    assert sum(int(r["doses"]) for r in rows) == 18
    assert all(r["suppressed"] == "false" for r in rows)


def test_the_dictionary_covers_every_column(app, database, drive):
    files = export(app, database).files
    dictionary = read_csv(files[f"{od.DICTIONARY}.csv"])
    described = {(r["table"], r["column"]) for r in dictionary}
    for table in (NAT, DIV, AGE):
        header = next(csv.reader(io.StringIO(files[f"{table}.csv"].decode())))
        assert {(table, c) for c in header} <= described, table
        for row in json.loads(files[f"{table}.json"]):
            assert {(table, c) for c in row} <= described
    for r in dictionary:
        assert r["type"] and r["meaning"], r
    assert json.loads(files[f"{od.DICTIONARY}.json"]) == dictionary
    gender = next(r for r in dictionary if r["column"] == "gender")
    assert "female" in gender["allowed_values"]
    doses = next(r for r in dictionary if r["table"] == DIV and r["column"] == "doses")
    assert "at least 10" in doses["allowed_values"]


def test_datapackage_names_the_licence_source_time_and_k(app, database, drive):
    files = export(app, database).files
    package = json.loads(files[od.PACKAGE])
    profile = load_profile("PE")
    assert package["licenses"] == [{"name": profile["reporting"]["licence"],
                                    "path": profile["reporting"]["licence_url"],
                                    "title": profile["reporting"]["licence"]}]
    assert package["created"].startswith("2026-02-10T12:00:00")
    assert package["sources"] and package["sources"][0]["title"]
    assert package["suppression"]["min_cell"] == 10
    assert package["profile"] == "tabular-data-package"
    paths = {r["path"] for r in package["resources"]}
    assert paths == set(od.file_names()) - {od.PACKAGE}
    for r in package["resources"]:
        body = files[r["path"]]
        if r["format"] == "csv":
            assert r["bytes"] == len(body)
            assert r["hash"] == "sha256:" + hashlib.sha256(body).hexdigest()
        assert r["name"].replace("-", "").isalnum() and r["name"].islower()
        if r["path"].startswith("doses"):
            names = [f["name"] for f in r["schema"]["fields"]]
            header = next(csv.reader(io.StringIO(files[r["path"].replace(".json", ".csv")]
                                                 .decode())))
            assert names == header


def test_no_personal_data_in_any_file(app, database, drive):
    _day, secrets = drive
    files = export(app, database).files
    everything = b"\n".join(files.values()).decode("utf-8")
    for text in [*NAMES, *secrets, "Persona"]:
        assert text not in everything, text
    for table in (NAT, DIV, AGE):
        header = next(csv.reader(io.StringIO(files[f"{table}.csv"].decode())))
        for column in header:
            assert not any(word in column for word in (
                "birth", "reference", "beneficiary", "person", "mobile", "id_number")), column
        # Every row is a count over many people or suppressed: no row stands for one person.
        assert all(r["doses"] == "" or int(r["doses"]) >= 10 or r["doses"] == "0"
                   for r in read_csv(files[f"{table}.csv"]))


# --- the command -----------------------------------------------------------------------------

def test_the_command_writes_every_file_and_can_run_again(app, drive, run_cli,
                                                         cowin_kit_instance, tmp_path):
    out = tmp_path / "published"
    result = run_cli("export", "open-data", out, "--instance", cowin_kit_instance)
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == sorted(od.file_names())
    assert "k = 10" in result.output
    lines = {line.split()[0]: line for line in result.output.splitlines()[1:-1]}
    assert set(lines) == set(od.file_names())
    assert "suppressed cells" in lines[f"{DIV}.csv"] and "rows" in lines[f"{DIV}.csv"]
    package = json.loads((out / od.PACKAGE).read_text())
    assert package["suppression"]["min_cell"] == 10
    first = (out / f"{DIV}.csv").read_bytes()
    again = run_cli("export", "open-data", out, "--instance", cowin_kit_instance)
    assert again.exit_code == 0, again.output
    assert sorted(p.name for p in out.iterdir()) == sorted(od.file_names())  # no leftovers
    assert (out / f"{DIV}.csv").read_bytes() == first


def test_the_command_refuses_a_file_or_a_folder_it_cannot_write(
        app, run_cli, cowin_kit_instance, tmp_path, refused):
    a_file = tmp_path / "notes.txt"
    a_file.write_text("mine")
    refused(run_cli("export", "open-data", a_file, "--instance", cowin_kit_instance),
            "is a file, not a folder")
    assert a_file.read_text() == "mine"
    refused(run_cli("export", "open-data", a_file / "sub", "--instance", cowin_kit_instance),
            "cannot write in")
    refused(run_cli("export", "open-data", "/sys/kernel", "--instance", cowin_kit_instance),
            "cannot write in /sys/kernel")


# --- the page --------------------------------------------------------------------------------

def test_the_page_explains_and_lists_the_files(client, english, drive):
    page = client.get("/open-data").get_data(as_text=True)
    assert "Open data" in page and "CC-BY-4.0" in page
    assert "https://creativecommons.org/licenses/by/4.0/" in page
    assert "smaller than 10" in page
    for name in od.file_names():
        assert f'href="/open-data/{name}"' in page
    for text in [*NAMES, *drive[1]]:
        assert text not in page


@pytest.mark.parametrize("name, kind", [
    (f"{DIV}.csv", "text/csv; charset=utf-8"), (f"{NAT}.json", "application/json"),
    (od.PACKAGE, "application/json"), (f"{od.DICTIONARY}.csv", "text/csv; charset=utf-8")])
def test_files_download_with_their_type_and_name(client, drive, name, kind):
    r = client.get(f"/open-data/{name}")
    assert r.status_code == 200 and r.content_type == kind
    assert r.headers["Content-Disposition"] == f'attachment; filename="{name}"'
    if name.endswith(".json"):
        json.loads(r.data)
    again = client.get(f"/open-data/{name}", headers={"If-None-Match": r.headers["ETag"]})
    assert again.status_code == 304


def test_the_downloads_are_the_files_the_command_writes(client, drive, run_cli,
                                                        cowin_kit_instance, tmp_path):
    assert run_cli("export", "open-data", tmp_path / "o", "--instance",
                   cowin_kit_instance).exit_code == 0
    for name in (f"{DIV}.csv", f"{AGE}.json", f"{NAT}.csv"):
        assert client.get(f"/open-data/{name}").data == (tmp_path / "o" / name).read_bytes()


@pytest.mark.parametrize("name", ["nope.csv", "datapackage.xml", "..%2Fsettings.toml",
                                  "doses_daily_national.CSV", "%00"])
def test_unknown_files_are_404(client, english, name):
    r = client.get(f"/open-data/{name}")
    assert r.status_code == 404


def test_the_page_with_no_dose_yet(client, english):
    page = client.get("/open-data").get_data(as_text=True)
    assert "No dose has been counted yet" in page
    assert client.get(f"/open-data/{NAT}.csv").data.decode().startswith("date,doses")


def test_the_page_in_a_browser(browser, live_url, drive, shots):
    page = browser.new_page(locale="en")
    page.goto(f"{live_url}/open-data?lang=en")
    assert page.locator("h1").inner_text() == "Open data"
    links = page.locator("table.open-data-files a")
    assert links.count() == len(od.file_names())
    page.screenshot(path=str(Path(shots) / "open-data.png"), full_page=True)
    with page.expect_download() as download:
        page.get_by_role("link", name=f"{DIV}.csv").click()
    assert download.value.suggested_filename == f"{DIV}.csv"
    page.close()
