"""Documentation that must not drift from the code."""

from __future__ import annotations

from pathlib import Path

import click

from courrier.cli import courrier
from courrier.config import SETTINGS

ROOT = Path(__file__).resolve().parents[1]


def _commands(group: click.Group, prefix: str = "courrier") -> list[tuple[str, click.Command]]:
    found = []
    context = click.Context(group)
    for name in group.list_commands(context):
        command = group.get_command(context, name)
        assert command is not None, name
        found.append((f"{prefix} {name}", command))
        if isinstance(command, click.Group):
            found.extend(_commands(command, f"{prefix} {name}"))
    return found


def test_every_setting_is_documented():
    text = (ROOT / "docs" / "settings.md").read_text()
    for setting in SETTINGS:
        assert f"`{setting.name}`" in text, setting.name


def test_every_command_has_help_and_is_in_the_readme():
    readme = (ROOT / "README.md").read_text()
    for name, command in _commands(courrier):
        assert command.help, f"{name} has no help text"
        if not isinstance(command, click.Group):
            assert f"`{name}" in readme, f"{name} is missing from the README's CLI table"
