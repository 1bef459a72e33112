"""kanban_heartbeat's checkpoint, kanban_session and kanban_usage through the MCP client."""

from __future__ import annotations

from agentkanban.config import Settings, load_settings
from agentkanban.services import Ctx
from agentkanban.services import usage as usage_svc
from agentkanban.store import usage as store_usage

from .helpers import call, claim, make_task, worker_env
from .test_tools import _drive


def test_checkpoint_session_and_usage_tools(ctx: Ctx, settings: Settings) -> None:
    tid = make_task(ctx, "Port the parser")
    attempt = claim(ctx, tid)
    key = "sk-ant-" + "a1B2c3D4e5F6g7H8i9J0k1L2"

    async def body(client) -> None:
        beat = await call(client, "kanban_heartbeat", note="tokenizer done",
                          data={"next": "parser", "env": {"KEY": key}})
        assert beat["ok"]
        bad = await call(client, "kanban_heartbeat", note="x", data="{not json")
        assert bad["error"]["type"] == "ValidationError"
        steps = await call(client, "kanban_heartbeat", progress="3/12")
        assert steps["ok"]
        bad = await call(client, "kanban_heartbeat", progress="12/3")
        assert bad["error"]["type"] == "ValidationError"
        sess = await call(client, "kanban_session", session_id="abc-123")
        assert sess["ok"] and sess["session_id"] == "abc-123"
        bad = await call(client, "kanban_session", session_id="abc\u0000def")
        assert bad["error"]["type"] == "InvalidText"
        used = await call(client, "kanban_usage", input_tokens=1200, output_tokens=300, cost_usd=0.02,
                          model="m")
        assert used["ok"] and used["task_total"]["cost_usd"] == 0.02
        bad = await call(client, "kanban_usage", input_tokens=-3)
        assert bad["error"]["type"] == "ValidationError"

    _drive(load_settings(worker_env(settings, attempt, "coder")), ctx, body, tools="all")
    with ctx.store.read() as conn:
        state = store_usage.states_for_task(conn, tid)[attempt.run_id]
    assert state["checkpoint_note"] == "tokenizer done" and state["session_id"] == "abc-123"
    assert (state["progress_done"], state["progress_total"]) == (3, 12)
    assert state["checkpoint_data"] == {"next": "parser", "env": {"KEY": "[REDACTED]"}}
    assert usage_svc.for_task(ctx, "default", tid)["total"]["reports"] == 1
