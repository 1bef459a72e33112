"""Every failure of the CLI is one line on stderr, starting with `error:` and saying what to do."""

from __future__ import annotations

import fcntl
import io
import os
import pty
import socket
import struct
import subprocess
import sys
import termios
from pathlib import Path

import pytest


def _env(home: Path, db_url: str) -> dict[str, str]:
    env = {**os.environ, "KANBAN_HOME": str(home), "KANBAN_DATABASE_URL": db_url}
    for var in ("KANBAN_TASK_ID", "KANBAN_BOARD", "COLUMNS"):
        env.pop(var, None)
    return env


@pytest.mark.parametrize("args,code,line", [
    (["assign"], 2, "error: missing TASK_ID: run `kanban assign [OPTIONS] TASK_ID PROFILE`"),
    (["assign", "t_1"], 2, "error: missing PROFILE: run `kanban assign [OPTIONS] TASK_ID PROFILE`"),
    (["create"], 2, "error: missing TITLE: run `kanban create [OPTIONS] TITLE`"),
    (["show"], 2, "error: missing TASK_ID: give a task id, as in `kanban show t_1a2b3c4d` "
                  "(inside a worker it defaults to $KANBAN_TASK_ID)"),
    (["context"], 2, "error: missing TASK_ID: give a task id, as in `kanban context t_1a2b3c4d` "
                     "(inside a worker it defaults to $KANBAN_TASK_ID)"),
    (["comment", "t_1"], 2, "error: missing TEXT: run `kanban comment t_1 TEXT...`, or pass `-` to "
                            "read it from standard input, or --body-file PATH"),
    (["list", "--bogus"], 2, "error: no such option --bogus; `kanban list --help` lists what it takes"),
    (["list", "--sot", "x"], 2, "error: no such option --sot (did you mean --json, --sort, --status?); "
                                "`kanban list --help` lists what it takes"),
    (["list", "--limit"], 2, "error: option '--limit' requires an argument; `kanban list --help` lists "
                             "what it takes"),
    (["list", "extra"], 2, "error: got unexpected extra argument (extra); `kanban list --help` lists "
                           "what it takes"),
    (["frob"], 2, "error: no such command 'frob'; `kanban --help` lists what it takes"),
    (["create", "x", "--priority", "abc"], 2,
     "error: invalid value for --priority: 'abc' is not a valid integer; `kanban create --help` lists "
     "what it takes"),
    (["move", "t_1", "running"], 2,
     "error: invalid value for STATUS: 'running' is not one of 'triage', 'todo', 'ready'; "
     "`kanban move --help` lists what it takes"),
    (["schedule", "add", "x"], 2,
     "error: missing option --cron; `kanban schedule add --help` lists what it takes"),
    (["boards", "show", "--json=yes"], 2,
     "error: option '--json' does not take a value; `kanban boards show --help` lists what it takes"),
    (["edit", "t_1"], 2, "error: nothing to edit: give --title, --body (or --body-file), --result "
                         "(or --result-file) or --max-cost-usd"),
    (["show", "t_00000000"], 1, "error: task t_00000000 not found on board 'default'"),
    (["create", ""], 2, "error: title cannot be empty"),
])
def test_each_error_is_one_line_saying_what_to_do(kanban, args, code, line) -> None:
    r = kanban(*args)
    assert (r.code, r.err) == (code, line + "\n")
    assert "Usage:" not in r.out + r.err and "Traceback" not in r.err


def test_refusals_name_the_next_step(kanban) -> None:
    a = kanban("create", "a", "--json").json()["task"]["id"]
    b = kanban("create", "b", "--json").json()["task"]["id"]
    r = kanban("unlink", a, b)
    assert (r.code, r.err) == (1, f"error: no such link: {b} does not wait for {a}; "
                                  f"`kanban show {b} --json` lists its parents\n")
    r = kanban("notify-unsubscribe", a, "--platform", "slack", "--chat-id", "C1")
    assert (r.code, r.err) == (1, f"error: no such subscription: {a} is not sent to that chat; "
                                  f"`kanban notify-list {a}` lists its subscriptions\n")


def test_a_group_alone_prints_its_help(kanban) -> None:
    r = kanban("boards")
    assert r.code == 0 and r.out.startswith("Usage: kanban boards") and r.err == ""


def test_declining_a_confirmation_is_an_error_line(kanban, monkeypatch) -> None:
    tid = kanban("create", "keep me", "--json").json()["task"]["id"]
    monkeypatch.setattr(sys, "stdin", io.StringIO("n\n"))
    r = kanban("delete", tid)
    assert r.code == 1 and r.err.splitlines()[-1] == "error: aborted; nothing more was done"
    assert kanban("show", tid, "--json").code == 0


def test_broken_yaml_names_the_file_line_and_column(kanban, home) -> None:
    cfg = home / "config.yaml"
    cfg.write_text("profiles:\n  coder:\n    command: [claude, -p\n  reviewer: {}\n")
    r = kanban("list")
    assert r.code == 2
    assert r.err == (f"error: {cfg}: not valid YAML at line 4, column 11: while parsing a flow sequence: "
                     "expected ',' or ']', but got ':'; fix the file and run again\n")
    cfg.write_text("dispatch:\n\tfailure_limit: 3\n")
    assert kanban("list").err == (
        f"error: {cfg}: not valid YAML at line 2, column 1: while scanning for the next token: found "
        "character '\\t' that cannot start any token; fix the file and run again\n")


def test_a_bad_setting_names_the_file(kanban, home) -> None:
    cfg = home / "config.yaml"
    cfg.write_text("dispatch:\n  failur_limit: 3\n")
    r = kanban("list")
    assert (r.code, r.err) == (2, "error: config: dispatch.failur_limit: unknown setting; did you mean "
                                  f"failure_limit? (in {cfg})\n")
    cfg.write_text("- a\n- b\n")
    assert kanban("list").err == f"error: {cfg}: expected a mapping at the top level\n"


def test_a_busy_port_says_which_port_to_try(home, db_url) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        r = subprocess.run([sys.executable, "-m", "agentkanban", "serve", "--port", str(port)],
                           env=_env(home, db_url), capture_output=True, text=True, timeout=120)
    assert r.returncode == 1
    assert r.stderr == (f"error: address already in use: 127.0.0.1:{port}: stop what listens there "
                        f"or try --port {port + 1}\n")
    assert "listening" not in r.stdout


def test_a_busy_port_on_the_mcp_endpoint_too(home, db_url) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        r = subprocess.run([sys.executable, "-m", "agentkanban", "mcp", "--http", "--port", str(port)],
                           env={**_env(home, db_url), "KANBAN_TOKEN": "t0k3n-" * 8},
                           capture_output=True, text=True, timeout=120)
    assert (r.returncode, r.stderr) == (1, f"error: address already in use: 127.0.0.1:{port}: stop what "
                                           f"listens there or try --port {port + 1}\n")


LONG = ("error: invalid value for --sort: 'nonsense' is not one of 'assignee', 'created', "
        "'created-desc', 'due', 'priority', 'priority-asc', 'status', 'title', 'updated'; "
        "`kanban list --help` lists what it takes")


def test_a_long_error_is_whole_on_one_line_when_piped(home, db_url) -> None:
    r = subprocess.run([sys.executable, "-m", "agentkanban", "list", "--sort", "nonsense"],
                       env=_env(home, db_url), capture_output=True, text=True, timeout=60)
    assert (r.returncode, r.stderr) == (2, LONG + "\n")


def test_a_long_error_is_wrapped_to_the_terminal_not_cut(home, db_url) -> None:
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 50, 0, 0))
    proc = subprocess.Popen([sys.executable, "-m", "agentkanban", "list", "--sort", "nonsense"],
                            env=_env(home, db_url), stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, stderr=slave)
    os.close(slave)
    chunks = []
    while True:
        try:
            data = os.read(master, 4096)
        except OSError:  # the terminal closed (EIO) once the process exited
            break
        if not data:
            break
        chunks.append(data)
    os.close(master)
    assert proc.wait(timeout=60) == 2
    lines = b"".join(chunks).decode().replace("\r\n", "\n").rstrip("\n").split("\n")
    assert len(lines) > 2 and lines[0].startswith("error: invalid value for --sort:")
    assert all(len(line) <= 50 for line in lines)
    assert all(line.startswith("  ") for line in lines[1:])
    assert " ".join(line.strip() for line in lines) == LONG
