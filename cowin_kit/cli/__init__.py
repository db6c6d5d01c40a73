"""The `cowin-kit` command. The root imports nothing heavy; each command loads its module."""
from __future__ import annotations

import importlib

import click

from cowin_kit import __version__

# name -> "module:attribute" of a click command or group, loaded on first use.
COMMANDS = {
    "init": "cowin_kit.cli.init_cmd:init",
    "serve": "cowin_kit.cli.serve_cmd:serve",
    "web": "cowin_kit.cli.web_cmd:web",
    "config": "cowin_kit.cli.config_cmd:config",
    "db": "cowin_kit.cli.db_cmd:db",
    "profiles": "cowin_kit.cli.profiles_cmd:profiles",
    "geo": "cowin_kit.cli.geo_cmd:geo",
    "plugins": "cowin_kit.cli.plugins_cmd:plugins",
    "i18n": "cowin_kit.cli.i18n_cmd:i18n",
    "ids": "cowin_kit.cli.ids_cmd:ids",
    "sessions": "cowin_kit.cli.sessions_cmd:sessions",
    "facilities": "cowin_kit.cli.facilities_cmd:facilities",
    "users": "cowin_kit.cli.users_cmd:users",
    "worker": "cowin_kit.cli.worker_cmd:worker",
    "notifications": "cowin_kit.cli.worker_cmd:notifications",
    "keys": "cowin_kit.cli.keys_cmd:keys",
    "certificate": "cowin_kit.cli.certificate_cmd:certificate",
    "reports": "cowin_kit.cli.reports_cmd:reports",
    "export": "cowin_kit.cli.export_cmd:export",
}


class LazyGroup(click.Group):
    def invoke(self, ctx):
        # A file the operator named that cannot be read or written is their input, not
        # our bug: one line and exit 2, never a traceback.
        try:
            return super().invoke(ctx)
        except OSError as exc:
            from cowin_kit.cli.common import Refused

            where = f": {exc.filename}" if exc.filename else ""
            raise Refused(f"{exc.strerror or exc}{where}") from None

    def list_commands(self, ctx):
        return sorted(COMMANDS)

    def get_command(self, ctx, name):
        target = COMMANDS.get(name)
        if target is None:
            return None
        module, attr = target.split(":")
        return getattr(importlib.import_module(module), attr)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="cowin-kit")
def cli():
    """cowin-kit: run a national vaccination drive.

    Start with `cowin-kit init --country XX`; every command finds its instance folder by
    --instance, else the COWIN_KIT_INSTANCE environment variable, else ./cowin-kit-instance.
    """


def main():
    cli(prog_name="cowin-kit")
