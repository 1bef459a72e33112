"""Valid text: the one rule for what may be stored, and the one repair for what readers meet.

Python strings can hold code points no encoder accepts: unpaired UTF-16 surrogates (a JSON
``"\\ud800"`` escape, a truncated emoji) and the ``surrogateescape`` stand-ins for undecodable
bytes in command-line arguments and file names (``caf\\xe9`` in a Latin-1 shell arrives as
``caf\\udce9``). Stored once, such a string makes every JSON encoder that meets it fail, and with it
the whole page or WebSocket batch that held it. So writers refuse them (:func:`invalid_text`) and
readers replace them (:func:`scrub`) rather than fail.
"""

from __future__ import annotations

import re
from typing import Any

# Surrogates (U+D800-U+DFFF) are never valid on their own in UTF-8; NUL is refused by PostgreSQL
# text columns and truncates strings in C tools, so it is refused everywhere alike.
_BAD = re.compile("[\ud800-\udfff\x00]")
_SURROGATE = re.compile("[\ud800-\udfff]")
REPLACEMENT = "\ufffd"


def invalid_text(value: str) -> str | None:
    """Why ``value`` cannot be stored, or None when it can."""
    m = _BAD.search(value)
    if m is None:
        return None
    ch = m.group()
    if ch == "\x00":
        return f"contains a NUL character at position {m.start()}"
    code = ord(ch)
    if 0xDC80 <= code <= 0xDCFF:
        return (f"is not valid UTF-8 (undecodable byte 0x{code - 0xDC00:02x} at position "
                f"{m.start()}); re-encode it as UTF-8")
    return f"contains an unpaired surrogate U+{code:04X} at position {m.start()}; send valid Unicode"


def first_invalid(value: Any, where: str = "value") -> str | None:
    """The first invalid string anywhere inside ``value`` (strings, lists, dict keys and values),
    described with its path (``skills[0] contains ...``), or None."""
    if isinstance(value, str):
        why = invalid_text(value)
        return f"{where} {why}" if why else None
    if isinstance(value, dict):
        for k, v in value.items():
            found = first_invalid(k, f"{where} key") if isinstance(k, str) else None
            found = found or first_invalid(v, f"{where}.{k}")
            if found:
                return found
        return None
    if isinstance(value, (list, tuple)):
        for i, v in enumerate(value):
            found = first_invalid(v, f"{where}[{i}]")
            if found:
                return found
    return None


def scrub(value: Any) -> Any:
    """``value`` with every surrogate replaced by U+FFFD (containers rebuilt only when
    they hold one), for readers and encoders that must never fail on stored data."""
    if isinstance(value, str):
        return _SURROGATE.sub(REPLACEMENT, value) if _SURROGATE.search(value) else value
    if isinstance(value, dict):
        return {scrub(k): scrub(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [scrub(v) for v in value]
    return value
