"""`cowin-kit plugins list`."""
from __future__ import annotations

import click


@click.group()
def plugins():
    """Installed plugins (ID providers, SMS gateways)."""


@plugins.command("list")
def list_plugins():
    """List every plugin found, by group, with why any failed to load."""
    from cowin_kit.plugins import TRANSLATIONS_GROUP, discover
    from cowin_kit.plugins.interfaces import GROUPS

    registry = discover()
    for group in [*GROUPS, TRANSLATIONS_GROUP]:
        click.echo(f"{group}:")
        found = registry.group(group, only_ok=False)
        if not found:
            click.echo("  (none installed)")
        for name, p in sorted(found.items()):
            status = "ok" if p.ok else f"FAILED: {p.error}"
            click.echo(f"  {name:<20} {p.value:<50} [{p.distribution}] {status}")
