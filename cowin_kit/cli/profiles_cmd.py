"""`cowin-kit profiles list|show|validate|new`."""
from __future__ import annotations

from pathlib import Path

import click

from cowin_kit.cli.common import Refused, operator_gettext


@click.group()
def profiles():
    """Country profiles: list, inspect, validate and scaffold them."""


@profiles.command("list")
def list_profiles():
    """List the shipped country profiles."""
    from cowin_kit.profiles import ProfileError, load_profile, shipped_codes

    for code in shipped_codes():
        try:
            p = load_profile(code)
        except ProfileError as exc:
            click.echo(f"{code}  INVALID: {exc.problems[0][0]}: {exc.problems[0][1]}")
            continue
        click.echo(f"{code}  {p.name:<24} {', '.join(p.languages):<28} "
                   f"{len(p['id_documents'])} ID types, "
                   f"{sum(len(g['products']) for g in p['programmes'])} products")


@profiles.command()
@click.argument("code")
def show(code):
    """Show the profile for country CODE."""
    from cowin_kit.profiles import ProfileError, UnknownCountry, load_profile, shipped_codes

    try:
        p = load_profile(code.upper())
    except UnknownCountry:
        raise Refused(f"no shipped profile for {code!r}; "
                      f"shipped: {', '.join(shipped_codes())}") from None
    except ProfileError as exc:
        raise Refused(str(exc)) from None
    d = p.data
    gettext = operator_gettext()
    click.echo(f"{p.name} ({p.code})   profile: {p.path}")
    click.echo("  " + (gettext("facts as of %(date)s") % {"date": d["as_of"].isoformat()}
                       if d["as_of"] else gettext("facts as of: not stated (no as_of)")))
    click.echo(f"  languages: {', '.join(p.languages)}   time zone: {d['timezone']}   "
               f"currency: {d['currency']}   phone: {d['phone_region']}")
    click.echo(f"  postal code: {d['postal_code_pattern']} (e.g. {d['postal_code_example']})")
    divisions = d["divisions"]
    click.echo("  levels: " + " / ".join(level["name"] for level in d["admin_levels"])
               + f"   level-1 divisions: {len(divisions['level1']) + len(divisions['own'])}")
    for since, source in dict.fromkeys((o["since"], o["source"]) for o in divisions["own"]):
        count = sum(1 for o in divisions["own"] if (o["since"], o["source"]) == (since, source))
        click.echo("    " + gettext("%(count)s declared by the profile, since %(since)s: "
                                    "%(source)s") % {"count": count,
                                                     "since": since.isoformat(),
                                                     "source": source})
    click.echo(f"  up to {d['max_beneficiaries_per_mobile']} beneficiaries per mobile number")
    click.echo("  ID documents:")
    for doc in d["id_documents"]:
        click.echo(f"    {doc['code']:<20} {doc['name']}  [provider {doc['provider']}]")
    for prog in d["programmes"]:
        click.echo(f"  programme {prog['code']}: {prog['name']}")
        for prod in prog["products"]:
            sched = ", ".join(
                f"dose {x['number']}{' (booster)' if x['booster'] else ''}"
                + (f" +{x['min_interval']}" + (f" (by {x['max_interval']}"
                                                + (", hard limit" if x["max_interval_hard"]
                                                   else "") + ")"
                                                if x["max_interval"] else "")
                   if x["number"] > 1 else "")
                + (f" at {x['min_age']} of age" if x["min_age"] else "")
                for x in prod["doses"])
            age = prod["min_age"] or prod["min_age_years"]
            click.echo(f"    {prod['name']}: from age {age}; {sched}")
        for ph in prog["phases"]:
            click.echo(f"    phase {ph['code']}: {ph['starts_on'] or '—'} {ph['name']}")
    click.echo(f"  certificate issuer: {d['certificate']['issuer']}")
    if d["notes"].strip():
        click.echo("  notes:\n    " + d["notes"].strip().replace("\n", "\n    "))
    _warn(p, gettext)


def _warn(profile, gettext) -> None:
    """The profile's warnings (divisions ISO lacks, an old or missing as_of), on stderr."""
    from cowin_kit.profiles.checks import profile_warnings

    for warning in profile_warnings(profile):
        click.secho(gettext("Warning: %(warning)s") % {"warning": warning.text(gettext)},
                    fg="yellow", err=True)


@profiles.command()
@click.argument("path", type=click.Path())
def validate(path):
    """Validate the profile in PATH (a folder or its profile.toml)."""
    from cowin_kit.profiles import ProfileError, load_profile_file

    try:
        p = load_profile_file(path)
    except ProfileError as exc:
        raise Refused(f"invalid profile:\n{exc}") from None
    click.echo(f"OK: {p.path / 'profile.toml'} is a valid profile for {p.name} ({p.code}).")
    _warn(p, operator_gettext())
    from cowin_kit.cli.config_cmd import missing_id_providers

    # Named in the profile, but no installed plugin supplies them (a typo, or a plugin
    # package not yet installed): registering with such a document would be refused.
    for warning in missing_id_providers(p):
        click.secho(f"Warning: {warning}", fg="yellow", err=True)
    if p.todo_count():
        click.secho(f"Warning: {p.todo_count()} TODO(s) remain for the ministry to complete.",
                    fg="yellow", err=True)


@profiles.command()
@click.argument("code")
@click.argument("directory", required=False, type=click.Path(file_okay=False))
def new(code, directory):
    """Scaffold a profile for country CODE in DIRECTORY (default ./CODE)."""
    from cowin_kit.profiles.scaffold import ScaffoldError, scaffold_profile

    try:
        text = scaffold_profile(code)
    except ScaffoldError as exc:
        raise Refused(str(exc)) from None
    target = Path(directory or code.upper())
    file = target / "profile.toml"
    try:
        if file.exists():
            raise Refused(f"{file} already exists; nothing was overwritten. Choose another "
                          "directory.")
        target.mkdir(parents=True, exist_ok=True)
        file.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise Refused(f"cannot write {file}: {exc.strerror}") from None
    click.echo(f"Wrote {file}. Complete the TODOs, then:\n"
               f"  cowin-kit profiles validate {target}\n"
               f"  cowin-kit init --country {code.upper()} --profile {target}")
