"""The storage boundary refuses invalid text, whatever surface it came from.

Every statement's string parameters are checked before the driver sees them, so an unpaired
surrogate or a NUL from the API, the CLI, an MCP tool or a worker's note is refused with the same
:class:`ValidationError` (and the transaction rolled back) instead of being stored on one backend
and failing on the other, or failing later in every reader. JSON columns are checked where they
are encoded (:func:`.rows.dumps`), since their escapes are plain ASCII by then.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, event

from ..domain.text import first_invalid
from ..errors import InvalidText


def check_params(params: Any, names: Any = None) -> None:
    """Raise :class:`InvalidText` for the first invalid string among a statement's parameters,
    named by its bind parameter (the column, mostly) when the statement says which it is."""
    if isinstance(params, dict):
        for key, value in params.items():
            if isinstance(value, str):
                why = first_invalid(value, str(key))
                if why:
                    raise InvalidText(f"invalid text: {why}")
    elif isinstance(params, (list, tuple)):
        for i, value in enumerate(params):
            if isinstance(value, str):
                name = names[i] if names and i < len(names) else f"value {i + 1}"
                why = first_invalid(value, str(name))
                if why:
                    raise InvalidText(f"invalid text: {why}")
            elif isinstance(value, (dict, list, tuple)):
                check_params(value, names)


def install(engine: Engine) -> None:
    @event.listens_for(engine, "before_cursor_execute")
    def _check(_conn: Any, _cursor: Any, _statement: str, parameters: Any, context: Any,
               executemany: bool) -> None:
        if parameters:
            compiled = getattr(context, "compiled", None)
            check_params(parameters, getattr(compiled, "positiontup", None))
