#!/bin/sh
# A worker that speaks only the `kanban` CLI, as an agent or a shell script would.
# $KANBAN_PY is the Python that has agentkanban installed (the profile's env sets it).
set -eu
kanban() { "$KANBAN_PY" -m agentkanban "$@"; }
kanban show                                   # the context document, into the task's log
kanban heartbeat --note "reading the parent's handoff"
kanban comment "$KANBAN_TASK_ID" "working in $(basename "$PWD")"
kanban complete --summary "finished $KANBAN_TASK_ID" \
  --metadata "{\"task\": \"$KANBAN_TASK_ID\", \"run\": $KANBAN_RUN_ID}"
