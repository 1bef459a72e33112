"""Reading usage and the session id out of an agent's own machine-readable output.

``claude-json``: Claude Code run with ``--output-format json`` (one result object) or
``stream-json`` (one object per line; the last is the same ``result`` object). The result carries
``session_id``, ``total_cost_usd``, ``usage`` and, per model, ``modelUsage``. When the run died before
its result line, the ``assistant`` messages' ``usage`` is summed instead (each message once: the
stream repeats a message per content block) and priced from the ``prices`` table.

``codex-json``: ``codex exec --json`` events, one per line: ``thread.started`` names the thread
(the session to resume), each ``turn.completed`` (or ``turn.failed``) carries that turn's
``usage`` with ``input_tokens`` (cached included), ``cached_input_tokens`` and ``output_tokens``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Entry:
    model: str | None = None
    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0
    cost_usd: float | None = None  # None: the agent reported tokens only


@dataclass
class Parsed:
    entries: list[Entry] = field(default_factory=list)
    session_id: str | None = None


def _objects(text: str) -> Iterator[dict[str, Any]]:
    """Every JSON object that starts a line: one per line, or one pretty-printed over several.
    Only line starts count, so JSON quoted inside other output (an indented log tail in a context
    document the worker printed) is never counted again."""
    dec = json.JSONDecoder()
    i, n = 0, len(text)
    while i < n:
        j = i if text.startswith("{", i) else text.find("\n{", i)
        if j < 0:
            return
        if text[j] == "\n":
            j += 1
        try:
            obj, end = dec.raw_decode(text, j)
        except ValueError:
            i = j + 1
            continue
        if isinstance(obj, dict):
            yield obj
        i = end


def _int(v: Any) -> int:
    return int(v) if isinstance(v, (int, float)) and not isinstance(v, bool) and v >= 0 else 0


def _claude_entry(usage: dict[str, Any], model: str | None, cost: Any) -> Entry:
    return Entry(model=model, input_tokens=_int(usage.get("input_tokens")),
                 output_tokens=_int(usage.get("output_tokens")),
                 cache_read_tokens=_int(usage.get("cache_read_input_tokens")),
                 cache_write_tokens=_int(usage.get("cache_creation_input_tokens")),
                 cost_usd=float(cost) if isinstance(cost, (int, float)) and cost >= 0 else None)


def parse_claude(text: str) -> Parsed:
    out = Parsed()
    results: list[dict[str, Any]] = []
    messages: dict[str, tuple[str | None, dict[str, Any]]] = {}
    for obj in _objects(text):
        kind = obj.get("type")
        if isinstance(obj.get("session_id"), str) and kind in ("system", "result", "assistant"):
            out.session_id = obj["session_id"]
        if kind == "result":
            results.append(obj)
        elif kind == "assistant" and isinstance(obj.get("message"), dict):
            msg = obj["message"]
            if isinstance(msg.get("usage"), dict):
                messages[str(msg.get("id") or len(messages))] = (msg.get("model"), msg["usage"])
    if results:
        for res in results:  # one per `claude -p` call the worker made
            per_model = res.get("modelUsage")
            if isinstance(per_model, dict) and per_model:
                for model, u in per_model.items():
                    if isinstance(u, dict):
                        out.entries.append(Entry(
                            model=model, input_tokens=_int(u.get("inputTokens")),
                            output_tokens=_int(u.get("outputTokens")),
                            cache_read_tokens=_int(u.get("cacheReadInputTokens")),
                            cache_write_tokens=_int(u.get("cacheCreationInputTokens")),
                            cost_usd=float(u["costUSD"]) if isinstance(u.get("costUSD"), (int, float)) else None))
            elif isinstance(res.get("usage"), dict):
                out.entries.append(_claude_entry(res["usage"], None, res.get("total_cost_usd")))
    else:
        for model, u in messages.values():
            out.entries.append(_claude_entry(u, model, None))
    return out


def parse_codex(text: str) -> Parsed:
    out = Parsed()
    total = Entry()
    seen = False
    for obj in _objects(text):
        kind = obj.get("type")
        if kind == "thread.started" and isinstance(obj.get("thread_id"), str):
            out.session_id = obj["thread_id"]
        elif kind in ("turn.completed", "turn.failed") and isinstance(obj.get("usage"), dict):
            u = obj["usage"]
            cached = _int(u.get("cached_input_tokens"))
            total.input_tokens += max(0, _int(u.get("input_tokens")) - cached)
            total.cache_read_tokens += cached
            total.output_tokens += _int(u.get("output_tokens"))
            seen = True
    if seen:
        out.entries.append(total)
    return out


PARSERS = {"claude-json": parse_claude, "codex-json": parse_codex}


def parse(fmt: str, text: str) -> Parsed:
    return PARSERS[fmt](text)
