"""``/metrics`` read by Prometheus' own text parser while real workers run; ``/healthz`` when the
dispatcher thread dies."""

from __future__ import annotations

import sys
import threading
from pathlib import Path

from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from agentkanban.dispatch.dispatcher import Dispatcher
from agentkanban.services import tasks
from agentkanban.web.app import create_app

from .conftest import agent, wait_for

BOARD = "default"


def scrape(client: TestClient) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    resp = client.get("/metrics")
    assert resp.status_code == 200, resp.text
    assert resp.headers["content-type"].startswith("text/plain")
    out = {}
    for family in text_string_to_metric_families(resp.text):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def value(samples, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def test_metrics_move_as_tasks_run(khome, user) -> None:
    settings = khome.configure({"coder": {"command": agent("complete")},
                                "flaky": {"command": agent("exit", "3")}}, failure_limit=1)
    ctx = khome.ctx
    app = create_app(settings, ctx=ctx)
    with TestClient(app, base_url="http://127.0.0.1") as client:
        assert client.get("/metrics").status_code == 401  # the token is needed by default
        client.headers["authorization"] = f"Bearer {app.state.token}"
        before = scrape(client)
        assert value(before, "kanban_runs_ended_total", profile="coder", outcome="completed") == 0
        ids = [tasks.create(ctx, BOARD, title=f"job {i}", actor=user, assignee="coder").task.id
               for i in range(2)]
        flaky = tasks.create(ctx, BOARD, title="flaky", actor=user, assignee="flaky").task.id
        from agentkanban.services import schedules

        s = schedules.add(ctx, BOARD, title="nightly", cron="0 3 * * *")
        schedules.add(ctx, BOARD, title="weekly", cron="0 3 * * MON")
        schedules.set_paused(ctx, BOARD, s["id"], True)
        mid = scrape(client)
        assert value(mid, "kanban_schedules", board=BOARD, state="active") == 1
        assert value(mid, "kanban_schedules", board=BOARD, state="paused") == 1
        assert value(mid, "kanban_schedule_skipped_total", board=BOARD) == 0
        assert value(mid, "kanban_tasks", board=BOARD, status="ready") == 3
        assert value(mid, "kanban_oldest_ready_age_seconds", board=BOARD) >= 0
        dispatcher = Dispatcher(ctx)

        def finished() -> bool:
            dispatcher.tick()
            states = {t.id: t.status.value for t in tasks.list_tasks(ctx, BOARD)}
            return all(states[i] == "done" for i in ids) and states[flaky] == "blocked"

        wait_for(finished, what="the workers to finish")
        after = scrape(client)
    assert value(after, "kanban_runs_ended_total", profile="coder", outcome="completed") == 2
    failed = sum(v for (n, labels), v in after.items()
                 if n == "kanban_runs_ended_total" and ("profile", "flaky") in labels)
    assert failed == 1
    assert value(after, "kanban_tasks", board=BOARD, status="done") == 2
    assert value(after, "kanban_tasks", board=BOARD, status="ready") == 0
    assert value(after, "kanban_attempt_duration_seconds_count", profile="coder") == 2
    assert value(after, "kanban_attempt_duration_seconds_bucket", profile="coder", le="+Inf") == 2
    assert value(after, "kanban_ready_to_running_seconds_count") == 3
    assert value(after, "kanban_dispatcher_passes_total") >= 1
    assert value(after, "kanban_dispatch_pass_seconds_count") == value(after, "kanban_dispatcher_passes_total")
    assert value(after, "kanban_loop_up", loop="dispatcher") == 1


def test_metrics_public_when_configured(khome) -> None:
    (khome.path / "config.yaml").write_text("serve:\n  metrics_public: true\n")
    app = create_app(khome.settings, ctx=khome.ctx)
    with TestClient(app, base_url="http://127.0.0.1") as client:
        assert client.get("/metrics").status_code == 200
        assert client.get("/api/doctor").status_code == 401  # only /metrics is opened


def test_healthz_turns_503_when_the_dispatcher_thread_dies(khome) -> None:
    settings = khome.configure({})
    ctx = khome.ctx
    app = create_app(settings, ctx=ctx)
    dispatcher = Dispatcher(ctx)
    thread = threading.Thread(target=dispatcher.run, daemon=True)
    app.state.loops = {"dispatcher": thread.is_alive}
    thread.start()
    with TestClient(app, base_url="http://127.0.0.1") as client:
        body = wait_for(lambda: (r := client.get("/healthz")).status_code == 200
                        and r.json()["dispatcher"]["last_tick"] and r.json(), what="a first pass")
        assert body["dispatcher"]["alive"] is True and body["status"] == "ok"
        dispatcher.stop()
        thread.join(30)
        resp = client.get("/healthz")
        assert resp.status_code == 503
        body = resp.json()
        assert body["ok"] is False and body["status"] == "failing"
        assert body["dispatcher"]["alive"] is False and body["dispatcher"]["thread_alive"] is False
        assert body["database"] is True


def test_extra_metric_sources_are_scraped(khome) -> None:
    from prometheus_client.core import CounterMetricFamily

    def usage(ctx):  # what a usage module would add
        c = CounterMetricFamily("kanban_usage_tokens", "Tokens used", labels=["profile"])
        c.add_metric(["coder"], 42)
        yield c

    app = create_app(khome.configure({}), ctx=khome.ctx)
    app.state.metric_sources.append(usage)
    with TestClient(app, base_url="http://127.0.0.1") as client:
        client.headers["authorization"] = f"Bearer {app.state.token}"
        assert value(scrape(client), "kanban_usage_tokens_total", profile="coder") == 42


USAGE_WORKER = str(Path(__file__).parent / "workers" / "usage_worker.sh")


def test_usage_and_cost_counters_move_as_workers_report(khome, user) -> None:
    settings = khome.configure({"spender": {"command": [USAGE_WORKER],
                                            "env": {"KANBAN_PY": sys.executable}}})
    ctx = khome.ctx
    app = create_app(settings, ctx=ctx)
    with TestClient(app, base_url="http://127.0.0.1") as client:
        client.headers["authorization"] = f"Bearer {app.state.token}"
        before = scrape(client)
        assert value(before, "kanban_usage_tokens_total", board=BOARD, profile="spender",
                     kind="input") == 0
        tid = tasks.create(ctx, BOARD, title="spend", actor=user, assignee="spender").task.id
        dispatcher = Dispatcher(ctx)

        def finished() -> bool:
            dispatcher.tick()
            return tasks.get(ctx, BOARD, tid).status.value == "done"

        wait_for(finished, what="the worker to report its usage and finish")
        after = scrape(client)
    # The worker reported 1,000 + 2,000,000 input and 200 + 1,000,000 output tokens, 50 cache
    # reads and $0.25 (the second report names a model with no price: nothing added).
    assert value(after, "kanban_usage_tokens_total", board=BOARD, profile="spender",
                 kind="input") == 2_001_000
    assert value(after, "kanban_usage_tokens_total", board=BOARD, profile="spender",
                 kind="output") == 1_000_200
    assert value(after, "kanban_usage_tokens_total", board=BOARD, profile="spender",
                 kind="cache_read") == 50
    assert value(after, "kanban_usage_cost_usd_total", board=BOARD, profile="spender") == 0.25
