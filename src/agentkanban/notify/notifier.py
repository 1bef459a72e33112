"""The notifier: sends the deliveries the event log owes, once each, in order per destination.

``tick()`` sends everything due now; ``run()`` repeats it until ``stop()``, woken early by new
events committed in this process and otherwise every ``notify.interval_seconds`` (events written
by other processes are picked up by that poll).

Each attempt is claimed in the database before the request goes out and recorded after the
answer comes back (see ``services.deliveries``). A notifier killed in between leaves the
delivery claimed; when the claim's lease runs out, the next notifier resends it with the same
idempotency key, which Discord and webhook receivers use to drop the repeat. Nothing is lost.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping

from ..domain.events import NOTIFY_KINDS
from ..domain.models import Event
from ..errors import NotifyError
from ..services import Ctx, health
from ..services import deliveries as svc
from ..services.subs import platform_usable
from . import format
from .base import Adapter, Destination, install_log_redaction, log, redact
from .discord import DiscordAdapter
from .slack import SlackAdapter
from .telegram import TelegramAdapter
from .webhook import WebhookAdapter

BASE_BACKOFF = 2.0
MAX_BACKOFF = 600.0
MIN_RETRY_AFTER = 1.0
# Never give up on a message that was tried fewer times than this, however old it is.
MIN_ATTEMPTS_BEFORE_GIVING_UP = 5
MAX_ATTEMPTS_PER_TICK = 500


def build_adapters(ctx: Ctx) -> dict[str, Adapter]:
    """One adapter per configured platform that has what it needs to send."""
    ns = ctx.settings.notify
    out: dict[str, Adapter] = {}
    for name, p in sorted(ns.platforms.items()):
        if not platform_usable(name, p):
            log.info("notify: platform %s is not usable (no token or url); its deliveries wait", name)
            continue
        adapter: Adapter
        if name == "telegram":
            adapter = TelegramAdapter(p, timeout=ns.timeout_seconds)
        elif name == "discord":
            adapter = DiscordAdapter(p, timeout=ns.timeout_seconds)
        elif name == "slack":
            adapter = SlackAdapter(p, timeout=ns.timeout_seconds)
        else:
            adapter = WebhookAdapter(name, p, timeout=ns.timeout_seconds, clock=ctx.now)
        out[name] = adapter
    return out


def backoff(attempt: int) -> float:
    """2 s, 4 s, 8 s, ... up to 10 minutes."""
    return float(min(MAX_BACKOFF, BASE_BACKOFF * 2 ** max(0, attempt - 1)))


class Notifier:
    def __init__(self, ctx: Ctx, *, adapters: Mapping[str, Adapter] | None = None) -> None:
        self.ctx = ctx
        self.settings = ctx.settings.notify
        install_log_redaction()
        self.adapters: dict[str, Adapter] = dict(build_adapters(ctx) if adapters is None else adapters)
        self._own_adapters = adapters is None  # rebuilt when config.yaml's notify section changes
        # Long enough for one request to time out and its result to be recorded.
        self.lease_seconds = 2 * self.settings.timeout_seconds + 1
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._last_beat: float | None = None

    @property
    def platforms(self) -> list[str]:
        return sorted(self.adapters)

    # -- one pass ---------------------------------------------------------------------------------
    def tick(self) -> int:
        """Attempt every delivery due now (each at most once); return how many were attempted."""
        self._follow_config()
        self._heartbeat()
        attempted: set[int] = set()
        # A platform that is down (network error, timeout, 5xx) is not tried again in this pass:
        # one dead platform costs at most one timeout per pass, not one per chat, so it cannot
        # hold up messages to the others.
        resting: set[str] = set()
        while not self._stop.is_set() and len(attempted) < MAX_ATTEMPTS_PER_TICK:
            platforms = [p for p in self.adapters if p not in resting]
            job = svc.claim_next(self.ctx, platforms, lease_seconds=self.lease_seconds,
                                 exclude=attempted)
            if job is None:
                break
            attempted.add(job.delivery.id)
            if self._attempt(job) == "platform_down":
                resting.add(job.delivery.platform)
        return len(attempted)

    def _follow_config(self) -> None:
        """A reloaded config.yaml (services.configwatch) with other notify settings takes effect."""
        current = self.ctx.settings.notify
        if current is self.settings or current == self.settings:
            return
        self.settings = current
        self.lease_seconds = 2 * current.timeout_seconds + 1
        if self._own_adapters:
            for adapter in self.adapters.values():
                adapter.close()
            self.adapters = build_adapters(self.ctx)
            self._last_beat = None  # say at once which platforms it can send to now

    def _heartbeat(self) -> None:
        # Not every pass: an idle notifier should not take the write lock each interval.
        now = self.ctx.now()
        if self._last_beat is None or now - self._last_beat >= health.NOTIFIER_HEARTBEAT_SECONDS:
            health.record_notifier_alive(self.ctx, self.platforms)
            self._last_beat = now

    def _attempt(self, job: svc.Job) -> str:
        """Send one claimed delivery and record the outcome: sent, retry, failed or platform_down."""
        d = job.delivery
        dest = Destination(d.platform, d.chat_id, d.thread_id)
        message = format.render(job.task, job.event, dest, self.settings.public_url)
        try:
            message_id = self.adapters[d.platform].send(message, dest)
        except NotifyError as err:
            error = err
        except Exception as err:  # an adapter bug must not stop the queue; retry later
            error = NotifyError(redact(f"{d.platform}: {type(err).__name__}: {err}"))
        else:
            if svc.record_sent(self.ctx, job, message_id):
                log.info("notify: sent %s of task %s to %s:%s (delivery %s)", job.event.kind,
                         d.task_id, d.platform, d.chat_id, d.id)
            else:
                log.warning("notify: delivery %s was taken over while sending; not recorded", d.id)
            return "sent"
        self._on_error(job, error)
        if error.permanent:
            return "failed"
        # No retry_after: not a rate limit on one chat but trouble with the platform itself.
        return "retry" if error.retry_after is not None else "platform_down"

    def _on_error(self, job: svc.Job, err: NotifyError) -> None:
        d = job.delivery
        text = redact(err.message)
        now = self.ctx.now()
        if err.permanent:
            svc.record_failed(self.ctx, job, text)
            log.error("notify: delivery %s to %s:%s failed for good: %s", d.id, d.platform,
                      d.chat_id, text)
            return
        age = now - d.created_at
        if age >= self.settings.give_up_after and d.attempts >= MIN_ATTEMPTS_BEFORE_GIVING_UP:
            svc.record_failed(self.ctx, job, f"gave up after {d.attempts} attempts: {text}")
            log.error("notify: delivery %s to %s:%s given up after %s attempts: %s", d.id,
                      d.platform, d.chat_id, d.attempts, text)
            return
        delay = backoff(d.attempts) if err.retry_after is None else max(MIN_RETRY_AFTER, err.retry_after)
        svc.record_retry(self.ctx, job, text, now + delay)
        log.warning("notify: delivery %s to %s:%s will be retried in %.0fs: %s", d.id, d.platform,
                    d.chat_id, delay, text)

    # -- the loop ---------------------------------------------------------------------------------
    def _on_events(self, events: list[Event]) -> None:
        if any(e.kind in NOTIFY_KINDS for e in events):
            self._wake.set()

    def run(self) -> None:
        """Deliver until :meth:`stop` is called. Safe to run in a background thread."""
        self.ctx.store.add_listener(self._on_events)
        try:
            while not self._stop.is_set():
                self._wake.clear()
                try:
                    self.tick()
                except Exception as err:  # the database may be briefly unavailable; keep going
                    log.error("notify: pass failed, will retry: %s", redact(f"{type(err).__name__}: {err}"))
                self._wake.wait(self.settings.interval_seconds)
        finally:
            self.ctx.store.remove_listener(self._on_events)
            self.close()

    def stop(self) -> None:
        """Ask :meth:`run` to return; a request in flight finishes (bounded by its timeout)."""
        self._stop.set()
        self._wake.set()

    def close(self) -> None:
        for adapter in self.adapters.values():
            adapter.close()
