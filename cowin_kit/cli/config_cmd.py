"""`cowin-kit config show|check|docs`."""
from __future__ import annotations

from pathlib import Path

import click

from cowin_kit.cli.common import Refused, instance_option, load_instance, open_database


@click.group()
def config():
    """Show and check the instance's settings."""


@config.command()
@instance_option
def show(instance):
    """Print every setting, where its value comes from, secrets masked."""
    from cowin_kit.config import SETTINGS, mask_secret, mask_url

    settings = load_instance(instance)
    click.echo(f"instance: {settings.instance_path}")
    for s in SETTINGS:
        value = settings.get(s.name)
        if s.secret:
            shown = mask_secret(value)
        elif s.name.endswith("_URL") and value:
            shown = mask_url(str(value))
        elif s.name.endswith("_URLS") and value:
            shown = repr([mask_url(str(v)) for v in value])
        else:
            shown = repr(value)
        click.echo(f"{s.name} = {shown}    [{settings.sources[s.name]}]")


@config.command()
@instance_option
def check(instance):
    """Check that the deployment can run: settings, secrets, profile, database, schema."""
    from cowin_kit import migrate
    from cowin_kit.cli.common import load_instance_profile
    from cowin_kit.cli.keys_cmd import key_problems
    from cowin_kit.config import check_settings

    settings = load_instance(instance)
    problems = check_settings(settings)
    signing_problems, signing_warnings = key_problems(settings)
    problems += signing_problems
    if problems:
        raise Refused("the configuration has problems:\n  - " + "\n  - ".join(problems))
    profile = load_instance_profile(settings)
    from cowin_kit.plugins import discover

    gateways = discover().group("cowin_kit.sms_gateways")
    if settings["SMS_GATEWAY"] not in gateways:
        raise Refused(f"SMS_GATEWAY {settings['SMS_GATEWAY']!r} is not an installed SMS gateway; "
                      f"installed: {', '.join(sorted(gateways)) or 'none'} "
                      "(see `cowin-kit plugins list`).")
    from cowin_kit.provisioning import deployment_problems, read_deployment_facts

    db = open_database(settings)
    try:
        facts = read_deployment_facts(db)
        try:
            migrate.check_known(db)
        except migrate.MigrationError as exc:
            raise Refused(str(exc)) from None
        current, head = migrate.current_revision(db), migrate.head_revision(db)
        from cowin_kit.accounts.service import count_admins

        admins = 0
        if facts.get("country"):  # a provisioned database has the staff table
            with db.session() as session:
                admins = count_admins(session)
    finally:
        db.dispose()
    problems = deployment_problems(facts, settings)
    if not facts.get("country"):
        problems.append("the database holds no provisioned deployment; run "
                        "`cowin-kit init --update`.")
    if problems:
        raise Refused("the database does not match this instance:\n  - " + "\n  - ".join(problems))
    if current != head:
        raise Refused(f"the database schema is at {current or 'nothing'}, the code needs {head}; "
                      "run `cowin-kit db upgrade`.")
    if not admins:
        raise Refused("the deployment has no national administrator; run `cowin-kit init "
                      "--update --admin-email EMAIL`.")
    from cowin_kit.ratelimits import store_name

    if store_name(settings) == "redis":
        _check_redis(settings["REDIS_URL"])
    elif store_name(settings) == "memory":
        click.secho("Warning: rate limits are counted in each process's memory, which is right "
                    "for one process only (`cowin-kit serve`, or gunicorn with one worker). "
                    "With more workers or machines set REDIS_URL or RATE_LIMIT_STORAGE="
                    "database (with more, the app refuses to start).", fg="yellow", err=True)
    for warning in [*deployment_warnings(settings), *signing_warnings]:
        click.secho(f"Warning: {warning}", fg="yellow", err=True)
    click.echo(f"OK: {profile.name} ({profile.code}), database schema {head}, secrets present.")
    for warning in missing_id_providers(profile, settings):
        click.secho(f"Warning: {warning}", fg="yellow", err=True)


def _check_redis(url: str) -> None:
    """Rate limits shared through Redis: refuse a deployment whose Redis does not answer."""
    import redis

    where = url.split("@")[-1]  # never print a password
    try:
        redis.Redis.from_url(url, socket_connect_timeout=3, socket_timeout=3).ping()
    except (redis.RedisError, OSError, ValueError) as exc:
        raise Refused(f"REDIS_URL {where}: Redis does not answer ({type(exc).__name__}); start "
                      "it, or count rate limits in the database instead "
                      "(RATE_LIMIT_STORAGE=database).") from None


# Gateways that keep messages on this machine: fine for a demo, no code ever reaches a phone.
TEST_GATEWAYS = ("console", "file")


def login_codes_destination(settings) -> str:
    """Where the configured SMS gateway puts messages, login codes included, in words."""
    from urllib.parse import urlsplit

    name = settings["SMS_GATEWAY"]
    if name == "file":
        path = Path(str(settings["SMS_FILE"]))
        if not path.is_absolute() and settings.instance_path is not None:
            path = settings.instance_path / path
        return (f"SMS_GATEWAY is file: no SMS is sent; every message, login codes included, is "
                f"appended to {path} (one JSON line each; `tail -f` it to read the codes)")
    if name == "console":
        return ("SMS_GATEWAY is console: no SMS is sent; every message, login codes included, "
                "is printed in the terminal where the server runs (`cowin-kit serve`, or "
                "gunicorn's error output), and may reach its logs")
    if name == "http":
        host = urlsplit(str(settings["SMS_HTTP_URL"])).hostname or "(SMS_HTTP_URL not set)"
        return f"SMS_GATEWAY is http: login codes are sent by SMS through {host}"
    return f"SMS_GATEWAY is {name}: login codes are sent by SMS through that gateway plugin"


def deployment_warnings(settings) -> list[str]:
    """What `config check` warns about without refusing: a demo may run so, production not."""
    from cowin_kit.config import is_local_url

    warnings = []
    if settings["SMS_GATEWAY"] in TEST_GATEWAYS:
        warnings.append(f"{login_codes_destination(settings)}. Codes never reach people's "
                        "phones: for real use set SMS_GATEWAY to http (the SMS_HTTP_* "
                        "settings) or an SMS gateway plugin.")
    public_url = settings["PUBLIC_URL"]
    behind_proxy = settings["PROXY_FIX_HOPS"] > 0
    if not settings["SESSION_COOKIE_SECURE"] and (not is_local_url(public_url) or behind_proxy):
        where = f"PUBLIC_URL is {public_url}" if public_url else "PROXY_FIX_HOPS is set"
        warnings.append(f"SESSION_COOKIE_SECURE is off and the deployment is not on this "
                        f"machine ({where}): login cookies would also travel over plain HTTP, "
                        "where anyone on the way can copy them. Serve HTTPS and set "
                        "SESSION_COOKIE_SECURE = true.")
    if public_url.startswith("http://") and not is_local_url(public_url):
        warnings.append(f"PUBLIC_URL {public_url} is plain HTTP: logins, login codes and "
                        "ID numbers cross the network readable. Serve HTTPS (docs/operators.md, "
                        "behind a reverse proxy).")
    return warnings


def missing_id_providers(profile, settings=None) -> list[str]:
    """The profile's ID documents that no installed, enabled plugin can check."""
    from cowin_kit.plugins import discover
    from cowin_kit.registration.ids import providers_for_profile

    enabled = {"cowin_kit.id_providers": settings["ID_PROVIDERS"]} if settings else None
    _, missing = providers_for_profile(profile, discover(enabled), settings)
    names = {doc["code"]: doc["name"] for doc in profile["id_documents"]}
    return [f"no ID provider `{provider}` is installed for {names[doc]} ({doc}); registering "
            "with it is refused until one is (docs/plugins/id-providers.md)."
            for doc, provider in missing.items()]


@config.command()
@click.option("--output", "-o", type=click.Path(dir_okay=False, writable=True),
              help="Write to this file instead of standard output.")
def docs(output):
    """Print the configuration reference (docs/configuration.md)."""
    from cowin_kit.config import render_docs

    text = render_docs()
    if output:
        try:
            with open(output, "w", encoding="utf-8") as fh:
                fh.write(text)
        except OSError as exc:
            raise Refused(f"cannot write {output}: {exc.strerror}") from None
    else:
        click.echo(text, nl=False)
