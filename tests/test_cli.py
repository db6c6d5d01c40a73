"""The operator commands other than init."""
import json

import pytest
from sqlalchemy import func, select

from cowin_kit.models import AuditEvent, Division

from helpers import served_health


@pytest.fixture
def inst(cowin_kit_instance):
    return ["--instance", str(cowin_kit_instance)]


def test_commands_without_an_instance_say_how_to_make_one(run_cli, refused):
    for args in (["config", "show"], ["config", "check"], ["db", "upgrade"], ["db", "current"],
                 ["db", "check"], ["serve"], ["geo", "import", "x.csv"]):
        refused(run_cli(*args), "no cowin-kit instance in", "cowin-kit init --country")


def test_the_refusal_is_in_the_operators_language(run_cli, refused, monkeypatch):
    monkeypatch.setenv("LANGUAGE", "fr")
    refused(run_cli("config", "check"), "aucune instance cowin-kit dans",
            "Créez-en une avec `cowin-kit init --country XX`")


def test_config_show_masks_secrets(run_cli, inst, cowin_kit_instance):
    result = run_cli("config", "show", *inst)
    assert result.exit_code == 0, result.output
    assert "COUNTRY = 'PE'" in result.output
    secrets = (cowin_kit_instance / "secrets.toml").read_text()
    for line in secrets.splitlines():
        if "=" in line:
            value = line.split("=", 1)[1].strip().strip('"')
            assert value not in result.output
    assert "SECRET_KEY = ******** (set)" in result.output


def test_config_show_hides_database_password(run_cli, inst, monkeypatch):
    monkeypatch.setenv("COWIN_KIT_DATABASE_URL", "postgresql://u:hunter2-secret@127.0.0.1/db")
    result = run_cli("config", "show", *inst)
    assert "hunter2-secret" not in result.output and "***" in result.output


def test_config_check_passes_then_names_a_missing_key(run_cli, inst, cowin_kit_instance,
                                                       refused):
    assert run_cli("config", "check", *inst).exit_code == 0
    (cowin_kit_instance / "signing-key.pem").unlink()
    refused(run_cli("config", "check", *inst), "signing key", "init --update")


def test_config_check_flags_a_readable_signing_key(run_cli, inst, cowin_kit_instance, refused):
    (cowin_kit_instance / "signing-key.pem").chmod(0o644)
    refused(run_cli("config", "check", *inst), "readable by others", "chmod 600")


def test_config_check_reports_an_unreachable_database(run_cli, inst, refused):
    result = run_cli("config", "check", *inst,
                     env={"COWIN_KIT_DATABASE_URL": "postgresql://x@127.0.0.1:1/none"})
    refused(result, "cannot use the database", "x@127.0.0.1:1/none", "Connection refused",
            "Check that the database server runs")


def test_db_commands(run_cli, inst):
    result = run_cli("db", "current", *inst)
    assert result.exit_code == 0 and "up to date" in result.output
    result = run_cli("db", "upgrade", *inst)
    assert result.exit_code == 0 and "Already up to date" in result.output
    result = run_cli("db", "check", *inst)
    assert result.exit_code == 0 and "matches the models" in result.output


def test_profiles_list_and_show(run_cli):
    result = run_cli("profiles", "list")
    assert result.exit_code == 0
    assert len(result.output.strip().splitlines()) == 13 and "INVALID" not in result.output
    result = run_cli("profiles", "show", "pe")
    assert result.exit_code == 0
    assert "Peru (PE)" in result.output and "Departamento / Provincia / Distrito" in result.output


def test_profiles_show_unknown(run_cli, refused):
    refused(run_cli("profiles", "show", "ZZ"), "no shipped profile for 'ZZ'")


def test_profiles_new_scaffolds_a_valid_profile(run_cli, tmp_path):
    result = run_cli("profiles", "new", "KE", "kenya")
    assert result.exit_code == 0, result.output
    text = (tmp_path / "kenya" / "profile.toml").read_text()
    assert "Africa/Nairobi" in text and "KES" in text and "KE-" in text and "TODO" in text
    result = run_cli("profiles", "validate", "kenya")
    assert result.exit_code == 0, result.output


def test_scaffolded_profile_can_be_initialised(run_cli, tmp_path):
    assert run_cli("profiles", "new", "KE", "kenya").exit_code == 0
    url = f"sqlite:///{(tmp_path / 'ke.db').as_posix()}"
    result = run_cli("init", "--country", "KE", "--profile", "kenya", "--database-url", url,
                     "--no-input", "--admin-email", "a@health.go.ke")
    assert result.exit_code == 0, result.output
    assert run_cli("config", "check").exit_code == 0


def test_profiles_new_refuses_to_overwrite_and_unknown_codes(run_cli, tmp_path, refused):
    assert run_cli("profiles", "new", "KE", "kenya").exit_code == 0
    refused(run_cli("profiles", "new", "KE", "kenya"), "already exists")
    refused(run_cli("profiles", "new", "QQ"), "not an ISO 3166-1")


def test_profiles_validate_reports_file_field_reason(run_cli, tmp_path, refused):
    (tmp_path / "p").mkdir()
    (tmp_path / "p" / "profile.toml").write_text('code = "PE"\n')
    result = run_cli("profiles", "validate", "p")
    refused(result, "profile.toml: name: Missing data for required field.")
    refused(run_cli("profiles", "validate", "missing"), "does not exist")


DIVISIONS = ("code,level,parent_code,name,postal_code,name_qu\n"
             "1501,2,PE-LMA,Lima,,\n"
             "150101,3,1501,Lima,15001,\n"
             "150122,3,1501,Miraflores,15074,Miraflores\n")


def test_geo_import_is_safe_to_run_twice(run_cli, inst, tmp_path, database):
    (tmp_path / "d.csv").write_text(DIVISIONS)
    result = run_cli("geo", "import", "d.csv", *inst)
    assert result.exit_code == 0, result.output
    with database.session() as s:
        before = s.scalar(select(func.count()).select_from(Division))
    result = run_cli("geo", "import", "d.csv", *inst)
    assert result.exit_code == 0
    assert "0 division(s) created, 3 updated" in result.output
    with database.session() as s:
        assert s.scalar(select(func.count()).select_from(Division)) == before
        mira = s.scalar(select(Division).where(Division.code == "150122"))
        assert mira.parent.code == "1501" and mira.parent.parent.code == "PE-LMA"
        assert mira.postal_code == "15074" and mira.names == {"qu": "Miraflores"}
        assert s.scalar(select(AuditEvent).where(AuditEvent.action == "geo.imported"))


@pytest.mark.parametrize("content,messages", [
    ("code,level,name\n1501,2,Lima\n", ["d.csv:1:", "missing column(s) parent_code"]),
    ("code,level,parent_code,name\n1501,2,PE-LMA,Lima\n150101,x,1501,Lima\n",
     ["d.csv:3: level 'x' is not a whole number"]),
    ("code,level,parent_code,name\n1501,2,PE-LMA,Lima\n150101,3,9999,Lima\n",
     ["d.csv:3: parent_code 9999 is neither in this file nor in the database"]),
    ("code,level,parent_code,name\n1501,2,PE-LMA,Lima\n1501,2,PE-LMA,Lima\n",
     ["d.csv:3: code 1501 is repeated (first on line 2)"]),
    ("code,level,parent_code,name\n1501,4,PE-LMA,Lima\n", ["d.csv:2: level 4 is outside 1–3"]),
    ("code,level,parent_code,name\n150101,3,PE-LMA,Lima\n",
     ["d.csv:2: parent_code PE-LMA is level 1, expected level 2"]),
    ("code,level,parent_code,name\n", ["no data rows"]),
])
def test_geo_import_bad_file_writes_nothing(run_cli, inst, tmp_path, database, content,
                                             messages, refused):
    with database.session() as s:
        before = s.scalar(select(func.count()).select_from(Division))
    (tmp_path / "d.csv").write_text(content)
    refused(run_cli("geo", "import", "d.csv", *inst), "nothing was imported", *messages)
    with database.session() as s:
        assert s.scalar(select(func.count()).select_from(Division)) == before


def test_geo_import_missing_or_binary_file(run_cli, inst, tmp_path, refused):
    refused(run_cli("geo", "import", "nope.csv", *inst), "nope.csv:0: file not found")
    (tmp_path / "bin.csv").write_bytes(b"\xff\xfe\x00bad")
    refused(run_cli("geo", "import", "bin.csv", *inst), "is not UTF-8")


def test_plugins_list_shows_builtin_gateways(run_cli):
    result = run_cli("plugins", "list")
    assert result.exit_code == 0
    assert "cowin_kit.sms_gateways" in result.output
    assert "console" in result.output and "file" in result.output


def test_file_sms_gateway_appends_json_lines(app, cowin_kit_instance):
    plugins = app.extensions["cowin_kit"].plugins
    gateway_cls = plugins.get("cowin_kit.sms_gateways", "file")
    gateway = gateway_cls(app.extensions["cowin_kit"].settings)
    gateway.send("+51987654321", "Su código es 123456")
    gateway.send("+51987654322", "otro")
    lines = (cowin_kit_instance / "sms-outbox.jsonl").read_text(encoding="utf-8").splitlines()
    assert [json.loads(x)["to"] for x in lines] == ["+51987654321", "+51987654322"]
    assert json.loads(lines[0])["text"] == "Su código es 123456"


def test_source_checkout_shim_runs_the_cli():
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    out = subprocess.run([sys.executable, "cli.py", "--version"], cwd=root, capture_output=True,
                         text=True, check=True)
    assert "cowin-kit" in out.stdout


def test_version_and_help(run_cli):
    result = run_cli("--help")
    for command in ("init", "serve", "config", "db", "profiles", "geo", "plugins"):
        assert command in result.output


@pytest.fixture
def broken_plugins(tmp_path, monkeypatch):
    """A real distribution on sys.path whose entry points are broken in two ways."""
    site = tmp_path / "site"
    info = site / "broken_plugins-0.1.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: broken-plugins\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(
        "[cowin_kit.sms_gateways]\n"
        "missing = no_such_module_anywhere:Gateway\n"
        "incomplete = json:JSONDecoder\n")
    monkeypatch.syspath_prepend(str(site))
    import importlib

    importlib.invalidate_caches()
    return site


def test_broken_plugins_are_reported_and_do_not_stop_the_app(broken_plugins, run_cli,
                                                             cowin_kit_instance):
    result = run_cli("plugins", "list")
    assert result.exit_code == 0, result.output
    assert "missing" in result.output and "cannot be imported: ModuleNotFoundError" in result.output
    assert "does not implement SmsGateway: missing send" in result.output
    assert "console" in result.output

    from cowin_kit.app import create_app

    app = create_app({"INSTANCE_PATH": cowin_kit_instance})
    try:
        plugins = app.extensions["cowin_kit"].plugins
        assert "missing" not in plugins.group("cowin_kit.sms_gateways")
        assert "console" in plugins.group("cowin_kit.sms_gateways")
        assert app.test_client().get("/healthz").status_code == 200
    finally:
        app.extensions["cowin_kit"].db.dispose()


def test_serve_answers_health_checks(cowin_kit_instance):
    body = served_health(cowin_kit_instance)
    assert body == {"status": "ok", "database": "ok", "country": "PE"}


def test_config_check_warns_about_id_documents_without_a_provider(run_cli, inst):
    result = run_cli("config", "check", *inst)
    assert result.exit_code == 0 and "no ID provider" not in result.output
    # An operator who enables only passports is told which documents are then refused.
    result = run_cli("config", "check", *inst, env={"COWIN_KIT_ID_PROVIDERS": "passport"})
    assert result.exit_code == 0
    for provider in ("pe.dni", "pe.ce", "pe.ptp"):
        assert f"no ID provider `{provider}` is installed" in result.output
    assert "`passport`" not in result.output


def test_geo_import_never_moves_a_division_with_children(run_cli, inst, tmp_path, refused):
    (tmp_path / "d.csv").write_text(DIVISIONS)
    assert run_cli("geo", "import", "d.csv", *inst).exit_code == 0
    (tmp_path / "bad.csv").write_text("code,level,parent_code,name\n1501,3,0701,Lima\n")
    refused(run_cli("geo", "import", "bad.csv", *inst),
            "bad.csv:2: 1501 is level 2 and has divisions under it")


def test_geo_import_cannot_rewrite_profile_divisions(run_cli, inst, tmp_path, refused):
    (tmp_path / "bad.csv").write_text("code,level,parent_code,name\nPE-LMA,2,PE-LIM,Lima\n")
    refused(run_cli("geo", "import", "bad.csv", *inst),
            "PE-LMA comes from the country profile")


def test_demo_data_never_overwrites_real_divisions(run_cli, inst, tmp_path, database):
    # The fixture instance has PE's demo data; an operator imports the real Lima province…
    (tmp_path / "real.csv").write_text("code,level,parent_code,name,postal_code\n"
                                       "1501,2,PE-LMA,Lima Metropolitana (real),15000\n")
    assert run_cli("geo", "import", "real.csv", *inst).exit_code == 0
    # …and a later --demo update must keep it as it is.
    result = run_cli("init", "--country", "PE", "--update", "--demo", "--no-input", *inst)
    assert result.exit_code == 0, result.output
    with database.session() as s:
        lima = s.scalar(select(Division).where(Division.code == "1501"))
        assert (lima.name, lima.postal_code, lima.is_demo) == (
            "Lima Metropolitana (real)", "15000", False)


def test_import_without_postal_code_column_keeps_postal_codes(run_cli, inst, tmp_path, database):
    (tmp_path / "d.csv").write_text(DIVISIONS)
    assert run_cli("geo", "import", "d.csv", *inst).exit_code == 0
    (tmp_path / "names.csv").write_text("code,level,parent_code,name\n"
                                        "150122,3,1501,Miraflores (Lima)\n")
    assert run_cli("geo", "import", "names.csv", *inst).exit_code == 0
    with database.session() as s:
        mira = s.scalar(select(Division).where(Division.code == "150122"))
        assert (mira.name, mira.postal_code) == ("Miraflores (Lima)", "15074")


@pytest.mark.parametrize("code", ["AQ", "VA", "IN", "BR"])
def test_profiles_new_works_for_any_country(run_cli, code):
    result = run_cli("profiles", "new", code, "p")
    assert result.exit_code == 0, result.output
    result = run_cli("profiles", "validate", "p")
    assert result.exit_code == 0, result.output
    assert "TODO(s) remain" in result.output


def test_profile_code_must_be_upper_case_and_match_its_folder(run_cli, tmp_path, refused):
    from pathlib import Path

    src = (Path(__file__).resolve().parent.parent / "country_profiles" / "PE" / "profile.toml")
    (tmp_path / "low").mkdir()
    (tmp_path / "low" / "profile.toml").write_text(src.read_text().replace('code = "PE"',
                                                                           'code = "pe"'))
    refused(run_cli("profiles", "validate", "low"), "must be two capital letters")
    (tmp_path / "MX").mkdir()
    (tmp_path / "MX" / "profile.toml").write_text(src.read_text())
    refused(run_cli("profiles", "validate", "MX"), "the folder is named 'MX'")


def test_unknown_country_codes_are_named_as_such(run_cli, refused):
    result = run_cli("init", "--country", "ZZ", "--no-input", "--admin-email", "a@b.org")
    refused(result, "'ZZ' is not an ISO 3166-1 alpha-2 country code")
    assert "profiles new" not in result.output


def test_home_page_is_503_when_the_database_fails(app, client, monkeypatch):
    from sqlalchemy.exc import OperationalError

    from cowin_kit.web import service

    def down(*args, **kwargs):
        raise OperationalError("SELECT", {}, Exception("connection refused"))

    monkeypatch.setattr(service, "deployment_overview", down)
    response = client.get("/", headers={"Accept-Language": "en"})
    assert response.status_code == 503
    assert "Service temporarily unavailable" in response.get_data(as_text=True)
    assert response.headers["Retry-After"] == "30"


def test_config_show_masks_passwords_in_any_url(run_cli, inst, monkeypatch):
    monkeypatch.setenv("COWIN_KIT_REDIS_URL", "redis://:topsecret@127.0.0.1:6379/0")
    monkeypatch.setenv("COWIN_KIT_DATABASE_URL", "postgresql://u@127.0.0.1/db?password=qsecret")
    result = run_cli("config", "show", *inst)
    assert "topsecret" not in result.output and "qsecret" not in result.output


def test_config_check_refuses_a_country_that_is_not_the_databases(run_cli, inst, refused):
    result = run_cli("config", "check", *inst, env={"COWIN_KIT_COUNTRY": "MX"})
    refused(result, "holds the PE deployment but COUNTRY is MX")


@pytest.mark.parametrize("env,message", [
    ({"COWIN_KIT_DB_POOL_SIZE": "-5"}, "DB_POOL_SIZE from environment is -5"),
    ({"COWIN_KIT_SQLITE_BUSY_TIMEOUT": "abc"}, "SQLITE_BUSY_TIMEOUT from environment"),
    ({"COWIN_KIT_TIMEZONE": "Mars/Olympus"}, "TIMEZONE 'Mars/Olympus' is not an IANA"),
    ({"COWIN_KIT_SMS_GATEWAY": "pigeon"}, "SMS_GATEWAY 'pigeon' is not an installed"),
    ({"COWIN_KIT_LANGUAGES": "es,zz"}, "LANGUAGES lists 'zz'"),
    ({"COWIN_KIT_DATABASE_URL": "garbage"}, "is not a valid database URL"),
])
def test_bad_settings_are_refused_clearly(run_cli, inst, env, message, refused):
    refused(run_cli("config", "check", *inst, env=env), message)


def test_missing_sqlite_file_is_not_silently_recreated(run_cli, inst, cowin_kit_instance,
                                                       cowin_kit_backend, refused):
    if cowin_kit_backend != "sqlite":
        pytest.skip("SQLite only")
    db_file = cowin_kit_instance / "cowin-kit.db"
    db_file.rename(cowin_kit_instance / "moved.db")
    for args in (["db", "current"], ["config", "check"], ["serve"]):
        refused(run_cli(*args, *inst), "does not exist", "Restore it from backup")
    assert not db_file.exists()


@pytest.fixture
def hollow_plugins(tmp_path, monkeypatch):
    """Plugins that subclass the interface without implementing it, or exit at import."""
    site = tmp_path / "site2"
    pkg = site / "hollow_plugin"
    pkg.mkdir(parents=True)
    (pkg / "__init__.py").write_text(
        "from cowin_kit.toolkit import IdProvider\n"
        "class Hollow(IdProvider):\n    code = 'xx.hollow'\n")
    (site / "exiting_plugin.py").write_text("raise SystemExit('this plugin needs libfoo')\n")
    info = site / "hollow_plugin-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: hollow-plugin\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(
        "[cowin_kit.id_providers]\nxx.hollow = hollow_plugin:Hollow\n"
        "xx.exiting = exiting_plugin:Provider\n")
    monkeypatch.syspath_prepend(str(site))
    import importlib

    importlib.invalidate_caches()


def test_hollow_and_exiting_plugins_are_reported_not_fatal(hollow_plugins, run_cli):
    result = run_cli("plugins", "list")
    assert result.exit_code == 0, result.output
    assert "xx.hollow" in result.output
    assert "missing name, hint, example, normalize" in result.output
    assert "SystemExit: this plugin needs libfoo" in result.output


def test_scaffold_refuses_names_that_break_code(run_cli, refused):
    refused(run_cli("plugins", "new", "id-provider", 'ke"id'), "not a usable provider code")


def test_geo_import_takes_populations_for_the_coverage_shares(run_cli, inst, tmp_path,
                                                              database, refused):
    (tmp_path / "d.csv").write_text("code,level,parent_code,name,population\n"
                                    "1501,2,PE-LMA,Lima,9674755\n"
                                    "1502,2,PE-LMA,Barranca,\n")
    result = run_cli("geo", "import", "d.csv", *inst)
    assert result.exit_code == 0, result.output
    with database.session() as s:
        got = dict(s.execute(select(Division.code, Division.population)
                             .where(Division.code.in_(["1501", "1502"]))).all())
    assert got == {"1501": 9674755, "1502": None}
    (tmp_path / "bad.csv").write_text("code,level,parent_code,name,population\n"
                                      "1501,2,PE-LMA,Lima,9.6 million\n")
    refused(run_cli("geo", "import", "bad.csv", *inst),
            "bad.csv:2: population '9.6 million' is not a whole number of people")
