"""Every CLI command, option and setting is documented (a new one without docs fails here)."""

from __future__ import annotations

import dataclasses
import typing
from pathlib import Path

import click
import pytest

from agentkanban.cli import COMMANDS, cli
from agentkanban.config import Settings

ROOT = Path(__file__).resolve().parents[1]
DOCS = "\n".join(p.read_text() for p in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))])


def _commands() -> list[tuple[str, click.Command]]:
    out = []
    ctx = click.Context(cli)
    for name in COMMANDS:
        cmd = cli.get_command(ctx, name)
        assert cmd is not None, name
        if isinstance(cmd, click.Group):
            out += [(f"{name} {sub}", cmd.commands[sub]) for sub in cmd.commands]
        else:
            out.append((name, cmd))
    return out


@pytest.mark.parametrize("name,cmd", _commands(), ids=lambda v: v if isinstance(v, str) else "")
def test_command_and_options_documented(name: str, cmd: click.Command) -> None:
    assert f"kanban {name}" in DOCS or f"(`{name}`)" in DOCS, f"`kanban {name}` is not documented"
    for param in cmd.params:
        for opt in getattr(param, "opts", []):
            if opt.startswith("--") and opt not in ("--help",):
                assert opt in DOCS, f"{opt} of `kanban {name}` is not documented"


def _fields(cls: type, prefix: str = "") -> list[str]:
    """Every setting's dotted name, descending into nested sections (``dispatch.failure_limit``)."""
    names = []
    hints = typing.get_type_hints(cls)
    for field in dataclasses.fields(cls):
        names.append(prefix + field.name)
        ann = hints[field.name]
        if isinstance(ann, type) and dataclasses.is_dataclass(ann):
            names += _fields(ann, prefix + field.name + ".")
    return names


def test_nested_settings_are_walked() -> None:
    found = _fields(Settings)
    assert {"dispatch.failure_limit", "notify.give_up_after", "serve.allowed_hosts"} <= set(found)


@pytest.mark.parametrize("field", [f for f in _fields(Settings) if f not in ("home", "worker", "board")])
def test_setting_documented(field: str) -> None:
    leaf = field.split(".")[-1]
    assert f"{leaf}:" in (ROOT / "docs" / "configuration.md").read_text(), field
