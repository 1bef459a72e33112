"""The API token: where it comes from, how a request proves it, and the Host-header guard.

One shared token guards every ``/api`` route and the WebSocket. It is read from ``KANBAN_TOKEN``
(or ``token:`` in config.yaml), else from ``$KANBAN_HOME/token``, else generated on first start and
saved there with mode 0600. Requests prove it with ``Authorization: Bearer``,
``X-Hermes-Session-Token`` (the reference dashboard's header), the ``kanban_token``
cookie the login page sets, or ``?token=`` on the WebSocket; every comparison is constant-time.
"""

from __future__ import annotations

import hmac
import ipaddress
import os
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from ..config import Settings

COOKIE_NAME = "kanban_token"
TOKEN_FILE = "token"
LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1", "[::1]"})


@dataclass(frozen=True)
class TokenSource:
    token: str
    origin: str  # "env or config" | "file" | "generated"

    @property
    def configured(self) -> bool:
        """True when an operator chose this token (not one this process just made up)."""
        return self.origin != "generated"


def load_token(settings: Settings) -> TokenSource:
    """``KANBAN_TOKEN``/config, else ``$KANBAN_HOME/token``, else a new one saved there (0600)."""
    if settings.token is not None and settings.token.get_secret_value().strip():
        return TokenSource(settings.token.get_secret_value().strip(), "env or config")
    path = settings.home / TOKEN_FILE
    try:
        saved = path.read_text().strip()
    except OSError:
        saved = ""
    if saved:
        _tighten(path)
        return TokenSource(saved, "file")
    token = secrets.token_urlsafe(32)
    _write_private(path, token + "\n")
    return TokenSource(token, "generated")


def _tighten(path: Path) -> None:
    """A token file readable by others (copied, or made by hand) is made private to its owner."""
    try:
        st = path.stat()
        if st.st_uid == os.geteuid() and st.st_mode & 0o077:
            path.chmod(st.st_mode & 0o700)
    except OSError:
        pass


def _write_private(path: Path, text: str) -> None:
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(text)
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)


# Off loopback the token is all that stands between the network and running commands here.
MIN_REMOTE_TOKEN_CHARS = 24


def weak_token(token: str) -> str | None:
    """Why ``token`` is too weak to guard a server reachable from other machines, or None."""
    if len(token) < MIN_REMOTE_TOKEN_CHARS:
        return f"it has {len(token)} characters; use at least {MIN_REMOTE_TOKEN_CHARS}"
    if len(set(token)) < 8:
        return "it repeats a few characters; use a random one"
    return None


def token_matches(expected: str, given: str | None) -> bool:
    if not given:
        return False
    # surrogatepass: a token holding invalid text is simply wrong, never an encoding error.
    return hmac.compare_digest(expected.encode(), given.encode("utf-8", "surrogatepass"))


def bearer(header: str | None) -> str | None:
    if not header:
        return None
    scheme, _, value = header.partition(" ")
    return value.strip() if scheme.lower() == "bearer" else None


def is_loopback(host: str) -> bool:
    name = host.strip("[]")
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


_HOST_RE = re.compile(r"^(\[[0-9a-f:.]+\]|[a-z0-9.\-_]+)(?::(\d{1,5}))?$")


def host_name(header: str) -> str | None:
    """``example.org:8765`` -> ``example.org``; ``[::1]:8765`` -> ``[::1]``; None for any form a
    browser never sends (``localhost:evil.example``, a bare IPv6 address, a userinfo part)."""
    m = _HOST_RE.match(header.strip().lower())
    if m is None or (m.group(2) is not None and int(m.group(2)) > 65535):
        return None
    return m.group(1)


class HostGuard:
    """Which ``Host`` headers are ours: loopback names, the bound address, configured names.

    A browser page on an attacker's domain that resolves to 127.0.0.1 (DNS rebinding) sends its own
    domain as ``Host``; refusing unknown names closes that door even before the token is checked.
    """

    def __init__(self, bound_host: str, allowed: Iterable[str]) -> None:
        names = {n.strip().lower() for n in allowed if n.strip()}
        self.any = "*" in names
        bound = bound_host.strip().lower()
        names |= LOOPBACK_NAMES
        if bound and bound not in {"0.0.0.0", "::", "[::]"}:
            names.add(bound)
            if ":" in bound and not bound.startswith("["):
                names.add(f"[{bound}]")
        self.names = frozenset(names)

    def allows(self, header: str | None) -> bool:
        if self.any:
            return True
        if not header:
            return False
        name = host_name(header)
        return name is not None and name in self.names
