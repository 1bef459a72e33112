"""Notification subscriptions: which destinations hear about a task's outcome."""

from __future__ import annotations

from ..config import PlatformSettings
from ..domain.models import Subscription
from ..errors import ValidationError
from ..store import subs as store_subs
from .base import Ctx
from .common import load

PLATFORM_RE_CHARS = set("abcdefghijklmnopqrstuvwxyz0123456789_-")


def _clean(platform: str, chat_id: str, thread_id: str | None) -> tuple[str, str, str]:
    p = (platform or "").strip().lower()
    if not p or not set(p) <= PLATFORM_RE_CHARS or len(p) > 32:
        raise ValidationError(f"bad platform name {platform!r}")
    c = str(chat_id or "").strip()
    if not c:
        raise ValidationError("a chat id is required")
    return p, c, str(thread_id or "").strip()


def subscribe(ctx: Ctx, board: str, task_id: str, *, platform: str, chat_id: str,
              thread_id: str | None = None, user_id: str | None = None) -> bool:
    """Idempotent: True when a new subscription was made."""
    p, c, t = _clean(platform, chat_id, thread_id)
    with ctx.store.write() as tx:
        task = load(tx.conn, board, task_id)
        return store_subs.add(tx.conn, {"task_id": task.id, "platform": p, "chat_id": c,
                                        "thread_id": t, "user_id": user_id,
                                        "created_at": ctx.now()})


def unsubscribe(ctx: Ctx, board: str, task_id: str, *, platform: str, chat_id: str,
                thread_id: str | None = None) -> bool:
    p, c, t = _clean(platform, chat_id, thread_id)
    with ctx.store.write() as tx:
        task = load(tx.conn, board, task_id)
        return store_subs.remove(tx.conn, task.id, p, c, t)


def list_subs(ctx: Ctx, board: str, task_id: str | None = None) -> list[Subscription]:
    with ctx.store.read() as conn:
        if task_id is not None:
            load(conn, board, task_id)
            return store_subs.for_task(conn, task_id)
        return store_subs.for_board(conn, board)


CHAT_PLATFORMS = ("telegram", "discord", "slack")


def platform_usable(name: str, platform: PlatformSettings) -> bool:
    """The one rule for "can the notifier send to this platform": a chat platform needs its bot
    token, any other (a webhook) its URL. The notifier builds adapters by it, the dashboard
    offers home channels by it and ``kanban notify`` reports waiting deliveries by it."""
    return platform.token is not None if name in CHAT_PLATFORMS else bool(platform.url)


def usable_platforms(ctx: Ctx) -> set[str]:
    return {name for name, p in ctx.settings.notify.platforms.items() if platform_usable(name, p)}


def home_channels(ctx: Ctx) -> list[dict[str, str]]:
    """Usable platforms (:func:`platform_usable`) that have a home channel, sorted by platform."""
    out = []
    for name, p in sorted(ctx.settings.notify.platforms.items()):
        if p.home_channel is None or not p.home_channel.chat_id:
            continue
        if platform_usable(name, p):
            out.append({"platform": name, "chat_id": p.home_channel.chat_id,
                        "thread_id": p.home_channel.thread_id or "",
                        "name": p.home_channel.name or "Home"})
    return out


def home_channel(ctx: Ctx, platform: str) -> dict[str, str]:
    from ..errors import NotFound

    for h in home_channels(ctx):
        if h["platform"] == platform:
            return h
    raise NotFound(f"no home channel configured for platform {platform!r}; set "
                   f"notify.platforms.{platform}.token and .home_channel in config.yaml, or "
                   f"{platform.upper()}_BOT_TOKEN and {platform.upper()}_HOME_CHANNEL")
