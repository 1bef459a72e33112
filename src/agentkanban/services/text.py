"""Invalid text refused where a service parses structured input (JSON metadata, imports).

Plain string arguments are checked at the storage boundary (:mod:`agentkanban.store.textguard`)
for every surface at once; structured values are checked here, before they are encoded, so the
error names the field the caller sent.
"""

from __future__ import annotations

from typing import Any

from ..domain.text import first_invalid
from ..errors import InvalidText


def refuse_invalid_text(value: Any, what: str) -> None:
    why = first_invalid(value, what)
    if why:
        raise InvalidText(f"invalid text: {why}")
