"""Long text from the command line: ``--body TEXT``, ``--body -`` (standard input) or
``--body-file PATH``, the same for every option that takes a body, a comment or a summary."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

STDIN = "-"


def long_text(name: str, help: str, *, flag: str | None = None) -> Callable[[Any], Any]:
    """Add ``--NAME`` (``-`` reads standard input) and ``--NAME-file PATH`` to a command; the
    command gets one ``NAME`` parameter with the text (None when neither was given)."""
    flag = flag or name.replace("_", "-")

    def decorate(f: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(f)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            kwargs[name] = read_text(f"--{flag}", kwargs.get(name), kwargs.pop(f"{name}_file"))
            return f(*args, **kwargs)

        wrapper = click.option(
            f"--{flag}-file", f"{name}_file", metavar="PATH",
            type=click.Path(dir_okay=False, allow_dash=True, path_type=Path),
            help=f"Read the {flag.replace('-', ' ')} from a file (UTF-8; '-' reads standard input).")(wrapper)
        return click.option(f"--{flag}", name, metavar="TEXT",
                            help=f"{help} '-' reads it from standard input.")(wrapper)

    return decorate


def read_text(option: str, text: str | None, path: Path | None) -> str | None:
    """The text of ``option``: given inline, ``-`` for standard input, or read from ``path``."""
    if text is not None and path is not None:
        raise click.UsageError(f"give {option} or {option}-file, not both")
    if path is not None and str(path) != STDIN:
        try:
            data = path.read_bytes()
        except OSError as err:
            raise click.UsageError(f"cannot read {option}-file {path}: {err.strerror}; "
                                   "give a readable file") from None
        return _decode(data, f"{option}-file {path}")
    if path is not None or text == STDIN:
        ctx = click.get_current_context()
        if ctx.meta.get("kanban.stdin_read"):
            raise click.UsageError(f"standard input was already read for another option; give "
                                   f"{option} inline or with {option}-file PATH")
        ctx.meta["kanban.stdin_read"] = True
        return _decode(sys.stdin.buffer.read() if hasattr(sys.stdin, "buffer") else
                       sys.stdin.read().encode(), f"{option} - (standard input)")
    return text


def _decode(data: bytes, where: str) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as err:
        raise click.UsageError(f"{where} is not valid UTF-8 text (byte {err.start}); "
                               "convert it to UTF-8 and try again") from None
