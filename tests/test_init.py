"""`cowin-kit init`: provisioning and every way it refuses."""
import hashlib
import stat
import tomllib
from pathlib import Path

import pytest
from sqlalchemy import func, select

from cowin_kit.db import Database
from cowin_kit.models import DeploymentFact, Division, Facility, IdDocumentType, Product, StaffUser
from cowin_kit.profiles import shipped_codes


def _init(run_cli, url, *extra, country="PE", instance="inst"):
    return run_cli("init", "--country", country, "--instance", instance, "--database-url", url,
                   "--no-input", *extra)


def _count(db, model, *where):
    with db.session() as s:
        return s.scalar(select(func.count()).select_from(model).where(*where))


def test_init_provisions_a_working_instance(run_cli, cowin_kit_database_url, tmp_path):
    result = _init(run_cli, cowin_kit_database_url, "--admin-email", "Admin@Minsa.gob.pe",
                   "--demo")
    assert result.exit_code == 0, result.output
    inst = tmp_path / "inst"
    config = tomllib.loads((inst / "cowin-kit.toml").read_text())
    assert config["country"] == "PE"
    for secret_file in ("secrets.toml", "signing-key.pem"):
        assert stat.S_IMODE((inst / secret_file).stat().st_mode) == 0o600
    secrets = tomllib.loads((inst / "secrets.toml").read_text())
    assert set(secrets) == {"secret_key", "id_hash_key", "id_encryption_key"}
    assert b"BEGIN PRIVATE KEY" in (inst / "signing-key.pem").read_bytes()
    # the one-time password is printed once, and it works
    line = next(x for x in result.output.splitlines() if "One-time password" in x)
    password = line.rsplit(" ", 1)[1]
    db = Database(cowin_kit_database_url)
    try:
        with db.session() as s:
            admin = s.scalar(select(StaffUser))
            from cowin_kit.accounts.service import verify_password
            assert admin.email == "admin@minsa.gob.pe" and admin.role == "national_admin"
            assert admin.must_change_password and verify_password(admin, password)
            assert s.get(DeploymentFact, "country").value == "PE"
        assert _count(db, Division, Division.level == 1) == 26
        assert _count(db, Division, Division.is_demo.is_(True)) > 0
        assert _count(db, Facility, Facility.is_demo.is_(True)) > 0
        assert _count(db, IdDocumentType) == 4
        assert _count(db, Product) >= 3
    finally:
        db.dispose()
    assert "cowin-kit serve" in result.output and "cowin-kit web" in result.output


def test_init_without_demo_loads_no_demo_data(run_cli, cowin_kit_database_url):
    assert _init(run_cli, cowin_kit_database_url, "--admin-email", "a@b.pe").exit_code == 0
    db = Database(cowin_kit_database_url)
    try:
        assert _count(db, Facility) == 0
        assert _count(db, Division, Division.is_demo.is_(True)) == 0
    finally:
        db.dispose()


def test_admin_password_from_file(run_cli, cowin_kit_database_url, tmp_path):
    (tmp_path / "pw").write_text("a-long-enough-password\n")
    result = _init(run_cli, cowin_kit_database_url, "--admin-email", "a@b.pe",
                   "--admin-password-file", "pw")
    assert result.exit_code == 0, result.output
    assert "One-time password" not in result.output
    db = Database(cowin_kit_database_url)
    try:
        with db.session() as s:
            from cowin_kit.accounts.service import verify_password
            admin = s.scalar(select(StaffUser))
            assert verify_password(admin, "a-long-enough-password")
            assert not admin.must_change_password
    finally:
        db.dispose()


def _snapshot(folder: Path):
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest()
            for p in folder.iterdir() if p.suffix in (".toml", ".pem")}


def test_second_init_refuses_and_changes_nothing(run_cli, cowin_kit_database_url, tmp_path,
                                                 refused):
    assert _init(run_cli, cowin_kit_database_url, "--admin-email", "a@b.pe").exit_code == 0
    before = _snapshot(tmp_path / "inst")
    result = _init(run_cli, cowin_kit_database_url, "--admin-email", "other@b.pe")
    refused(result, "already holds a cowin-kit instance", "--update")
    assert _snapshot(tmp_path / "inst") == before


def test_update_adds_only_what_is_missing(run_cli, cowin_kit_database_url, tmp_path):
    assert _init(run_cli, cowin_kit_database_url, "--admin-email", "a@b.pe").exit_code == 0
    inst = tmp_path / "inst"
    before = _snapshot(inst)
    db = Database(cowin_kit_database_url)
    try:
        with db.session() as s:
            s.delete(s.scalar(select(IdDocumentType).where(IdDocumentType.code == "ce")))
        result = run_cli("init", "--country", "PE", "--instance", "inst", "--update",
                         "--no-input", "--demo")
        assert result.exit_code == 0, result.output
        assert "ID document types: 1 added" in result.output
        assert _count(db, IdDocumentType) == 4
        assert _count(db, StaffUser) == 1  # no second administrator
        assert _count(db, Facility) > 0
    finally:
        db.dispose()
    after = _snapshot(inst)
    assert after["secrets.toml"] == before["secrets.toml"]  # secrets never replaced
    assert after["cowin-kit.toml"] == before["cowin-kit.toml"]
    assert after["signing-key.pem"] == before["signing-key.pem"]


def test_lost_keys_are_never_silently_replaced(run_cli, cowin_kit_database_url, tmp_path,
                                               refused):
    """A new signing or ID key would make stored data unreadable: restore from backup."""
    assert _init(run_cli, cowin_kit_database_url, "--admin-email", "a@b.pe").exit_code == 0
    inst = tmp_path / "inst"
    key = (inst / "signing-key.pem").read_bytes()
    (inst / "signing-key.pem").unlink()
    result = run_cli("init", "--country", "PE", "--instance", "inst", "--update", "--no-input")
    refused(result, "not the ones the database was provisioned with", "from backup")
    assert not (inst / "signing-key.pem").exists()  # the refused run left nothing behind
    refused(run_cli("config", "check", "--instance", "inst"), "signing key", "from backup")
    (inst / "signing-key.pem").write_bytes(key)
    (inst / "signing-key.pem").chmod(0o600)
    assert run_cli("config", "check", "--instance", "inst").exit_code == 0


def test_a_new_instance_folder_cannot_take_over_a_deployment(run_cli, cowin_kit_database_url,
                                                             tmp_path, refused):
    assert _init(run_cli, cowin_kit_database_url, "--admin-email", "a@b.pe").exit_code == 0
    for extra in ((), ("--update",)):
        result = _init(run_cli, cowin_kit_database_url, "--admin-email", "a@b.pe", *extra,
                       instance="intruder")
        refused(result, "already holds", "nothing was changed" if not extra else "new keys")
        assert not (tmp_path / "intruder").exists()


def test_refused_init_leaves_nothing_and_a_retry_works(run_cli, tmp_path, refused):
    url = f"sqlite:///{(tmp_path / 'fresh.db').as_posix()}"
    refused(_init(run_cli, url, "--admin-email", "not-an-email"), "not an e-mail address")
    refused(_init(run_cli, url), "--admin-email")
    assert not (tmp_path / "inst").exists() and not (tmp_path / "fresh.db").exists()
    assert _init(run_cli, url, "--admin-email", "a@b.pe").exit_code == 0


def test_instance_files_are_private(run_cli, tmp_path):
    url = "sqlite:///data.db"  # relative: inside the instance folder
    result = _init(run_cli, url, "--admin-email", "a@b.pe")
    assert result.exit_code == 0, result.output
    inst = tmp_path / "inst"
    assert stat.S_IMODE(inst.stat().st_mode) == 0o700
    for name in ("cowin-kit.toml", "secrets.toml", "signing-key.pem", "data.db"):
        assert stat.S_IMODE((inst / name).stat().st_mode) == 0o600, name
    # commands run from elsewhere find the same database
    other = tmp_path / "elsewhere"
    other.mkdir()
    import os
    os.chdir(other)
    result = run_cli("db", "current", "--instance", str(inst))
    assert result.exit_code == 0 and "up to date" in result.output


def test_update_with_another_country_is_refused(run_cli, cowin_kit_database_url, refused):
    assert _init(run_cli, cowin_kit_database_url, "--admin-email", "a@b.pe").exit_code == 0
    result = run_cli("init", "--country", "MX", "--instance", "inst", "--update", "--no-input")
    refused(result, "is a PE instance")


def test_database_of_another_deployment_is_refused(run_cli, cowin_kit_database_url, refused):
    assert _init(run_cli, cowin_kit_database_url, "--admin-email", "a@b.pe").exit_code == 0
    result = _init(run_cli, cowin_kit_database_url, "--admin-email", "a@b.pe", instance="other")
    refused(result, "already holds a provisioned deployment", "restore it")
    assert "--update" not in result.output
    result = _init(run_cli, cowin_kit_database_url, "--admin-email", "a@b.mx", country="MX",
                   instance="third")
    refused(result, "already holds the PE deployment")


def test_unknown_country_lists_shipped_profiles(run_cli, refused):
    result = run_cli("init", "--country", "KE", "--no-input", "--admin-email", "a@b.ke")
    refused(result, "no shipped profile for 'KE'", ", ".join(shipped_codes()),
            "cowin-kit profiles new KE")
    assert not Path("cowin-kit-instance").exists()


def test_invalid_profile_is_refused_before_anything_is_written(run_cli, tmp_path, refused):
    src = Path(__file__).resolve().parent.parent / "country_profiles" / "PE" / "profile.toml"
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "profile.toml").write_text(src.read_text().replace("America/Lima", "Mars/Olympus"))
    result = run_cli("init", "--country", "PE", "--profile", "bad", "--no-input",
                     "--admin-email", "a@b.pe")
    refused(result, "profile is invalid", "profile.toml: timezone:", "IANA")
    assert not Path("cowin-kit-instance").exists()


@pytest.mark.parametrize("url,message", [
    ("not a url", "is not a valid database URL"),
    ("mysql://root@127.0.0.1/x", "not supported"),
    ("postgresql+asyncpg://u@127.0.0.1/x", "driver 'postgresql+asyncpg' is not supported"),
    ("postgresql://postgres@[::1/x", "is not a valid database URL"),
    ("sqlite://", "in-memory"),
    ("sqlite:///:memory:", "in-memory"),
    ("sqlite:////nonexistent-dir/x.db", "cannot use the database"),
    ("postgresql://nobody@127.0.0.1:1/nowhere", "cannot use the database"),
])
def test_bad_database_url_is_refused(run_cli, tmp_path, url, message, refused):
    result = _init(run_cli, url, "--admin-email", "a@b.pe")
    refused(result, message)
    assert "Traceback" not in result.output and "Provisioning" not in result.output
    assert not (tmp_path / "inst").exists()


def test_unwritable_instance_folder_is_refused(run_cli, tmp_path, refused):
    (tmp_path / "afile").write_text("x")
    result = run_cli("init", "--country", "PE", "--instance", "afile/inst", "--no-input",
                     "--admin-email", "a@b.pe")
    refused(result, "cannot create the instance folder")


def test_instance_that_is_a_file_is_refused(run_cli, tmp_path, refused):
    (tmp_path / "afile").write_text("x")
    result = run_cli("init", "--country", "PE", "--instance", "afile", "--no-input",
                     "--admin-email", "a@b.pe")
    refused(result, "is not a folder")
    assert (tmp_path / "afile").read_text() == "x"


def test_no_input_without_admin_email_is_refused(run_cli, cowin_kit_database_url, refused):
    result = _init(run_cli, cowin_kit_database_url)
    refused(result, "--admin-email")


@pytest.mark.parametrize("content,message", [(None, "cannot read --admin-password-file"),
                                             ("\n", "is empty"),
                                             ("short\n", "at least 12 characters")])
def test_bad_admin_password_file_is_refused(run_cli, cowin_kit_database_url, tmp_path, content,
                                            message, refused):
    if content is not None:
        (tmp_path / "pw").write_text(content)
    result = _init(run_cli, cowin_kit_database_url, "--admin-email", "a@b.pe",
                   "--admin-password-file", "pw")
    refused(result, message)


def test_bad_admin_email_is_refused(run_cli, cowin_kit_database_url, refused):
    refused(_init(run_cli, cowin_kit_database_url, "--admin-email", "not-an-email"),
            "not an e-mail address")


def test_instance_from_environment_variable(run_cli, cowin_kit_database_url, tmp_path):
    env = {"COWIN_KIT_INSTANCE": str(tmp_path / "from-env")}
    result = run_cli("init", "--country", "PE", "--database-url", cowin_kit_database_url,
                     "--no-input", "--admin-email", "a@b.pe", env=env)
    assert result.exit_code == 0, result.output
    assert (tmp_path / "from-env" / "cowin-kit.toml").exists()
    assert run_cli("config", "check", env=env).exit_code == 0


@pytest.mark.parametrize("code", shipped_codes())
def test_init_works_for_every_shipped_profile(run_cli, code, tmp_path):
    # SQLite only: the PostgreSQL run covers PE above; this checks each profile's data.
    url = f"sqlite:///{(tmp_path / 'db.sqlite').as_posix()}"
    result = _init(run_cli, url, "--admin-email", "admin@example.org", "--demo", country=code)
    assert result.exit_code == 0, result.output
    db = Database(url)
    try:
        from cowin_kit.profiles import load_profile
        p = load_profile(code)
        assert _count(db, Division, Division.level == 1) == (
            len(p["divisions"]["level1"]) + len(p["divisions"]["own"]))
        assert _count(db, IdDocumentType) == len(p["id_documents"])
    finally:
        db.dispose()


def test_interactive_init_asks_for_email_and_password(run_cli, cowin_kit_database_url,
                                                       monkeypatch):
    from cowin_kit.cli import init_cmd

    monkeypatch.setattr(init_cmd, "_interactive", lambda: True)
    result = run_cli("init", "--country", "PE", "--instance", "inst", "--database-url",
                     cowin_kit_database_url,
                     input="ops@minsa.gob.pe\nchosen-password-123\nchosen-password-123\n")
    assert result.exit_code == 0, result.output
    assert "E-mail of the first national administrator" in result.output
    assert "One-time password" not in result.output
    db = Database(cowin_kit_database_url)
    try:
        with db.session() as s:
            from cowin_kit.accounts.service import verify_password
            admin = s.scalar(select(StaffUser))
            assert admin.email == "ops@minsa.gob.pe"
            assert verify_password(admin, "chosen-password-123")
    finally:
        db.dispose()


def test_secrets_from_the_environment_are_not_written_to_disk(run_cli, cowin_kit_database_url,
                                                              tmp_path):
    from cryptography.fernet import Fernet

    env = {"COWIN_KIT_SECRET_KEY": "s" * 40, "COWIN_KIT_ID_ENCRYPTION_KEY":
           Fernet.generate_key().decode()}
    result = run_cli("init", "--country", "PE", "--instance", "inst", "--database-url",
                     cowin_kit_database_url, "--no-input", "--admin-email", "a@b.pe", env=env)
    assert result.exit_code == 0, result.output
    written = tomllib.loads((tmp_path / "inst" / "secrets.toml").read_text())
    assert set(written) == {"id_hash_key"}
    assert run_cli("config", "check", "--instance", "inst", env=env).exit_code == 0
    # without the environment the deployment refuses to start rather than run keyless
    result = run_cli("config", "check", "--instance", "inst")
    assert result.exit_code == 2 and "SECRET_KEY is not set" in result.output
