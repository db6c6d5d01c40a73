"""`cowin-kit ids reverify`."""
from __future__ import annotations

import click

from cowin_kit.cli.common import (
    Refused,
    db_errors_refused,
    instance_option,
    load_instance,
    load_instance_profile,
    open_database,
)


@click.group()
def ids():
    """ID numbers: re-verification against national registries."""


@ids.command()
@instance_option
@click.option("--limit", type=click.IntRange(1, None), help="At most this many people.")
@db_errors_refused
def reverify(instance, limit):
    """Ask the registries again about people registered while they did not answer."""
    from cowin_kit.accounts.service import audit
    from cowin_kit.plugins import discover
    from cowin_kit.provisioning import operator
    from cowin_kit.registration.ids import providers_for_profile
    from cowin_kit.registration.service import IdContext, reverify_pending

    settings = load_instance(instance)
    profile = load_instance_profile(settings)
    providers, _ = providers_for_profile(
        profile, discover({"cowin_kit.id_providers": settings["ID_PROVIDERS"]}), settings)
    db = open_database(settings)
    try:
        with db.session() as session:
            try:
                counts = reverify_pending(session, IdContext.from_settings(providers, settings),
                                          limit)
            except ValueError as exc:  # a number the instance's key cannot decrypt
                raise Refused(str(exc)) from None
            audit(session, operator(), "ids.reverified", None, **counts)
    finally:
        db.dispose()
    if not counts:
        click.echo("Nobody is waiting for verification.")
    for outcome, n in sorted(counts.items()):
        click.echo(f"{outcome}: {n}")
