"""One change applied to many tasks at once (``POST /tasks/bulk``), in one write transaction.

Every id gets what the single-task services would have done to it had they run one after another
in the order given: the same checks and refusals (both build their moves in :mod:`.moves`), the
same columns, attempt outcomes and events, the same promotions of waiting tasks and demotions of
ready children in between. What differs is the cost: the tasks (and, when a status change needs
them, their parents and children) are read with a few queries, every decision is made in memory,
and the changes are written at the end with a handful of set-based statements, one per group of
tasks moving from the same status with the same values (``UPDATE ... WHERE id IN (...) AND status =
:expected``). A refused id is reported and left alone; because nothing is written until every id
was decided, nothing needs undoing (no savepoints).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from ..domain import events as ev
from ..domain.models import Task
from ..domain.statuses import PARENT_SATISFIED, Status
from ..errors import Conflict, Forbidden, KanbanError
from ..store import Tx
from ..store import events as store_events
from ..store import links as store_links
from ..store import runs as store_runs
from ..store import subs as store_subs
from ..store import tasks as store_tasks
from ..store.rows import dumps
from . import moves
from .base import Actor, Ctx
from .common import clean_assignee, not_found, resolve_in


@dataclass(frozen=True)
class Change:
    """What ``POST /tasks/bulk`` applies to each id: the status change (``archive`` wins over
    ``status``), then the assignee (``""`` unassigns), then the priority."""

    status: str | None = None
    assignee: str | None = None
    priority: int | None = None
    archive: bool = False
    block_reason: str | None = None
    result: str | None = None
    summary: str | None = None
    metadata: dict[str, Any] | None = None
    add_labels: list[str] | None = None  # then labels (see services.labels)
    remove_labels: list[str] | None = None
    due_at: Any = None  # then the due date (see services.due), when set_due
    set_due: bool = False


@dataclass(frozen=True)
class Outcome:
    id: str  # the full task id, or the reference as given when it did not resolve
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


def apply(ctx: Ctx, board: str, refs: list[str], change: Change, *, actor: Actor) -> list[Outcome]:
    """Apply ``change`` to each of ``refs`` (ids or unique prefixes) in order; one outcome each."""
    if actor.is_worker:
        raise Forbidden("a worker changes its own task, one verb at a time")
    steps = _Steps.of(change)
    from .bulk_marks import Marks

    extra = Marks.of(change.add_labels, change.remove_labels, change.due_at, change.set_due)
    now = ctx.now()
    with ctx.store.write() as tx:
        store_tasks.lock_statuses(tx.conn, board)
        plan = _Plan(tx, board, now, actor)
        resolved = [plan.resolve(ref) for ref in refs]
        plan.load([r for r in resolved if not isinstance(r, Outcome)], graph=steps.needs_graph,
                  releases=steps.releases)
        out = [r if isinstance(r, Outcome) else plan.run(r, steps) for r in resolved]
        plan.flush()
        if extra.any:
            out = extra.apply(tx, board, out, now)
    return out


@dataclass(frozen=True)
class _Steps:
    """The change, checked once: the parts that fail alike for every id fail here."""

    target: Status | None  # None: no status change
    handoff: moves.Handoff | None
    status_error: str | None  # the status part is refused for every id, with this message
    assign: bool
    assignee: str | None
    assign_error: str | None
    priority: int | None
    block_reason: str | None

    @classmethod
    def of(cls, c: Change) -> _Steps:
        target, handoff, status_error = None, None, None
        try:
            if c.archive:
                target = Status.ARCHIVED
            elif c.status is not None:
                target = moves.api_target(c.status)
                if target is Status.DONE:
                    handoff = moves.handoff(c.result, c.summary, c.metadata)
        except KanbanError as err:
            target, status_error = None, err.message
        who, assign_error = None, None
        if c.assignee is not None:
            try:
                who = clean_assignee(c.assignee or None)
            except KanbanError as err:
                assign_error = err.message
        return cls(target, handoff, status_error, c.assignee is not None, who, assign_error,
                   c.priority, c.block_reason)

    @property
    def needs_graph(self) -> bool:
        """Parents gate ready, done/archived promote, leaving done/archived demotes."""
        return self.target is not None and self.target is not Status.BLOCKED

    @property
    def releases(self) -> bool:
        return self.target in PARENT_SATISFIED


class _Plan:
    """The tasks as the single-task services would find them id after id, and what to write."""

    def __init__(self, tx: Tx, board: str, now: float, actor: Actor) -> None:
        self.tx, self.board, self.now, self.actor = tx, board, now, actor
        self.tasks: dict[str, Task] = {}  # the bulk's own tasks, as read
        self.pending: dict[str, dict[str, Any]] = {}  # their fields changed since (replace is slow)
        self.status: dict[str, Status] = {}  # every task read, as changed so far
        self.titles: dict[str, str] = {}
        self.stored: dict[str, str] = {}  # status in the database: the compare-and-set guard
        self.parents: dict[str, set[str]] = {}
        self.children: dict[str, set[str]] = {}
        self.updates: dict[str, dict[str, Any]] = {}
        self.closes: dict[tuple[str, str | None, str | None], tuple[dict[str, Any] | None, list[int]]] = {}
        self.attempts: list[dict[str, Any]] = []
        self.events: list[tuple[str, str, dict[str, Any] | None, int | None, int | None, bool]] = []
        self.released: list[str] = []

    # -- reading ---------------------------------------------------------------------------------
    def resolve(self, ref: str) -> str | Outcome:
        """The task id ``ref`` names, or the outcome of a reference that names none."""
        try:
            return resolve_in(self.tx.conn, self.board, ref)
        except KanbanError as err:
            return Outcome(ref, err.message)

    def load(self, ids: list[str], *, graph: bool, releases: bool) -> None:
        conn = self.tx.conn
        self.tasks = store_tasks.get_many(conn, self.board, list(dict.fromkeys(ids)))
        for t in self.tasks.values():
            self.status[t.id], self.titles[t.id], self.stored[t.id] = t.status, t.title, t.status.value
        if not graph:
            return
        edges = store_links.touching(conn, list(self.tasks))
        if releases:  # a released task's children may be promoted: read all their parents
            edges |= store_links.into(conn, sorted({c for p, c in edges if p in self.tasks}))
        for p, c in edges:
            self.parents.setdefault(c, set()).add(p)
            self.children.setdefault(p, set()).add(c)
        others = sorted({x for e in edges for x in e} - self.tasks.keys())
        for tid, (title, status) in store_tasks.brief_many(conn, others).items():
            self.status[tid], self.titles[tid], self.stored[tid] = Status(status), title, status

    def _task(self, tid: str) -> Task:
        """The task as the single-task services would read it now."""
        task = self.tasks.get(tid)
        if task is None:
            raise not_found(self.board, tid)
        if tid in self.pending:
            task = self.tasks[tid] = replace(task, **self.pending.pop(tid))
        return task

    def _changed(self, tid: str, **fields: Any) -> None:
        if tid in self.tasks:
            self.pending.setdefault(tid, {}).update(fields)

    def _waiting(self, tid: str) -> list[tuple[str, str, str]]:
        return [(p, self.titles[p], self.status[p].value) for p in sorted(self.parents.get(tid, ()))
                if self.status[p] not in PARENT_SATISFIED]

    # -- deciding, id by id ----------------------------------------------------------------------
    def run(self, tid: str, s: _Steps) -> Outcome:
        """Status, then assignee, then priority; the first refusal ends this id's turn (what was
        done before it stays done, as it did when each step was its own transaction)."""
        try:
            if s.status_error is not None:
                return Outcome(tid, s.status_error)
            if s.target is not None:
                self._status(tid, s.target, s)
            if s.assign_error is not None:
                return Outcome(tid, s.assign_error)
            if s.assign:
                self._assign(tid, s.assignee)
            if s.priority is not None:
                self._priority(tid, s.priority)
        except KanbanError as err:
            return Outcome(tid, err.message)
        return Outcome(tid)

    def _status(self, tid: str, target: Status, s: _Steps) -> None:
        task = self._task(tid)
        waiting = self._waiting(tid) if moves.needs_parents(task, target) else []
        move = moves.decide(task, target, self.actor, waiting=waiting, handoff=s.handoff,
                            reason=s.block_reason, now=self.now)
        if move is not None:
            self._move(task, move)

    def _move(self, task: Task, move: moves.Move) -> None:
        """What ``transitions.apply`` writes, recorded for the end."""
        self._set(task.id, {"status": move.to.value, **moves.written(task, move)})
        run_id, attempt = task.current_run_id, None
        assert move.outcome is not None and move.open_run is None and not move.then  # no attempt moves
        if run_id is not None:
            key = (move.outcome, move.summary, dumps(move.metadata))
            self.closes.setdefault(key, (move.metadata, []))[1].append(run_id)
        elif move.attempt_if_unclaimed is not None:
            attempt = len(self.attempts)
            self.attempts.append(move.attempt_if_unclaimed)
        self._event(task.id, move.event, move.payload, run_id, attempt)
        self._changed(task.id, status=move.to, current_run_id=None)
        self.status[task.id] = move.to
        if move.releases:
            self.released.append(task.id)
            self._promote(task.id)
        if move.reopens:
            self._demote(task.id)

    def _promote(self, released: str) -> None:
        """``common.promote_children``: the released task's waiting children whose parents are
        now all done or archived."""
        ready = sorted(t for t in self.children.get(released, ()) if self.status[t] is Status.TODO
                       and all(self.status[p] in PARENT_SATISFIED for p in self.parents.get(t, ())))
        for tid in ready:
            self._shift(tid, Status.READY)
            self._event(tid, ev.PROMOTED, None)

    def _demote(self, parent: str) -> None:
        """``store.tasks.demote_ready_children``: ready children wait on a reopened parent."""
        for cid in sorted(self.children.get(parent, ())):
            if self.status[cid] is Status.READY and self._waiting(cid):
                self._shift(cid, Status.TODO)
                self._event(cid, ev.STATUS, {"status": "todo", "reason": "parent_reopened"})

    def _shift(self, tid: str, to: Status) -> None:
        self._set(tid, {"status": to.value})
        self.status[tid] = to
        self._changed(tid, status=to)

    def _assign(self, tid: str, who: str | None) -> None:
        task = self._task(tid)
        refused = moves.assign_refused(task, who)
        if refused:
            raise Conflict(refused)
        if task.assignee != who:
            values, withdrawn = moves.withdrawal(task, self.actor.name, "assignee")
            if withdrawn is not None:
                self._event(tid, ev.APPROVAL_WITHDRAWN, withdrawn)
            self._set(tid, {"assignee": who, "consecutive_failures": 0, "last_failure_error": None,
                            **values})
            self._changed(tid, assignee=who)
            self._event(tid, ev.ASSIGNED, {"assignee": who})

    def _priority(self, tid: str, priority: int) -> None:
        self._task(tid)
        self._set(tid, {"priority": int(priority)})
        self._event(tid, ev.REPRIORITIZED, {"priority": int(priority)})

    def _set(self, tid: str, values: dict[str, Any]) -> None:
        row = self.updates.setdefault(tid, {})
        row.update(values)
        row["updated_at"] = self.now

    def _event(self, tid: str, kind: str, payload: dict[str, Any] | None, run_id: int | None = None,
               attempt: int | None = None) -> None:
        self.events.append((tid, kind, payload, run_id, attempt, tid not in self.released))

    # -- writing ---------------------------------------------------------------------------------
    def flush(self) -> None:
        conn = self.tx.conn
        groups: dict[tuple[str, tuple[tuple[str, Any], ...]], list[str]] = {}
        for tid, values in self.updates.items():
            groups.setdefault((self.stored[tid], tuple(sorted(values.items()))), []).append(tid)
        for (expected, items), ids in groups.items():
            if len(store_tasks.cas_many(conn, ids, expected, dict(items))) != len(ids):
                # Cannot happen while this transaction holds the write lock; if it does, the
                # decisions above were made on stale rows and none of them may be written.
                raise Conflict("tasks changed while this bulk change was being made; nothing was "
                               "changed; reload and retry")
        for (outcome, summary, _), (metadata, run_ids) in self.closes.items():
            store_runs.close_many(conn, run_ids, outcome=outcome, now=self.now, summary=summary,
                                  metadata=metadata)
        attempt_ids = store_runs.open_many(conn, self.attempts)
        store_events.append_many(self.tx, board=self.board, now=self.now, rows=[
            store_events.NewEvent(tid, kind, payload,
                                  attempt_ids[attempt] if attempt is not None else run_id, owes)
            for tid, kind, payload, run_id, attempt, owes in self.events])
        store_subs.remove_all_for_tasks(conn, self.released)
