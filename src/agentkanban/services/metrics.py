"""``/metrics``: the board in the Prometheus text format, read from the database at scrape time.

Everything comes from the database (or from what the loops record there), so one scrape of any
``kanban serve`` describes the whole install, whichever process runs the dispatcher. Families:

- ``kanban_tasks{board,status}``: tasks by board and status (gauge)
- ``kanban_runs_ended_total{profile,outcome}``: attempts ended (counter)
- ``kanban_attempt_duration_seconds{profile}``: attempt duration (histogram)
- ``kanban_ready_to_running_seconds``: how long a task waited to be claimed (histogram, counted
  by the serving process from the event log since it started)
- ``kanban_oldest_ready_age_seconds{board}``: age of the oldest ready task (gauge)
- ``kanban_running_over_max_runtime{board}``: open attempts past their maximum runtime (gauge)
- ``kanban_dispatcher_passes_total``, ``kanban_dispatch_pass_seconds``: the dispatcher's passes
- ``kanban_schedules{board,state}``, ``kanban_schedule_skipped_total{board}``: recurring work
- ``kanban_notifier_backlog{platform}``, ``kanban_notifier_failures{platform}``: deliveries
  owed, and failed for good or failing now
- ``kanban_loop_up{loop}``, ``kanban_loop_last_pass_age_seconds{loop}``: liveness
- ``kanban_usage_tokens_total{board,profile,kind}``, ``kanban_usage_cost_usd_total{board,profile}``:
  what agents reported using (counters)

More families can be added through ``extra`` sources (see :func:`render`); the server passes
``app.state.metric_sources``, a list any module may append a source to.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from typing import Any

from ..store import metrics as store
from ..store import tasks as store_tasks
from . import health
from .base import Ctx

DURATION_BUCKETS = (1.0, 5.0, 15.0, 60.0, 300.0, 900.0, 1800.0, 3600.0, 7200.0, 14400.0)
LATENCY_BUCKETS = (0.5, 1.0, 2.0, 5.0, 15.0, 60.0, 300.0, 900.0, 3600.0, 14400.0)
PASS_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)

Source = Callable[[Ctx], Iterable[Any]]  # yields prometheus_client metric families


class Histogram:
    """Cumulative bucket counts that fit in the ``kv`` table and in a scrape."""

    def __init__(self, bounds: tuple[float, ...]) -> None:
        self.bounds = bounds
        self.counts = [0] * len(bounds)
        self.count = 0
        self.sum = 0.0

    def observe(self, value: float) -> None:
        for i, b in enumerate(self.bounds):
            if value <= b:
                self.counts[i] += 1
        self.count += 1
        self.sum += value

    def as_info(self, prefix: str) -> dict[str, Any]:
        return {f"{prefix}_buckets": list(self.counts), f"{prefix}_count": self.count,
                f"{prefix}_sum": round(self.sum, 6)}


class LatencyTracker:
    """Ready-to-running latency, followed through the event log incrementally (one per server)."""

    def __init__(self) -> None:
        self.cursor = 0
        self.hist = Histogram(LATENCY_BUCKETS)
        self._lock = threading.Lock()

    def update(self, ctx: Ctx) -> Histogram:
        with self._lock, ctx.store.read() as conn:
            while True:
                rows = store.claim_latencies(conn, self.cursor)
                for event_id, seconds in rows:
                    self.hist.observe(max(0.0, seconds))
                    self.cursor = event_id
                if len(rows) < 5000:
                    return self.hist


def _hist_family(name: str, doc: str, labels: list[str]) -> Any:
    from prometheus_client.core import HistogramMetricFamily

    return HistogramMetricFamily(name, doc, labels=labels)


def _buckets(bounds: tuple[float, ...], counts: list[int], total: int) -> list[tuple[str, float]]:
    return [*((repr(b), float(c)) for b, c in zip(bounds, counts, strict=False)), ("+Inf", float(total))]


def families(ctx: Ctx, latency: LatencyTracker) -> list[Any]:
    from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

    now = ctx.now()
    out: list[Any] = []
    with ctx.store.read() as conn:
        by_status = store_tasks.status_counts_all(conn)
        ended = store.runs_ended(conn)
        durations = store.attempt_durations(conn, DURATION_BUCKETS)
        oldest = store.oldest_ready(conn)
        owed = store.deliveries_by(conn)
        over = store.over_runtime(conn, now)
        scheduled = store.schedule_counts(conn)
        spent = store.usage_totals(conn)
    out += _usage_families(spent)
    g = GaugeMetricFamily("kanban_tasks", "Tasks by board and status", labels=["board", "status"])
    for board, counts in sorted(by_status.items()):
        for status, n in sorted(counts.items()):
            g.add_metric([board, status], n)
    out.append(g)
    c = CounterMetricFamily("kanban_runs_ended", "Attempts ended, by profile and outcome",
                            labels=["profile", "outcome"])
    for profile, outcome, n in sorted(ended, key=lambda r: (r[0] or "", r[1] or "")):
        c.add_metric([profile or "", outcome or ""], n)
    out.append(c)
    h = _hist_family("kanban_attempt_duration_seconds", "Attempt duration by profile", ["profile"])
    for profile, *rest in durations:
        le = [int(x or 0) for x in rest[:-2]]
        h.add_metric([profile or ""], _buckets(DURATION_BUCKETS, le, int(rest[-2])), float(rest[-1] or 0))
    out.append(h)
    lat = latency.update(ctx)
    h = _hist_family("kanban_ready_to_running_seconds", "From ready to claimed by a worker", [])
    h.add_metric([], _buckets(LATENCY_BUCKETS, lat.counts, lat.count), lat.sum)
    out.append(h)
    g = GaugeMetricFamily("kanban_oldest_ready_age_seconds", "Age of the oldest ready task",
                          labels=["board"])
    for board, since in sorted(oldest):
        g.add_metric([board], max(0.0, now - since))
    out.append(g)
    g = GaugeMetricFamily("kanban_running_over_max_runtime", "Open attempts past their maximum runtime",
                          labels=["board"])
    for board, n in sorted(over):
        g.add_metric([board], n)
    out.append(g)
    g = GaugeMetricFamily("kanban_schedules", "Recurring schedules", labels=["board", "state"])
    skipped = CounterMetricFamily("kanban_schedule_skipped", "Occurrences skipped while the previous "
                                  "task was open", labels=["board"])
    per_board: dict[str, int] = {}
    for board, paused, n, skips in sorted(scheduled):
        g.add_metric([board, "paused" if paused else "active"], n)
        per_board[board] = per_board.get(board, 0) + skips
    for board, skips in sorted(per_board.items()):
        skipped.add_metric([board], skips)
    out += [g, skipped]
    out += _delivery_families(owed)
    out += _loop_families(ctx)
    return out


def _delivery_families(owed: list[tuple[str, str, int, int]]) -> list[Any]:
    from prometheus_client.core import GaugeMetricFamily

    backlog = GaugeMetricFamily("kanban_notifier_backlog", "Messages owed and not yet sent",
                                labels=["platform"])
    failures = GaugeMetricFamily("kanban_notifier_failures",
                                 "Messages failed for good, or retrying after an error",
                                 labels=["platform", "state"])
    pending: dict[str, int] = {}
    for platform, status, n, with_error in owed:
        if status in ("pending", "sending"):
            pending[platform] = pending.get(platform, 0) + n
            if with_error:
                failures.add_metric([platform, "retrying"], with_error)
        elif status == "failed":
            failures.add_metric([platform, "failed"], n)
    for platform, n in sorted(pending.items()):
        backlog.add_metric([platform], n)
    return [backlog, failures]


def _loop_families(ctx: Ctx) -> list[Any]:
    from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

    up = GaugeMetricFamily("kanban_loop_up", "1 if the loop passed recently", labels=["loop"])
    age = GaugeMetricFamily("kanban_loop_last_pass_age_seconds", "Seconds since the loop's last pass",
                            labels=["loop"])
    out: list[Any] = [up, age]
    for name, status in (("dispatcher", health.dispatcher_status(ctx)),
                         ("notifier", health.notifier_status(ctx))):
        if status is None:
            continue
        up.add_metric([name], 1 if status["alive"] else 0)
        age.add_metric([name], status["age_seconds"])
        if name == "dispatcher" and "pass_count" in status:
            c = CounterMetricFamily("kanban_dispatcher_passes", "Dispatcher passes since it started")
            c.add_metric([], status["pass_count"])
            h = _hist_family("kanban_dispatch_pass_seconds", "Duration of a dispatcher pass", [])
            h.add_metric([], _buckets(PASS_BUCKETS, status["pass_buckets"], status["pass_count"]),
                         status["pass_sum"])
            out += [c, h]
    return out


def _usage_families(spent: list[tuple[Any, ...]]) -> list[Any]:
    """What the agents reported using (``kanban usage`` or a profile's ``usage_from``)."""
    from prometheus_client.core import CounterMetricFamily

    tokens = CounterMetricFamily("kanban_usage_tokens", "Tokens reported, by board, profile and kind",
                                 labels=["board", "profile", "kind"])
    cost = CounterMetricFamily("kanban_usage_cost_usd", "Dollars reported or priced, by board and "
                               "profile", labels=["board", "profile"])
    for board, profile, *sums in spent:
        for kind, n in zip(("input", "output", "cache_read", "cache_write"), sums[:4], strict=True):
            tokens.add_metric([board, profile or "", kind], float(n or 0))
        cost.add_metric([board, profile or ""], float(sums[4] or 0))
    return [tokens, cost]


def render(ctx: Ctx, latency: LatencyTracker, extra: Iterable[Source] = ()) -> tuple[bytes, str]:
    """The exposition text and its content type. ``extra`` sources add families (usage, costs)."""
    from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

    sources = list(extra)

    class _Collector:
        def collect(self) -> Iterable[Any]:
            yield from families(ctx, latency)
            for source in sources:
                yield from source(ctx)

    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Collector())  # type: ignore[arg-type]
    return generate_latest(registry), CONTENT_TYPE_LATEST
