"""The MCP server: the ``kanban_*`` tools and the worker context as a resource.

Inside a worker (the ``KANBAN_*`` environment the dispatcher sets) the tools act for that worker
and default to its task; anywhere else they are an orchestrator's toolset.
"""

from __future__ import annotations

import inspect
from typing import Any, Literal

from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ResourceError, ToolError
from mcp.types import CallToolResult, InputRequiredResult, Tool, ToolAnnotations
from pydantic import ValidationError as PydanticValidationError

from .. import __version__
from ..config import Settings
from ..domain.text import first_invalid
from ..errors import KanbanError
from ..services import Ctx, open_ctx
from . import guidance
from .shape import fail
from .tools import Toolset

ToolChoice = Literal["core", "all"]

# name -> (description, read-only?). Agents pay for every word here on every turn: keep it short.
DESCRIPTIONS: dict[str, tuple[str, bool]] = {
    "kanban_show": ("Show a task: fields, parents, children, comments, events, attempts, and "
                    "worker_context (the briefing to start from). Defaults to your own task.", True),
    "kanban_list": ("List tasks on the board with their parents and children. Filter by status, "
                    "assignee or tenant.", True),
    "kanban_heartbeat": ("Tell the board you are still working on your task (extends your lease). "
                         "Call at least every 10 minutes on long work; note/data are your "
                         "checkpoint for a retry.", False),
    "kanban_session": ("Record your agent session id so a retry of your task resumes it.", False),
    "kanban_usage": ("Add tokens and cost you used to your attempt's usage.", False),
    "kanban_comment": ("Add a comment to a task (your own by default). Your profile is the "
                       "author.", False),
    "kanban_complete": ("Finish your task with a summary and metadata the next task can use. "
                        "Ends your run.", False),
    "kanban_block": ("Stop and ask a person for help: blocks your task with the reason. Ends your "
                     "run.", False),
    "kanban_create": ("Create a task. Pass parents to make it wait for them (a follow-up of your "
                      "task: parents=[your task id]).", False),
    "kanban_link": ("Make child_id wait until parent_id is done.", False),
    "kanban_unblock": ("Put a blocked task back in the queue (ready, or todo while a parent is "
                       "not done).", False),
    "kanban_subscribe": ("Send a task's outcome to a chat (a platform's home channel by "
                         "default).", False),
    "kanban_assign": ("Hand a task that is not running to another profile.", False),
    "kanban_archive": ("Take a task off the board; its children stop waiting for it.", False),
    "kanban_approve": ("Reviewer: approve the work you are reviewing; it counts as done. Ends your "
                       "run.", False),
    "kanban_request_changes": ("Reviewer: send the work back with what must change; the "
                               "implementer's next attempt reads your reason. Ends your run.", False),
    "kanban_approve_start": ("Let the dispatcher start a task that waits for a person's approval.",
                             False),
    "kanban_attach": ("Attach a file to a task (your own by default): a report, a diff, a screenshot "
                      "you hand over. Attachments are listed in worker_context.", False),
}

# The default sets stay small: a worker needs its own verbs, an orchestrator the graph verbs.
WORKER_CORE = ("kanban_show", "kanban_heartbeat", "kanban_comment", "kanban_complete", "kanban_block",
               "kanban_create", "kanban_link", "kanban_attach")
REVIEWER_VERBS = ("kanban_approve", "kanban_request_changes")  # for profiles that review another's work
ORCHESTRATOR_CORE = ("kanban_show", "kanban_list", "kanban_create", "kanban_link", "kanban_unblock",
                     "kanban_comment", "kanban_complete", "kanban_block")


# A worker acts on its own attempt only: "all" adds its reports, never the orchestrator's verbs.
WORKER_ALL = (*WORKER_CORE, "kanban_session", "kanban_usage", *REVIEWER_VERBS)


def tool_names(settings: Settings, tools: ToolChoice = "core") -> tuple[str, ...]:
    if tools not in ("core", "all"):
        raise ValueError(f"tools must be 'core' or 'all', not {tools!r}")
    if settings.worker is None:
        return tuple(DESCRIPTIONS) if tools == "all" else ORCHESTRATOR_CORE
    if tools == "all":
        return WORKER_ALL
    me = (settings.worker.profile or "").strip().lower()
    reviews = any(p.review is not None and p.review.by == me for p in settings.profiles.values())
    return (*WORKER_CORE, *REVIEWER_VERBS) if reviews else WORKER_CORE


def compact_schema(node: Any) -> Any:
    """The input schema without what costs tokens and tells the model nothing: generated titles,
    ``null`` alternatives of optional arguments and ``default: null``."""
    if isinstance(node, list):
        return [compact_schema(n) for n in node]
    if not isinstance(node, dict):
        return node
    out = {k: compact_schema(v) for k, v in node.items()
           if k != "title" and not (k == "default" and v is None)}
    alts = out.get("anyOf")
    if isinstance(alts, list):
        rest = [a for a in alts if a != {"type": "null"}]
        if len(rest) == 1:
            del out["anyOf"]
            out = {**rest[0], **out}
        else:
            out["anyOf"] = rest
    if isinstance(out.get("properties"), dict):
        # Property names are data here, not keywords: restore any named "title" or "default".
        out["properties"] = {k: compact_schema(v) for k, v in node["properties"].items()}
    return out


class KanbanMCP(MCPServer):
    """Answers a malformed call with the same error shape as a refused one."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.params: dict[str, tuple[str, ...]] = {}

    async def list_tools(self) -> list[Tool]:
        return [t.model_copy(update={"input_schema": compact_schema(t.input_schema)})
                for t in await super().list_tools()]

    async def call_tool(self, name: str, arguments: dict[str, Any],
                        context: Context[Any, Any] | None = None) -> CallToolResult | InputRequiredResult:
        if name not in self.params:
            return fail("UnknownTool", f"there is no tool {name!r}; available: {', '.join(self.params)}",
                        hint="call one of the listed tools")
        unknown = sorted(set(arguments or {}) - set(self.params[name]))
        if unknown:
            return fail("ValidationError", f"{name} does not take {', '.join(unknown)}; it takes: "
                        f"{', '.join(self.params[name])}", hint="fix the arguments and call again")
        bad_text = first_invalid(arguments or {}, "arguments")
        if bad_text:
            return fail("InvalidText", f"invalid text: {bad_text}",
                        hint="send valid Unicode without NUL characters")
        try:
            return await super().call_tool(name, arguments, context)
        except ToolError as exc:
            cause = exc.__cause__
            if isinstance(cause, PydanticValidationError):
                problems = "; ".join(
                    f"{'.'.join(str(p) for p in e['loc']) or 'arguments'}: {e['msg']}"
                    for e in cause.errors())
                return fail("ValidationError", f"bad arguments for {name}: {problems}",
                            hint="fix the arguments and call again")
            return fail("InternalError", f"{name} failed unexpectedly; retry once, then block the task",
                        retryable=True)


def build_server(settings: Settings, *, tools: ToolChoice = "core", ctx: Ctx | None = None,
                 local_files: bool = True) -> KanbanMCP:
    """The MCP server for this caller. ``ctx`` lets an embedding app share its open store;
    ``local_files``: whether a tool may read a path the caller names (not over HTTP)."""
    ctx = ctx or open_ctx(settings)
    toolset = Toolset(ctx, settings, local_files=local_files)
    role = "worker" if settings.worker is not None else "orchestrator"
    # WARNING: the SDK configures root logging when nothing else has, and INFO would log every
    # rejected call on stderr (which an agent CLI may show, or a host app's log collects).
    server = KanbanMCP("agentkanban", instructions=guidance.text(role), version=__version__,
                       log_level="WARNING")
    for name in tool_names(settings, tools):
        description, read_only = DESCRIPTIONS[name]
        fn = getattr(toolset, name)
        server.add_tool(fn, name=name, description=description,
                        annotations=ToolAnnotations(read_only_hint=read_only, destructive_hint=False,
                                                    open_world_hint=False),
                        structured_output=False)
        server.params[name] = tuple(inspect.signature(fn).parameters)
    _add_resources(server, toolset, settings)
    _add_prompts(server, toolset)
    return server


def _add_prompts(server: MCPServer, toolset: Toolset) -> None:
    """Prompts a person can pick in an interactive client (slash commands in some)."""

    def work_task(task_id: str = "") -> str:
        try:
            context = toolset.context_document(task_id)
        except KanbanError as err:
            raise ValueError(err.message) from None
        return f"{guidance.WORKER}\n---\n\n{context}"

    def plan(goal: str) -> str:
        return f"{guidance.ORCHESTRATOR}\n---\n\nThe goal to break down into tasks:\n\n{goal}"

    server.prompt("work_task", description="Work one kanban task: the worker protocol plus the "
                                           "task's briefing (your own task inside a worker).")(work_task)
    server.prompt("plan", description="Break a goal down into a dependency graph of kanban tasks.")(plan)


def _add_resources(server: MCPServer, toolset: Toolset, settings: Settings) -> None:
    def read(task_id: str) -> str:
        try:
            return toolset.context_document(task_id)
        except KanbanError as err:
            raise ResourceError(err.message) from None

    server.resource("kanban://task/{task_id}/context", name="task-context", mime_type="text/markdown",
                    description="The briefing a worker starts from: body, parent results, earlier "
                                "attempts, comments.")(read)
    if settings.worker is not None:
        own = settings.worker.task_id

        def current() -> str:
            return read(own)

        server.resource(f"kanban://task/{own}/context", name="current-task-context",
                        mime_type="text/markdown",
                        description="The briefing for the task this worker was started for.")(current)
