from pathlib import Path

import pytest

from cowin_kit.config import SETTINGS, ConfigError, load_settings, render_docs

ROOT = Path(__file__).resolve().parent.parent


def test_environment_overrides_file_which_overrides_default(tmp_path):
    (tmp_path / "cowin-kit.toml").write_text('country = "PE"\nsqlite_busy_timeout = 5\n'
                                             'languages = ["es", "en"]\n')
    settings = load_settings(tmp_path, environ={"COWIN_KIT_SQLITE_BUSY_TIMEOUT": "7",
                                                "COWIN_KIT_SESSION_COOKIE_SECURE": "true"})
    assert settings["COUNTRY"] == "PE"
    assert settings["SQLITE_BUSY_TIMEOUT"] == 7
    assert settings.sources["SQLITE_BUSY_TIMEOUT"] == "environment"
    assert settings["SESSION_COOKIE_SECURE"] is True
    assert settings["LANGUAGES"] == ["es", "en"]
    assert settings["LOG_LEVEL"] == "INFO"
    assert settings.sources["LOG_LEVEL"] == "default"
    assert settings["DATABASE_URL"] == f"sqlite:///{(tmp_path / 'cowin-kit.db').as_posix()}"


def test_list_from_environment_is_comma_separated(tmp_path):
    settings = load_settings(tmp_path, environ={"COWIN_KIT_ID_PROVIDERS": "pe.dni, passport"})
    assert settings["ID_PROVIDERS"] == ["pe.dni", "passport"]


def test_bad_environment_value_names_the_setting(tmp_path):
    with pytest.raises(ConfigError, match="SQLITE_BUSY_TIMEOUT from environment"):
        load_settings(tmp_path, environ={"COWIN_KIT_SQLITE_BUSY_TIMEOUT": "soon"})


def test_unknown_key_in_config_file_is_refused(tmp_path):
    (tmp_path / "cowin-kit.toml").write_text('country = "PE"\ndatabse_url = "x"\n')
    with pytest.raises(ConfigError, match="unknown setting.*databse_url"):
        load_settings(tmp_path, environ={})


def test_broken_toml_is_refused_with_the_file(tmp_path):
    (tmp_path / "cowin-kit.toml").write_text('country = "PE\n')
    with pytest.raises(ConfigError, match="cowin-kit.toml is not valid TOML"):
        load_settings(tmp_path, environ={})


def test_no_secret_has_a_default():
    secrets = [s for s in SETTINGS if s.generated]
    assert {s.name for s in secrets} >= {"SECRET_KEY", "ID_HASH_KEY", "ID_ENCRYPTION_KEY"}
    assert all(s.default is None for s in secrets)


def test_configuration_reference_is_generated_from_the_declaration():
    doc = (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
    assert doc == render_docs(), "run `cowin-kit config docs -o docs/configuration.md`"
    for s in SETTINGS:
        assert f"`{s.name}`" in doc and s.env_var in doc


def test_plugins_have_their_own_settings_table(tmp_path):
    (tmp_path / "cowin-kit.toml").write_text('country = "PE"\n[plugins]\n'
                                             'example_registry_url = "https://reg.example"\n'
                                             'retries = 3\n')
    settings = load_settings(tmp_path, environ={"COWIN_KIT_PLUGIN_RETRIES": "5"})
    assert settings.plugin("EXAMPLE_REGISTRY_URL") == "https://reg.example"
    assert settings.plugin("retries") == "5"  # the environment wins
    assert settings.plugin("missing", "d") == "d"


def test_commands_reach_the_primary_directly_behind_pgbouncer(tmp_path):
    """DATABASE_DIRECT_URL: where `cowin-kit` commands and the worker connect; required when
    DATABASE_URL leads to PgBouncer in transaction mode."""
    from cowin_kit.config import DirectURLMissing, check_settings, direct_database

    plain = load_settings(tmp_path, environ={
        "COWIN_KIT_DATABASE_URL": "postgresql://web@db1/cowin"})
    assert direct_database(plain) == ("DATABASE_URL", "postgresql://web@db1/cowin", "")
    bounced = {"COWIN_KIT_DATABASE_URL": "postgresql://web@bouncer:6432/cowin",
               "COWIN_KIT_DATABASE_POOLER": "pgbouncer"}
    with pytest.raises(DirectURLMissing) as refused:
        direct_database(load_settings(tmp_path, environ=bounced), "`cowin-kit db upgrade`")
    message = str(refused.value)
    assert "`cowin-kit db upgrade`" in message and "Set DATABASE_DIRECT_URL" in message
    assert "COWIN_KIT_DATABASE_DIRECT_URL" in message and "database_direct_url" in message
    direct = load_settings(tmp_path, environ={
        **bounced, "COWIN_KIT_DATABASE_DIRECT_URL": "postgresql://admin@db1:5432/cowin"})
    assert direct_database(direct) == ("DATABASE_DIRECT_URL",
                                       "postgresql://admin@db1:5432/cowin", "")
    assert not any("DATABASE_DIRECT_URL" in p for p in check_settings(direct))
    same = load_settings(tmp_path, environ={
        **bounced, "COWIN_KIT_DATABASE_DIRECT_URL": bounced["COWIN_KIT_DATABASE_URL"]})
    assert any(p.startswith("DATABASE_DIRECT_URL is DATABASE_URL") for p in check_settings(same))
