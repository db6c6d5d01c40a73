"""`cowin-kit init`: provision a deployment for a country."""
from __future__ import annotations

import sys
import time
from pathlib import Path

import click

from cowin_kit.cli.common import Refused, instance_option, operator_gettext


def _interactive() -> bool:
    """Whether someone is at the terminal to answer prompts."""
    return sys.stdin.isatty()


def _read_password_file(path: str) -> str:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise Refused(f"cannot read --admin-password-file {path}: {exc.strerror}") from None
    password = text.strip("\r\n")
    if not password:
        raise Refused(f"--admin-password-file {path} is empty; put the password on its first line")
    return password.splitlines()[0]


@click.command()
@click.option("--country", required=True, metavar="XX",
              help="ISO 3166-1 alpha-2 code of a shipped profile (see `cowin-kit profiles list`).")
@instance_option
@click.option("--database-url", metavar="URL",
              help="Database to use (default: SQLite in the instance folder). "
                   "E.g. postgresql://user@127.0.0.1:5432/cowin")
@click.option("--profile", "profile_path", metavar="DIR",
              help="Use the profile in DIR (e.g. made by `cowin-kit profiles new`) instead of "
                   "the shipped one.")
@click.option("--admin-email", metavar="EMAIL",
              help="E-mail of the first national administrator; with --update, a national "
                   "administrator to add when no staff user has this address.")
@click.option("--admin-password-file", metavar="FILE",
              help="Read the administrator's password from the first line of FILE.")
@click.option("--demo", is_flag=True, help="Also load the profile's demo divisions and centres.")
@click.option("--no-input", is_flag=True, help="Never prompt; generate a one-time password.")
@click.option("--update", is_flag=True,
              help="On an existing instance, add only what is missing (never deletes).")
def init(country, instance, database_url, profile_path, admin_email, admin_password_file, demo,
         no_input, update):
    """Provision a national deployment for COUNTRY in an instance folder.

    Validates the profile, writes the instance's config and secrets, creates and migrates the
    database, loads divisions, programmes and ID document types, creates the first national
    administrator and, with --demo, demo centres. It never destroys data.
    """
    from cowin_kit.instance import resolve_instance_path
    from cowin_kit.profiles import ProfileError, UnknownCountry, load_profile, shipped_codes
    from cowin_kit.provisioning import ProvisioningError, provision

    started = time.perf_counter()
    code = country.strip().upper()
    try:
        profile = load_profile(code, profile_path)
    except UnknownCountry:
        import pycountry

        shipped = ", ".join(shipped_codes())
        if pycountry.countries.get(alpha_2=code) is None:
            raise Refused(f"{country!r} is not an ISO 3166-1 alpha-2 country code. Shipped "
                          f"profiles: {shipped}.") from None
        raise Refused(
            f"there is no shipped profile for {country!r}. Shipped profiles: {shipped}. To make "
            f"one for {code}, run `cowin-kit profiles new {code} DIR`, complete it, then "
            f"`cowin-kit init --country {code} --profile DIR`.") from None
    except ProfileError as exc:
        raise Refused(f"the {code} profile is invalid; nothing was created.\n{exc}") from None

    todos = profile.todo_count()
    if todos:
        click.secho(f"Warning: the profile still has {todos} TODO(s) for the ministry to "
                    "complete; see its notes.", fg="yellow", err=True)
    path = resolve_instance_path(instance)
    password = _read_password_file(admin_password_file) if admin_password_file else None
    interactive = not no_input and _interactive()
    if not admin_email and not update and interactive:
        admin_email = click.prompt("E-mail of the first national administrator")
    if admin_email and password is None and interactive:
        password = click.prompt(
            "Password for the administrator (leave empty for a generated one-time password)",
            default="", show_default=False, hide_input=True, confirmation_prompt=True) or None

    try:
        report = provision(profile, path, database_url=database_url, admin_email=admin_email,
                           admin_password=password, demo=demo, update=update,
                           profile_path=profile_path, say=click.echo)
    except ProvisioningError as exc:
        raise Refused(str(exc)) from None

    elapsed = time.perf_counter() - started
    from cowin_kit.cli.config_cmd import missing_id_providers
    from cowin_kit.config import DEVELOPMENT_URL

    for warning in missing_id_providers(profile):
        click.secho(f"  Warning: {warning}", fg="yellow", err=True)
    click.echo(f"  database: {report.database_url}")
    for f in report.created_files:
        click.echo(f"  created {path / f}")
    for label, n in report.counts.items():
        click.echo(f"  {label}: {n} added")
    if report.admin_note:
        click.secho(f"\n{report.admin_note}", fg="yellow")
    if report.divisions_left:
        gettext = operator_gettext()
        click.secho("\n" + gettext(
            "%(count)s division(s) in the database are no longer level-1 divisions of the "
            "profile (an earlier version of it made them): %(divisions)s. They are kept, with "
            "the centres and records that refer to them; move the centres to the profile's "
            "divisions, then stop using these.") % {
                "count": len(report.divisions_left),
                "divisions": ", ".join(report.divisions_left)}, fg="yellow", err=True)
    if report.admin_email:
        click.echo(f"\nNational administrator: {report.admin_email}")
        if report.admin_password:
            click.secho(f"One-time password (shown once, change it at first login): "
                        f"{report.admin_password}", fg="yellow")
    click.echo(f"\n{'Updated' if update else 'Done'} in {elapsed:.1f} s. Next steps:")
    inst = f" --instance {path}" if instance else ""
    click.echo(f"  cowin-kit config check{inst}     # check the settings")
    click.echo(f"  cowin-kit serve{inst}            # development server on {DEVELOPMENT_URL}")
    # Several workers need a shared store for the rate limits, or the app refuses to start.
    click.echo(f"  COWIN_KIT_RATE_LIMIT_STORAGE=database cowin-kit web{inst} --port 8000   "
               "# production, behind a TLS proxy (docs/operators.md)")
    _where_to_look(path)


def _where_to_look(path: Path) -> None:
    """The addresses to open and where login codes go: what a first-time user looks for."""
    from cowin_kit.cli.config_cmd import TEST_GATEWAYS, login_codes_destination
    from cowin_kit.config import DEVELOPMENT_URL, ConfigError, load_settings

    try:
        settings = load_settings(path)
    except ConfigError:  # an environment variable with a bad value: `config check` says so
        return
    base = (settings["PUBLIC_URL"] or DEVELOPMENT_URL).rstrip("/")
    served = "" if settings["PUBLIC_URL"] else " (once `cowin-kit serve` runs)"
    click.echo(f"\nWhere to look{served}:")
    click.echo(f"  citizens' portal  {base}/portal/")
    click.echo(f"  staff pages       {base}/staff/")
    click.echo(f"  dashboard         {base}/dashboard  (open data {base}/open-data)")
    click.echo(f"  API               {base}/api/v2/  (guide {base}/api, OpenAPI "
               f"{base}/api/openapi.json)")
    click.echo(f"  login codes       {login_codes_destination(settings)}.")
    if settings["SMS_GATEWAY"] in TEST_GATEWAYS:
        click.echo("                    No code reaches a phone: set SMS_GATEWAY for real use "
                   "(docs/configuration.md).")
