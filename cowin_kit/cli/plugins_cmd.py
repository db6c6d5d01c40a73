"""`cowin-kit plugins list|check|new`."""
from __future__ import annotations

from pathlib import Path

import click

from cowin_kit.cli.common import Refused


@click.group()
def plugins():
    """Installed plugins (ID providers, SMS gateways, translations)."""


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
            click.echo(f"  {name:<24} {p.value:<58} [{p.distribution}] {status}")


@plugins.command()
@click.argument("names", nargs=-1)
def check(names):
    """Run the contract tests against installed ID providers and SMS gateways (all, or NAMES)."""
    import tempfile

    from cowin_kit.config import load_settings
    from cowin_kit.plugins import discover
    from cowin_kit.testing.contract import check_id_provider, check_sms_gateway

    registry = discover()
    failed = 0
    checked = 0
    with tempfile.TemporaryDirectory() as tmp:
        settings = load_settings(Path(tmp), environ={})
        for group, checker in (("cowin_kit.id_providers", check_id_provider),
                               ("cowin_kit.sms_gateways", check_sms_gateway)):
            for name, plugin in sorted(registry.group(group, only_ok=False).items()):
                if names and name not in names:
                    continue
                checked += 1
                if not plugin.ok:
                    failed += 1
                    click.echo(f"FAIL {name}: {plugin.error}")
                    continue
                if group == "cowin_kit.sms_gateways" and name == "http":
                    click.echo(f"skip {name}: needs SMS_HTTP_URL (tested against a local "
                               "server in the kit's own tests)")
                    continue
                try:
                    problems = checker(plugin.obj(settings))
                except Exception as exc:
                    problems = [f"could not be created: {type(exc).__name__}: {exc}"]
                if problems:
                    failed += 1
                    click.echo(f"FAIL {name}")
                    for problem in problems:
                        click.echo(f"     {problem}")
                else:
                    click.echo(f"ok   {name}")
    if names and not checked:
        raise Refused(f"no installed plugin is called {', '.join(names)}; see "
                      "`cowin-kit plugins list`.")
    if failed:
        raise SystemExit(f"{failed} plugin(s) break their contract")


@plugins.group()
def new():
    """Scaffold a plugin package."""


@new.command("id-provider")
@click.argument("name")
@click.argument("directory", required=False, type=click.Path(file_okay=False))
def new_id_provider(name, directory):
    """Scaffold an ID-provider package NAME (e.g. ke.national-id) in DIRECTORY."""
    from cowin_kit.plugins.scaffold import ScaffoldError, scaffold_id_provider

    target = Path(directory or name.replace(".", "-"))
    try:
        written = scaffold_id_provider(name, target)
    except ScaffoldError as exc:
        raise Refused(str(exc)) from None
    click.echo(f"Wrote {len(written)} files in {target}. Next:\n"
               f"  cd {target} && pip install -e '.[test]' && pytest --doctest-modules\n"
               "  then replace the TODOs with the document's published rules.")
