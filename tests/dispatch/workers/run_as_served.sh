#!/bin/sh
# A worker started with run_as by `kanban serve`: it completes its own task through the server,
# after trying what an attacker would. Each answer's status is kept in its workspace for the test.
# (curl, not `kanban`: the test's Python may live where another user cannot run it.)
# $1: another task's id.
OTHER="$1"
env | sort > env.txt
post() {  # post VERB BODY [AUTH-HEADERS...]: the HTTP status
  verb="$1"; body="$2"; shift 2
  curl -s -o /dev/null -w '%{http_code}' -X POST -H 'Content-Type: application/json' "$@" \
    --data "$body" "$KANBAN_URL/api/verbs/$verb"
}
post complete "{\"tasks\": [\"$OTHER\"], \"summary\": \"stolen\"}" > attack.status
post complete "{\"tasks\": [\"$OTHER\"], \"summary\": \"stolen\"}" -H "X-Kanban-Run-Id: $KANBAN_RUN_ID" \
  -H "Authorization: Bearer $KANBAN_RUN_TOKEN" > other.status
post complete "{\"tasks\": [\"$KANBAN_TASK_ID\"], \"summary\": \"done over http\"}" \
  -H "X-Kanban-Run-Id: $KANBAN_RUN_ID" -H "Authorization: Bearer $KANBAN_RUN_TOKEN" > complete.status
touch done
