"""A worker that uses only the ordinary ``kanban`` verbs, for the attachment and orchestration tests.

``handover.py MODE``; modes:
  handover   save `kanban context` and the goal variables to context.txt, attach a report, complete
  specify    answer a specify job: complete with {"title", "body"} metadata
  decompose  answer a decompose job: complete with {"children": [...]} metadata
  describe   answer a describe job: complete with {"description"} metadata
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path


def kanban(*args: str) -> str:
    done = subprocess.run([sys.executable, "-m", "agentkanban", *args], capture_output=True, text=True,
                          check=True)
    return done.stdout


def main() -> int:
    mode = sys.argv[1]
    if mode == "handover":
        context = kanban("context")
        goal = f"goal_mode={os.environ.get('KANBAN_GOAL_MODE')} turns={os.environ.get('KANBAN_GOAL_MAX_TURNS')}"
        Path("context.txt").write_text(context + "\n" + goal + "\nargv=" + " ".join(sys.argv[2:]) + "\n")
        Path("report.md").write_text("# Report\nall good\n")
        kanban("attach", "report.md")
        kanban("complete", "--summary", "handed over report.md")
    elif mode == "specify":
        meta = {"title": "Specified: add login", "body": "Goal: users log in.\n\nAcceptance: tests pass."}
        kanban("complete", "--metadata", json.dumps(meta))
    elif mode == "decompose":
        meta = {"children": [{"title": "design the schema", "assignee": "coder"},
                             {"title": "write the code", "assignee": "nobody", "parents": [0]}]}
        kanban("complete", "--metadata", json.dumps(meta))
    elif mode == "describe":
        kanban("complete", "--metadata", json.dumps({"description": "writes and reviews Python"}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
