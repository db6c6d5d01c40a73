"""Commands and the worker never reach PostgreSQL through PgBouncer in transaction mode
(issue 15, item 3): with DATABASE_POOLER=pgbouncer they need DATABASE_DIRECT_URL, and say
so; with it they connect there, whatever DATABASE_URL is. Without a PgBouncer (SQLite and
PostgreSQL runs alike): the refusal comes before any connection, and a DATABASE_URL that
leads nowhere shows which URL the command used. tests/test_pgbouncer.py does it through a
real PgBouncer."""
from __future__ import annotations

import tomllib

import pytest

BOUNCED = {"COWIN_KIT_DATABASE_POOLER": "pgbouncer"}


def _url(instance) -> str:
    with (instance / "cowin-kit.toml").open("rb") as fh:
        return tomllib.load(fh).get("database_url") or \
            f"sqlite:///{(instance / 'cowin-kit.db').as_posix()}"


@pytest.mark.parametrize("command", [("db", "current"), ("db", "upgrade"), ("worker", "--once"),
                                     ("notifications", "remind"), ("config", "check"),
                                     ("users", "disable", "x@example.org")])
def test_behind_pgbouncer_a_command_without_the_direct_url_says_what_to_set(
        run_cli, cowin_kit_instance, command):
    result = run_cli(*command, "--instance", cowin_kit_instance, env=BOUNCED)
    assert result.exit_code == 2, result.output
    assert "DATABASE_DIRECT_URL" in result.output
    assert "PgBouncer in transaction mode" in result.output
    assert " ".join(command[:2 if command[0] != "worker" else 1]) in result.output
    assert "Traceback" not in result.output


def test_with_the_direct_url_commands_and_the_worker_connect_there(run_cli, cowin_kit_instance,
                                                                   tmp_path):
    # DATABASE_URL leads nowhere (as if only the web app's pooler could be reached from
    # here): a command that used it would fail.
    env = {**BOUNCED, "COWIN_KIT_DATABASE_URL": f"sqlite:///{tmp_path / 'nowhere.db'}",
           "COWIN_KIT_DATABASE_DIRECT_URL": _url(cowin_kit_instance)}
    current = run_cli("db", "current", "--instance", cowin_kit_instance, env=env)
    assert current.exit_code == 0, current.output
    worker = run_cli("worker", "--once", "--instance", cowin_kit_instance, env=env)
    assert worker.exit_code == 0 and "sent 0," in worker.output, worker.output
    # Without the direct URL the same commands read DATABASE_URL: the proof that it is not.
    del env["COWIN_KIT_DATABASE_DIRECT_URL"]
    env.pop("COWIN_KIT_DATABASE_POOLER")
    assert run_cli("db", "current", "--instance", cowin_kit_instance, env=env).exit_code == 2


def test_without_pgbouncer_commands_use_the_database_url(run_cli, cowin_kit_instance):
    result = run_cli("db", "current", "--instance", cowin_kit_instance)
    assert result.exit_code == 0, result.output
