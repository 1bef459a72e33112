"""Short, human-friendly identifiers."""

from __future__ import annotations

import re
import secrets

TASK_ID_RE = re.compile(r"^t_[0-9a-f]{8}$")


def new_task_id() -> str:
    """``t_`` + 8 hex digits: short enough to type, 4 billion values per board install."""
    return "t_" + secrets.token_hex(4)


def new_run_token() -> str:
    """The fencing token a worker must present with every terminal write of its attempt."""
    return secrets.token_urlsafe(24)
