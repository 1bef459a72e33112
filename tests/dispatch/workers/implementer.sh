#!/bin/sh
# An implementer that does what its context asks: the acceptance failure and the reviewer's
# reason it was sent back with are read from `kanban context`, and acted on.
set -eu
kanban() { "$KANBAN_PY" -m agentkanban "$@"; }
n=$(( $(cat attempts 2>/dev/null || echo 0) + 1 ))
echo "$n" > attempts
kanban context > "context-$n.md"
if grep -q "widget broken" "context-$n.md"; then touch fixed; fi
if grep -q "add docs please" "context-$n.md"; then touch docs; fi
kanban complete --summary "implementer attempt $n" --metadata "{\"attempt\": $n}"
