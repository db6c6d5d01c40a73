"""`cowin-kit config show|check|docs`."""
from __future__ import annotations

import click

from cowin_kit.cli.common import Refused, instance_option, load_instance, open_database


@click.group()
def config():
    """Show and check the instance's settings."""


@config.command()
@instance_option
def show(instance):
    """Print every setting, where its value comes from, secrets masked."""
    from cowin_kit.config import SETTINGS, mask_secret

    settings = load_instance(instance)
    click.echo(f"instance: {settings.instance_path}")
    for s in SETTINGS:
        value = settings.get(s.name)
        if s.secret:
            shown = mask_secret(value)
        elif s.name == "DATABASE_URL" and value:
            from sqlalchemy.engine import make_url
            shown = make_url(value).render_as_string(hide_password=True)
        else:
            shown = repr(value)
        click.echo(f"{s.name} = {shown}    [{settings.sources[s.name]}]")


@config.command()
@instance_option
def check(instance):
    """Check that the deployment can run: settings, secrets, profile, database, schema."""
    from cowin_kit import migrate
    from cowin_kit.cli.common import load_instance_profile
    from cowin_kit.config import check_settings

    settings = load_instance(instance)
    problems = check_settings(settings)
    if problems:
        raise Refused("the configuration has problems:\n  - " + "\n  - ".join(problems))
    profile = load_instance_profile(settings)
    db = open_database(settings)
    try:
        current, head = migrate.current_revision(db), migrate.head_revision(db)
    finally:
        db.dispose()
    if current != head:
        raise Refused(f"the database schema is at {current or 'nothing'}, the code needs {head}; "
                      "run `cowin-kit db upgrade`.")
    click.echo(f"OK: {profile.name} ({profile.code}), database schema {head}, secrets present.")
    for warning in missing_id_providers(profile):
        click.secho(f"Warning: {warning}", fg="yellow", err=True)


def missing_id_providers(profile) -> list[str]:
    """The profile's ID documents that no installed plugin can check."""
    from cowin_kit.plugins import discover

    installed = discover().group("cowin_kit.id_providers")
    return [f"no ID provider `{doc['provider']}` is installed for {doc['name']} "
            f"({doc['code']}); registering with it is refused until one is (docs/plugins.md)."
            for doc in profile["id_documents"] if doc["provider"] not in installed]


@config.command()
@click.option("--output", "-o", type=click.Path(dir_okay=False, writable=True),
              help="Write to this file instead of standard output.")
def docs(output):
    """Print the configuration reference (docs/configuration.md)."""
    from cowin_kit.config import render_docs

    text = render_docs()
    if output:
        with open(output, "w", encoding="utf-8") as fh:
            fh.write(text)
    else:
        click.echo(text, nl=False)
