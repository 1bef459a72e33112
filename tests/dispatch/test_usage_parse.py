"""Usage and session ids read from recorded Claude Code and Codex outputs."""

from __future__ import annotations

import json

import pytest

from agentkanban.dispatch.usage_parse import parse
from tests.fixtures.agents import output


def _sum(parsed, field):
    return sum(getattr(e, field) for e in parsed.entries)


def test_claude_json_result_per_model():
    text = output("claude_result.json")
    doc = json.loads(text)  # the fixture is one JSON object, as `--output-format json` prints
    p = parse("claude-json", "=== header line\n" + text + "\nsome stderr\n")
    assert p.session_id == doc["session_id"]
    by_model = {e.model: e for e in p.entries}
    assert set(by_model) == set(doc["modelUsage"])
    sonnet = by_model["claude-sonnet-4-5-20250929"]
    assert (sonnet.input_tokens, sonnet.output_tokens, sonnet.cache_read_tokens,
            sonnet.cache_write_tokens) == (41, 3182, 212604, 18250)
    assert sum(e.cost_usd for e in p.entries) == pytest.approx(doc["total_cost_usd"])


def test_claude_stream_json_uses_the_result_not_each_message():
    p = parse("claude-json", output("claude_stream.jsonl"))
    assert p.session_id == "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d"
    assert len(p.entries) == 1
    e = p.entries[0]
    assert (e.input_tokens, e.output_tokens, e.cache_read_tokens, e.cache_write_tokens) == (9, 219, 31800, 6530)
    assert e.cost_usd == pytest.approx(0.04120455)


def test_claude_stream_cut_short_sums_each_message_once():
    lines = output("claude_stream.jsonl").splitlines()
    p = parse("claude-json", "\n".join(line for line in lines if '"type":"result"' not in line))
    # The same totals as the result line would have said: a message repeated per content block
    # is counted once.
    assert (_sum(p, "input_tokens"), _sum(p, "output_tokens"), _sum(p, "cache_read_tokens"),
            _sum(p, "cache_write_tokens")) == (9, 219, 31800, 6530)
    assert all(e.cost_usd is None and e.model == "claude-sonnet-4-5-20250929" for e in p.entries)
    assert p.session_id == "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d"


def test_codex_json_sums_turns_and_splits_cached_input():
    p = parse("codex-json", output("codex_exec.jsonl"))
    assert p.session_id == "0199a213-81c0-7800-8aa1-bbab2a035a53"
    [e] = p.entries
    assert e.input_tokens == (24763 - 20480) + (31250 - 28672)
    assert e.cache_read_tokens == 20480 + 28672
    assert e.output_tokens == 1122 + 845
    assert e.cost_usd is None and e.model is None


@pytest.mark.parametrize("fmt", ["claude-json", "codex-json"])
def test_output_without_usage_gives_nothing(fmt):
    p = parse(fmt, "plain text\n{not json\n{\"type\": \"other\"}\n")
    assert p.entries == [] and p.session_id is None
