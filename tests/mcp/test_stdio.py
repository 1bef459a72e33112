"""The server as an agent CLI runs it: ``python -m agentkanban mcp`` over stdio."""

from __future__ import annotations

import json

import anyio

from agentkanban.config import Settings
from agentkanban.mcp.server import DESCRIPTIONS, ORCHESTRATOR_CORE, WORKER_CORE
from agentkanban.services import Ctx, boards, context, open_ctx, runs, tasks
from agentkanban.services.base import Actor

from .helpers import base_env, call, claim, make_task, payload, stdio_client, worker_env


def test_tool_sets_core_and_all(sqlite_settings: Settings) -> None:
    async def main() -> None:
        async with stdio_client(base_env(sqlite_settings)) as client:
            core = {t.name for t in (await client.list_tools()).tools}
        async with stdio_client(base_env(sqlite_settings), "--tools", "all") as client:
            listed = (await client.list_tools()).tools
        assert core == set(ORCHESTRATOR_CORE)
        assert {t.name for t in listed} == set(DESCRIPTIONS)
        assert {"kanban_subscribe", "kanban_list", "kanban_unblock"} <= {t.name for t in listed}
        for tool in listed:
            assert tool.description and len(tool.description) < 200
            assert tool.input_schema["type"] == "object"
            assert "title" not in tool.input_schema and '{"type": "null"}' not in json.dumps(tool.input_schema)
        create = next(t for t in listed if t.name == "kanban_create").input_schema
        assert create["required"] == ["title"]
        assert create["properties"]["title"] == {"type": "string"}
        assert create["properties"]["parents"]["type"] == "array"

    anyio.run(main)


def test_worker_loop_hands_off_to_child(ctx: Ctx, settings: Settings) -> None:
    parent = make_task(ctx, "Write the parser")
    child = make_task(ctx, "Document the parser", parents=(parent,))
    attempt = claim(ctx, parent)

    async def main() -> None:
        async with stdio_client(worker_env(settings, attempt, "coder")) as client:
            names = {t.name for t in (await client.list_tools()).tools}
            assert names == set(WORKER_CORE)
            shown = await call(client, "kanban_show")
            assert shown["ok"] and shown["task"]["id"] == parent
            assert shown["children"] == [child]
            assert "Write the parser" in shown["worker_context"]
            res = await client.read_resource(f"kanban://task/{parent}/context")
            assert "Body of Write the parser" in res.contents[0].text  # type: ignore[union-attr]

            beat = await call(client, "kanban_heartbeat", note="parsing the grammar")
            assert beat["ok"] and beat["status"] == "running" and beat["claim_expires"]
            said = await call(client, "kanban_comment", body="Chose a recursive-descent parser.")
            assert said["ok"] and said["author"] == "coder" and said["task_id"] == parent
            done = await call(client, "kanban_complete", summary="Parser written; 40 tests pass.",
                              metadata={"files": ["parser.py"], "tests": 40},
                              artifacts=["parser.py"])
            assert done == {"ok": True, "task_id": parent, "status": "done", "children": {child: "ready"}}

    anyio.run(main)
    run = runs.list_runs(ctx, "default", parent)[-1]
    assert run.outcome == "completed" and run.metadata == {
        "files": ["parser.py"], "tests": 40, "artifacts": ["parser.py"]}
    events = [e.kind for e in tasks.show(ctx, "default", parent).events]
    assert "heartbeat" in events and "commented" in events
    handoff = context.build(ctx, "default", child)
    assert "Parser written; 40 tests pass." in handoff
    assert '"files": ["parser.py"]' in handoff


def test_worker_refused_on_other_task_and_after_reclaim(ctx: Ctx, settings: Settings) -> None:
    mine = make_task(ctx, "Mine")
    other = make_task(ctx, "Someone else's")
    attempt = claim(ctx, mine)
    claim(ctx, other, profile="reviewer")

    async def main() -> None:
        async with stdio_client(worker_env(settings, attempt, "coder")) as client:
            refused = await call(client, "kanban_complete", task_id=other, summary="done it for them")
            assert refused["ok"] is False
            assert refused["error"]["type"] == "Forbidden"
            assert f"only complete its own task ({mine})" in refused["error"]["message"]
            assert refused["error"]["retryable"] is False

            # The operator takes the task back and the dispatcher starts a new attempt.
            runs.reclaim(ctx, "default", mine, actor=Actor("user"), reason="stuck")
            await anyio.to_thread.run_sync(lambda: claim(ctx, mine))
            for tool, args in (("kanban_complete", {"summary": "late"}),
                               ("kanban_heartbeat", {}), ("kanban_block", {"reason": "late"})):
                stale = await call(client, tool, **args)
                assert stale["ok"] is False and stale["error"]["type"] == "Forbidden", tool
                assert "no longer current" in stale["error"]["message"]

    anyio.run(main)
    assert tasks.get(ctx, "default", other).status.value == "running"
    assert tasks.get(ctx, "default", mine).status.value == "running"


def test_orchestrator_builds_a_graph_and_unblocks(ctx: Ctx, settings: Settings) -> None:
    async def main() -> dict[str, str]:
        async with stdio_client(base_env(settings)) as client:
            design = await call(client, "kanban_create", title="Design the API", assignee="architect")
            build = await call(client, "kanban_create", title="Build the API", assignee="coder",
                               parents=[design["task_id"]], body="Follow the design.")
            docs = await call(client, "kanban_create", title="Write the docs", assignee="writer")
            assert (design["status"], build["status"], docs["status"]) == ("ready", "todo", "ready")
            assert build["parents"] == [design["task_id"]]

            linked = await call(client, "kanban_link", parent_id=build["task_id"], child_id=docs["task_id"])
            assert linked["linked"] is True and linked["child_status"] == "todo"
            cycle = await call(client, "kanban_link", parent_id=docs["task_id"], child_id=design["task_id"])
            assert cycle["ok"] is False and "cycle" in cycle["error"]["message"]

            listed = await call(client, "kanban_list")
            rows = {r["id"]: r for r in listed["tasks"]}
            assert rows[build["task_id"]]["parents"] == [design["task_id"]]
            assert rows[build["task_id"]]["children"] == [docs["task_id"]]
            assert listed["count"] == 3 and listed["truncated"] is False

            blocked = await call(client, "kanban_block", task_id=design["task_id"], reason="needs a decision",
                                 kind="needs_input")
            assert blocked["status"] == "blocked"
            answer = await call(client, "kanban_comment", task_id=design["task_id"], body="Use REST.")
            assert answer["author"] == "orchestrator"
            unblocked = await call(client, "kanban_unblock", task_id=design["task_id"])
            assert unblocked == {"ok": True, "task_id": design["task_id"], "status": "ready"}
            again = await call(client, "kanban_unblock", task_id=design["task_id"])
            assert again["ok"] is False and again["error"]["type"] == "InvalidTransition"
            only_ready = await call(client, "kanban_list", status="ready")
            return {r["id"]: r["status"] for r in only_ready["tasks"]}

    ready = anyio.run(main)
    assert len(ready) == 1
    design_id = next(iter(ready))
    detail = tasks.show(ctx, "default", design_id)
    assert detail.task.created_by == "orchestrator"
    assert any(e.kind == "blocked" and e.payload and e.payload["reason"] == "[needs_input] needs a decision"
               for e in detail.events)


def test_bad_arguments_return_readable_errors(sqlite_settings: Settings) -> None:
    async def main() -> None:
        async with stdio_client(base_env(sqlite_settings), "--tools", "all") as client:
            cases = [
                ("kanban_create", {}, "title: Field required"),
                ("kanban_create", {"title": "x", "priority": "high"}, "priority"),
                ("kanban_create", {"title": "x", "parents": "t_1"}, "parents"),
                ("kanban_create", {"title": "  "}, "title cannot be empty"),
                ("kanban_create", {"title": "x", "workspace": "dir:relative"}, "must be absolute"),
                ("kanban_create", {"titel": "x"}, "does not take titel"),
                ("kanban_complete", {"task_id": "t_00000000", "summary": "s", "metadata": [1]},
                 "metadata"),
                ("kanban_show", {}, "task_id is required"),
                ("kanban_show", {"task_id": "t_deadbeef"}, "not found"),
                ("kanban_list", {"status": "finished"}, "unknown status 'finished'"),
                ("kanban_list", {"limit": 0}, "limit must be at least 1"),
                ("kanban_block", {"task_id": "t_1", "reason": "x", "kind": "tired"}, None),
                ("kanban_link", {"parent_id": "", "child_id": "t_1"}, "parent_id is required"),
                ("kanban_show", {"board": "../etc"}, "invalid board slug"),
                ("kanban_fly", {}, "there is no tool 'kanban_fly'"),
            ]
            for tool, args, needle in cases:
                result = await client.call_tool(tool, args)
                assert result.is_error, (tool, args)
                data = payload(result)
                assert data["ok"] is False and data["error"]["type"] and data["error"]["message"]
                if needle:
                    assert needle in data["error"]["message"], (tool, args, data)
            # The server is still up and answering.
            made = await call(client, "kanban_create", title="still alive")
            assert made["ok"] and made["status"] == "ready"

    anyio.run(main)


def test_board_flag_scopes_the_tools(sqlite_settings: Settings) -> None:
    side_ctx = open_ctx(sqlite_settings)
    boards.create(side_ctx, "side")

    async def main() -> None:
        async with stdio_client(base_env(sqlite_settings), board="side") as client:
            made = await call(client, "kanban_create", title="On the side")
            listed = await call(client, "kanban_list")
            assert listed["board"] == "side" and [r["id"] for r in listed["tasks"]] == [made["task_id"]]
        async with stdio_client(base_env(sqlite_settings), board="nope") as client:
            missing = await call(client, "kanban_list")
            assert missing["error"]["type"] == "NotFound" and "nope" in missing["error"]["message"]

    anyio.run(main)
    assert [t.title for t in tasks.list_tasks(side_ctx, "side")] == ["On the side"]
    assert tasks.list_tasks(side_ctx, "default") == []
