#!/bin/sh
# A reviewer: asks for docs until the workspace has them, then approves. With PICKY set it
# never approves.
set -eu
kanban() { "$KANBAN_PY" -m agentkanban "$@"; }
n=$(( $(cat reviews 2>/dev/null || echo 0) + 1 ))
echo "$n" > reviews
kanban context > "review-context-$n.md"
if [ -n "${PICKY:-}" ] || [ ! -f docs ]; then
  kanban request-changes --reason "add docs please (review $n)"
else
  kanban approve --summary "checked: docs present, tests pass"
fi
