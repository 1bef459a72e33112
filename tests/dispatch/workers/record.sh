#!/bin/sh
# A quick worker that speaks only the `kanban` CLI: records its start and end around a complete.
# $KANBAN_PY is the Python that has agentkanban installed; $1 is the record file.
set -eu
echo "start $KANBAN_TASK_ID $KANBAN_RUN_ID $$" >> "$1"
"$KANBAN_PY" -m agentkanban complete --summary "recorded"
echo "done $KANBAN_TASK_ID $KANBAN_RUN_ID $$" >> "$1"
