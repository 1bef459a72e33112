"""The shipped Grafana dashboard and alert rules only name metrics that /metrics really serves."""

from __future__ import annotations

import json
import re
from pathlib import Path

import yaml
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from agentkanban.services import health

OPS = Path(__file__).resolve().parents[2] / "docs" / "ops"
NAME = re.compile(r"\bkanban_[a-z_]+")


def served(client: TestClient, ctx) -> set[str]:
    health.record_dispatcher_tick(ctx, {"pass_buckets": [0] * 10, "pass_count": 0, "pass_sum": 0.0})
    health.record_notifier_alive(ctx, [])
    text = client.get("/metrics").text
    names = set()
    for family in text_string_to_metric_families(text):
        names.add(family.name)
        if family.type == "counter":
            names.add(family.name + "_total")
        if family.type == "histogram":
            names |= {family.name + x for x in ("_bucket", "_count", "_sum")}
        names |= {s.name for s in family.samples}
    return names


def test_alert_rules_and_dashboard_name_served_metrics(client, ctx) -> None:
    names = served(client, ctx)
    rules = yaml.safe_load((OPS / "alerts.yml").read_text())
    exprs = [r["expr"] for g in rules["groups"] for r in g["rules"]]
    assert len(exprs) >= 5 and all(r.get("annotations", {}).get("summary")
                                   for g in rules["groups"] for r in g["rules"])
    dash = json.loads((OPS / "grafana-dashboard.json").read_text())
    exprs += [t["expr"] for p in dash["panels"] for t in p["targets"]]
    used = {m for e in exprs for m in NAME.findall(e)}
    assert used and used <= names, used - names
    for needed in ("kanban_ready_to_running_seconds_count", "kanban_running_over_max_runtime",
                   "kanban_notifier_failures", "kanban_loop_up"):
        assert needed in used
