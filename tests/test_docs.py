"""Documentation drift: every command is in the README and its --help shows an example."""

from __future__ import annotations

import dataclasses

import click
import pytest
from click.testing import CliRunner

from archive.cli import cli
from archive.config import load_settings
from tests.conftest import ROOT

README = (ROOT / "README.md").read_text("utf-8")


def _commands(group: click.Group, prefix: tuple[str, ...] = ()):
    for name, command in sorted(group.commands.items()):
        path = prefix + (name,)
        yield path, command
        if isinstance(command, click.Group):
            yield from _commands(command, path)


COMMANDS = list(_commands(cli))


@pytest.mark.parametrize("path", [p for p, _ in COMMANDS], ids=" ".join)
def test_every_command_is_in_the_readme(path):
    assert f"archive {' '.join(path)}" in README, f"`archive {' '.join(path)}` is not documented in README.md"


@pytest.mark.parametrize("path", [p for p, c in COMMANDS if not isinstance(c, click.Group)], ids=" ".join)
def test_every_command_help_has_an_example(path):
    result = CliRunner().invoke(cli, [*path, "--help"])
    assert result.exit_code == 0, result.output
    assert "Example" in result.output and f"archive {' '.join(path)}" in result.output


def test_every_setting_is_in_the_readme(monkeypatch):
    monkeypatch.delenv("ARCHIVE_CONFIG", raising=False)
    settings = load_settings({})
    for section in (settings.sketch, settings.event_sketch, settings.matching):
        for field in dataclasses.fields(section):
            assert field.name in README, f"setting {field.name} is not documented in README.md"
