"""The application API: every mutation from every surface goes through a function here."""

from .base import Actor, Ctx, open_ctx

__all__ = ["Actor", "Ctx", "open_ctx"]
