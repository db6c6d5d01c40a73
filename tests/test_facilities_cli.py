"""`cowin-kit facilities import FILE.csv`: validated whole-file-first, idempotent, audited."""
import pytest
from sqlalchemy import func, select

from cowin_kit.models import AuditEvent
from cowin_kit.scheduling.models import Facility

HEADER = "code,name,address,division_code,postal_code,latitude,longitude,fee_type,name_qu\n"
GOOD = (HEADER
        + "LIM-0001,Centro de Salud Cercado,Av. Abancay 540,150101,15001,-12.0531,-77.0287,"
          "Free,Hampina wasi\n"
        + "LIM-0002,Clínica Miraflores,,150122,,,,Paid,\n"
        + "LIM-0003,Posta Ancón,Jr. Lima 1,150102,,,,,\n")


@pytest.fixture
def inst(cowin_kit_instance):
    return ["--instance", str(cowin_kit_instance)]


def _facilities(database):
    with database.Session() as s:
        return {f.code: (f.name, f.names, f.address, f.division.code, f.postal_code,
                         f.latitude, f.longitude, f.fee_type, f.is_demo)
                for f in s.scalars(select(Facility).where(Facility.code.like("LIM-%")))}


def _count(database):
    with database.Session() as s:
        return s.scalar(select(func.count()).select_from(Facility))


def test_import_a_good_file_twice(run_cli, inst, tmp_path, database):
    (tmp_path / "c.csv").write_text(GOOD, encoding="utf-8")
    before = _count(database)
    result = run_cli("facilities", "import", "c.csv", *inst)
    assert result.exit_code == 0, result.output
    assert "3 centre(s) created, 0 updated from c.csv" in result.output
    got = _facilities(database)
    assert got["LIM-0001"] == ("Centro de Salud Cercado", {"qu": "Hampina wasi"},
                               "Av. Abancay 540", "150101", "15001", -12.0531, -77.0287,
                               "Free", False)
    assert got["LIM-0002"][3:] == ("150122", None, None, None, "Paid", False)
    assert got["LIM-0003"][7] == "Free"  # an empty fee_type means Free

    again = run_cli("facilities", "import", "c.csv", *inst)
    assert again.exit_code == 0, again.output
    assert "0 centre(s) created, 3 updated" in again.output
    assert _count(database) == before + 3
    with database.Session() as s:
        events = s.scalars(select(AuditEvent).where(
            AuditEvent.action == "facilities.imported")).all()
        assert len(events) == 2 and events[0].details["created"] == 3
        assert events[0].actor.startswith("cli:") and events[0].target.endswith("c.csv")


def test_an_updated_line_changes_the_centre(run_cli, inst, tmp_path, database):
    (tmp_path / "c.csv").write_text(GOOD, encoding="utf-8")
    assert run_cli("facilities", "import", "c.csv", *inst).exit_code == 0
    (tmp_path / "c.csv").write_text(GOOD.replace("Clínica Miraflores,,", "Clínica Nueva,Av. 2,")
                                    .replace(",Paid,", ",Free,"), encoding="utf-8")
    assert run_cli("facilities", "import", "c.csv", *inst).exit_code == 0
    assert _facilities(database)["LIM-0002"][:3] == ("Clínica Nueva", {}, "Av. 2")
    assert _facilities(database)["LIM-0002"][7] == "Free"


def test_a_real_import_makes_a_demo_centre_real(run_cli, inst, tmp_path, database):
    (tmp_path / "c.csv").write_text(HEADER + "DEMO-PE-0001,Centro real,,150101,,,,,\n")
    assert run_cli("facilities", "import", "c.csv", *inst).exit_code == 0
    with database.Session() as s:
        f = s.scalar(select(Facility).where(Facility.code == "DEMO-PE-0001"))
        assert f.name == "Centro real" and f.is_demo is False


@pytest.mark.parametrize("bad,messages", [
    (",Sin código,,150101,,,,,\n", ["c.csv:3: code is empty"]),
    ("X-1,,,150101,,,,,\n", ["c.csv:3: name is empty"]),
    ("X-1,A,,999999,,,,,\n",
     ["c.csv:3: division_code '999999' is not a known division", "cowin-kit geo import"]),
    ("X-1,A,,150101,1500,,,,\n",
     ["c.csv:3: postal_code '1500' does not match the PE pattern"]),
    ("X-1,A,,150101,,north,,,\n", ["c.csv:3: latitude 'north' is not a number"]),
    ("X-1,A,,150101,,,-200,,\n", ["c.csv:3: longitude -200 is outside ±180"]),
    ("X-1,A,,150101,,,,free,\n", ["c.csv:3: fee_type 'free' must be Free or Paid"]),
    ("OK-1,B,,150101,,,,,\n", ["c.csv:3: code OK-1 is repeated (first on line 2)"]),
    (f"{'X' * 41},A,,150101,,,,,\n",
     ["c.csv:3: code has 41 characters; shorten it to at most 40"]),
    ("X-1,A,,150101,,,,,,extra\n", ["c.csv:3: more values than columns"]),
])
def test_bad_lines_are_refused_and_nothing_is_written(run_cli, inst, tmp_path, database,
                                                      bad, messages, refused):
    before = _count(database)
    # Line 2 is good: nothing of it may be written either.
    (tmp_path / "c.csv").write_text(HEADER + "OK-1,Good,,150101,,,,,\n" + bad, encoding="utf-8")
    refused(run_cli("facilities", "import", "c.csv", *inst), "nothing was imported", *messages)
    assert _count(database) == before
    with database.Session() as s:
        assert s.scalar(select(AuditEvent).where(
            AuditEvent.action == "facilities.imported")) is None


def test_every_bad_line_is_reported_at_once(run_cli, inst, tmp_path, refused):
    (tmp_path / "c.csv").write_text(HEADER + "A,,,nope,,,,,\nB,B,,150101,1,,,Maybe,\n")
    result = run_cli("facilities", "import", "c.csv", *inst)
    refused(result, "c.csv:2: name is empty", "c.csv:2: division_code 'nope'",
            "c.csv:3: postal_code '1'", "c.csv:3: fee_type 'Maybe'")


@pytest.mark.parametrize("content,message", [
    ("code,name\nX,Y\n", "c.csv:1: missing column(s) address, division_code"),
    (HEADER.replace("name_qu", "colour"), "c.csv:1: unknown column(s) colour"),
    (HEADER, "c.csv:2: no data rows after the header"),
])
def test_bad_headers_and_empty_files(run_cli, inst, tmp_path, content, message, refused):
    (tmp_path / "c.csv").write_text(content)
    refused(run_cli("facilities", "import", "c.csv", *inst), "nothing was imported", message)


def test_missing_binary_and_folder_arguments(run_cli, inst, tmp_path, refused):
    refused(run_cli("facilities", "import", "nope.csv", *inst), "nope.csv:0: file not found")
    (tmp_path / "bin.csv").write_bytes(b"\xff\xfe\x00bad")
    refused(run_cli("facilities", "import", "bin.csv", *inst), "is not UTF-8")


def test_without_an_instance_it_says_how_to_make_one(run_cli, tmp_path, refused):
    (tmp_path / "c.csv").write_text(GOOD)
    refused(run_cli("facilities", "import", "c.csv"), "no cowin-kit instance in",
            "cowin-kit init --country")


def test_a_bom_from_excel_is_accepted(run_cli, inst, tmp_path, database):
    (tmp_path / "c.csv").write_bytes(GOOD.encode("utf-8-sig"))
    result = run_cli("facilities", "import", "c.csv", *inst)
    assert result.exit_code == 0, result.output
    assert len(_facilities(database)) == 3
