"""Docs that must not fall behind the code."""
from pathlib import Path

import pytest

from cowin_kit.cli import COMMANDS, cli
from cowin_kit.plugins.interfaces import GROUPS

ROOT = Path(__file__).resolve().parent.parent


def _subcommands():
    import click

    for name in COMMANDS:
        command = cli.get_command(None, name)
        if isinstance(command, click.Group):
            for sub in command.commands:
                yield f"cowin-kit {name} {sub}"
        else:
            yield f"cowin-kit {name}"


@pytest.mark.parametrize("command", sorted(_subcommands()))
def test_every_cli_command_is_in_the_operator_docs(command):
    docs = "\n".join(p.read_text(encoding="utf-8") for p in (ROOT / "docs").rglob("*.md"))
    assert command in docs, f"document `{command}` in docs/"


@pytest.mark.parametrize("group", sorted(GROUPS))
def test_every_plugin_interface_member_is_documented(group):
    doc = "\n".join(p.read_text(encoding="utf-8")
                    for p in (ROOT / "docs" / "plugins").glob("*.md"))
    assert f"(`{group}`)" in doc
    for member in GROUPS[group].required_members():
        assert f"`{member}" in doc, f"{group}: document `{member}` in docs/plugins/"


def test_readme_gives_the_two_commands():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "cowin-kit init --country PE --demo" in readme and "cowin-kit serve" in readme
    assert "bash .ci/run" in readme or "pytest" in readme
