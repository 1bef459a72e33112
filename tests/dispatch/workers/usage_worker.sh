#!/bin/sh
# A worker that reports its usage with the `kanban` CLI, as a shell-script profile would.
set -eu
kanban() { "$KANBAN_PY" -m agentkanban "$@"; }
kanban heartbeat --note "starting" --data '{"step": 1}'
kanban session "shell-$KANBAN_RUN_ID"
kanban usage --input-tokens 1000 --output-tokens 200 --cache-read-tokens 50 --cost-usd 0.25 --model gpt-test
kanban usage --input-tokens 2000000 --output-tokens 1000000 --model priced-model
kanban complete --summary "reported usage"
