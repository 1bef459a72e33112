"""Tool behaviour in detail, through the SDK client connected to the server in-process."""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable
from typing import Any

import anyio
from click.testing import CliRunner

from agentkanban.cli import cli
from agentkanban.config import Settings, load_settings
from agentkanban.mcp.server import build_server
from agentkanban.services import Ctx, boards, events, open_ctx, runs, subs, tasks, transitions
from agentkanban.services.base import Actor
from mcp import Client

from .helpers import call, claim, make_task, worker_env

Body = Callable[[Client], Awaitable[None]]


def _drive(settings: Settings, ctx: Ctx, body: Body, tools: str = "core") -> None:
    async def main() -> None:
        async with Client(build_server(settings, tools=tools, ctx=ctx)) as client:  # type: ignore[arg-type]
            await body(client)

    anyio.run(main)


def _as_worker(settings: Settings, attempt: runs.Claim, profile: str = "coder", **extra: str) -> Settings:
    return load_settings({**worker_env(settings, attempt, profile), **extra})


def test_secrets_are_redacted_from_what_a_worker_writes(ctx: Ctx, settings: Settings) -> None:
    tid = make_task(ctx, "Deploy")
    key = "sk-ant-" + "a1B2c3D4e5F6g7H8i9J0k1L2"

    async def body(client: Client) -> None:
        await call(client, "kanban_comment", body=f"used token {key} to log in")
        done = await call(client, "kanban_complete", summary=f"deployed with {key}",
                          metadata={"env": {"API_KEY": key}, "note": "Bearer abcdefghijklmnopqrstuvwx"})
        assert done["ok"]

    _drive(_as_worker(settings, claim(ctx, tid)), ctx, body)
    detail = tasks.show(ctx, "default", tid)
    run = detail.runs[-1]
    assert key not in detail.comments[0].body and "[REDACTED]" in detail.comments[0].body
    assert run.summary == "deployed with [REDACTED]"
    assert run.metadata == {"env": {"API_KEY": "[REDACTED]"}, "note": "Bearer [REDACTED]"}


def test_complete_checks_its_handoff(ctx: Ctx, settings: Settings) -> None:
    tid = make_task(ctx, "Split the work")

    async def body(client: Client) -> None:
        empty = await call(client, "kanban_complete", summary="   ")
        assert empty["error"]["type"] == "ValidationError" and "summary" in empty["error"]["message"]
        made = await call(client, "kanban_create", title="Part two", assignee="coder", parents=[tid])
        invented = await call(client, "kanban_complete", summary="split", created_cards=[made["task_id"],
                                                                                         "t_0badcafe"])
        assert invented["error"]["type"] == "HallucinatedCards"
        assert invented["error"]["missing"] == ["t_0badcafe"] and invented["error"]["retryable"] is True
        shown = await call(client, "kanban_show")
        assert shown["task"]["status"] == "running"  # nothing happened
        done = await call(client, "kanban_complete", summary="split", created_cards=[made["task_id"]])
        assert done["children"] == {made["task_id"]: "ready"}

    _drive(_as_worker(settings, claim(ctx, tid)), ctx, body)
    assert tasks.show(ctx, "default", tid).runs[-1].metadata == {
        "created_cards": [t for t in tasks.show(ctx, "default", tid).children]}


def test_follow_up_inherits_the_workers_directory_and_tenant(ctx: Ctx, settings: Settings, tmp_path: Any) -> None:
    repo = tmp_path / "repo"
    tid = tasks.create(ctx, "default", title="Fix the bug", actor=Actor("user"), assignee="coder",
                       tenant="acme", workspace=f"dir:{repo}").task.id

    async def body(client: Client) -> None:
        made = await call(client, "kanban_create", title="Add a regression test", assignee="coder",
                          parents=[tid])
        assert made["status"] == "todo" and made["task"]["created_by"] == "coder"
        assert made["task"]["tenant"] == "acme"
        elsewhere = await call(client, "kanban_create", title="Its own place", workspace="scratch",
                               tenant="", parents=[tid])
        assert elsewhere["task"]["tenant"] is None
        orphan = await call(client, "kanban_create", title="Unrelated")
        assert orphan["error"]["type"] == "Forbidden"
        assert "only create tasks under its own task" in orphan["error"]["message"]

    _drive(_as_worker(settings, claim(ctx, tid)), ctx, body)
    follow = [t for t in tasks.list_tasks(ctx, "default") if t.title == "Add a regression test"][0]
    assert (follow.workspace_kind, follow.workspace_path) == ("dir", str(repo))


def test_list_limits_and_writes_nothing(ctx: Ctx, settings: Settings) -> None:
    for i in range(5):
        make_task(ctx, f"task {i}", assignee="a" if i % 2 else "b")
    parked = make_task(ctx, "parked")
    transitions.set_status(ctx, "default", parked, "todo", actor=Actor("user"))
    before = events.latest_id(ctx)

    async def body(client: Client) -> None:
        page = await call(client, "kanban_list", limit=2)
        assert page["count"] == 2 and page["truncated"] is True and page["next_limit"] == 4
        big = await call(client, "kanban_list", limit=10_000)
        assert big["count"] == 6 and big["truncated"] is False and "promoted" not in big
        only_a = await call(client, "kanban_list", assignee="a", status=["ready", "todo"])
        assert {r["assignee"] for r in only_a["tasks"]} == {"a"} and only_a["count"] == 2
        missing = await call(client, "kanban_list", board="nope")
        assert missing["error"]["type"] == "NotFound"

    _drive(settings, ctx, body)
    assert events.latest_id(ctx) == before  # read-only, as advertised
    assert tasks.get(ctx, "default", parked).status.value == "todo"


def test_subscribe_defaults_to_the_home_channel(ctx: Ctx, home: Any, db_url: str) -> None:
    (home / "config.yaml").write_text(
        "notify:\n  platforms:\n    telegram:\n      token: 'x:y'\n      home_channel: {chat_id: '-100', name: Ops}\n")
    settings = load_settings({"KANBAN_HOME": str(home), "KANBAN_DATABASE_URL": db_url})
    ctx = open_ctx(settings, clock=ctx.clock)  # the services read the notify settings from the context
    tid = make_task(ctx, "Release")

    async def body(client: Client) -> None:
        first = await call(client, "kanban_subscribe", task_id=tid)
        assert first == {"ok": True, "task_id": tid, "subscribed": True, "platform": "telegram",
                         "chat_id": "-100", "thread_id": ""}
        again = await call(client, "kanban_subscribe", task_id=tid, platform="telegram")
        assert again["subscribed"] is False
        explicit = await call(client, "kanban_subscribe", task_id=tid, platform="slack", chat_id="C1")
        assert explicit["subscribed"] is True
        unknown = await call(client, "kanban_subscribe", task_id=tid, platform="discord")
        assert unknown["error"]["type"] == "NotFound" and "home channel" in unknown["error"]["message"]

    _drive(settings, ctx, body, tools="all")
    assert {(s.platform, s.chat_id) for s in subs.list_subs(ctx, "default", tid)} == {
        ("telegram", "-100"), ("slack", "C1")}


def test_assign_and_archive_in_the_full_set(ctx: Ctx, settings: Settings) -> None:
    parent = make_task(ctx, "Old plan")
    child = make_task(ctx, "Next step", parents=(parent,))

    async def body(client: Client) -> None:
        moved = await call(client, "kanban_assign", task_id=child, assignee="Reviewer")
        assert moved["assignee"] == "reviewer"
        assert (await call(client, "kanban_assign", task_id=parent, assignee="none"))["assignee"] is None
        gone = await call(client, "kanban_archive", task_id=parent)
        assert gone["status"] == "archived"
        assert (await call(client, "kanban_show", task_id=child))["task"]["status"] == "ready"

    _drive(settings, ctx, body, tools="all")


def test_context_resources(ctx: Ctx, settings: Settings) -> None:
    tid = make_task(ctx, "Read me")
    boards.create(ctx, "side")
    other = make_task(ctx, "On the side board", board="side")
    attempt = claim(ctx, tid)

    async def body(client: Client) -> None:
        listed = [str(r.uri) for r in (await client.list_resources()).resources]
        assert listed == [f"kanban://task/{tid}/context"]
        text = (await client.read_resource(f"kanban://task/{tid}/context")).contents[0].text  # type: ignore[union-attr]
        assert text.startswith(f"# Kanban task {tid}: Read me")
        try:
            await client.read_resource("kanban://task/t_0badcafe/context")
        except Exception as err:  # the SDK raises the server's error for a failed read
            assert "may only read its own task" in str(err)
        else:
            raise AssertionError("reading a missing task's context should fail")
        stranger = make_task(ctx, "Not mine")
        try:
            await client.read_resource(f"kanban://task/{stranger}/context")
        except Exception as err:
            assert f"may only read its own task ({tid}) and its parents, not {stranger}" in str(err)
        else:
            raise AssertionError("a worker read another task's context")
        own = await client.get_prompt("work_task", {})
        assert "# Kanban task" in own.messages[0].content.text  # type: ignore[union-attr]
        # A tool on another board is refused by the fencing rules, not hidden.
        refused = await call(client, "kanban_complete", task_id=other, summary="x", board="side")
        assert refused["error"]["type"] == "Forbidden"

    _drive(_as_worker(settings, attempt), ctx, body)


def test_instructions_command() -> None:
    runner = CliRunner()
    worker = runner.invoke(cli, ["instructions"])
    orchestrator = runner.invoke(cli, ["instructions", "orchestrator"])
    assert worker.exit_code == 0 and orchestrator.exit_code == 0
    for needle in ("kanban_show", "kanban_heartbeat", "kanban_block", "kanban_complete", "metadata",
                   "parents"):
        assert needle in worker.output
    assert "Do not\ndo the tasks yourself" in orchestrator.output and "kanban_unblock" in orchestrator.output
    assert runner.invoke(cli, ["instructions", "boss"]).exit_code == 2


def test_board_comes_from_the_servers_settings(ctx: Ctx, settings: Settings) -> None:
    boards.create(ctx, "side")
    on_side = dataclasses.replace(settings, board="side")

    async def body(client: Client) -> None:
        made = await call(client, "kanban_create", title="Side quest")
        shown = await call(client, "kanban_show", task_id=made["task_id"])
        assert shown["board"] == "side"
        assert (await call(client, "kanban_show", task_id=made["task_id"], board="default"))["ok"] is False

    _drive(on_side, ctx, body)
    assert [t.title for t in tasks.list_tasks(ctx, "side")] == ["Side quest"]
    assert tasks.list_tasks(ctx, "default") == []


def test_prompts(ctx: Ctx, settings: Settings) -> None:
    tid = make_task(ctx, "Prompted")

    async def body(client: Client) -> None:
        names = {p.name for p in (await client.list_prompts()).prompts}
        assert names == {"work_task", "plan"}
        work = await client.get_prompt("work_task", {"task_id": tid})
        text = work.messages[0].content.text  # type: ignore[union-attr]
        assert "# Working a kanban task" in text and f"# Kanban task {tid}: Prompted" in text
        plan = await client.get_prompt("plan", {"goal": "Ship v2"})
        assert plan.messages[0].content.text.endswith("Ship v2")  # type: ignore[union-attr]

    _drive(settings, ctx, body)


def test_invalid_text_in_tool_arguments_is_refused_like_everywhere(ctx: Ctx, settings: Settings) -> None:
    tid = make_task(ctx, "Careful with text")

    async def body(client: Client) -> None:
        bad = await call(client, "kanban_create", title="half an emoji \ud83d", assignee="coder")
        assert bad["error"]["type"] == "InvalidText" and "surrogate" in bad["error"]["message"]
        assert bad["error"]["retryable"] is False
        note = await call(client, "kanban_comment", task_id=tid, body="caf\udce9")
        assert note["error"]["type"] == "InvalidText"
        shown = await call(client, "kanban_show")
        assert shown["task"]["status"] == "running" and shown["ok"] is True

    _drive(_as_worker(settings, claim(ctx, tid)), ctx, body)
    assert [t.title for t in tasks.list_tasks(ctx, "default")] == ["Careful with text"]
