"""COMMIT on PostgreSQL when the connection is lost while it runs.

A connection that drops during COMMIT leaves the client not knowing whether the transaction
committed: the server may have made it durable and died (or lost the network) before answering.
Running the transaction again could then make the change twice (a second task, a second
completion). So before COMMIT the transaction's id is read (``pg_current_xact_id_if_assigned``,
in the statement that takes the event-order lock when the transaction writes events, else on
its own), and after a lost COMMIT a new connection asks
``pg_xact_status`` what became of it: committed (the caller is told it succeeded), aborted (the
original transient error is raised, and a retry is safe), or, when the server cannot be asked
in time, :class:`~agentkanban.errors.CommitOutcomeUnknown`, which nobody retries blindly.

SQLite needs none of this: its COMMIT is a local call that either returns or raises, with the
file telling the truth to the next reader.
"""

from __future__ import annotations

import logging
import time

from sqlalchemy import Connection, Engine, RootTransaction, exc, text

from ..errors import CommitOutcomeUnknown
from . import transient

log = logging.getLogger(__name__)

_XID = text("SELECT pg_current_xact_id_if_assigned()::text")
_STATUS = text("SELECT pg_xact_status(CAST(:xid AS xid8))")
# How often the status is asked again while the old session still holds the transaction open.
_POLL_SECONDS = 0.1


def commit(engine: Engine, conn: Connection, trans: RootTransaction, *,
           check_seconds: float, xid: str | None = None) -> None:
    """Commit ``trans``; on PostgreSQL a COMMIT whose answer was lost is looked up (see module).
    ``xid``: the transaction's id when a statement of it already read it (the event-order lock
    does, so most writes need no query of their own here)."""
    if engine.dialect.name != "postgresql":
        trans.commit()
        return
    if xid is None:
        xid = conn.execute(_XID).scalar()
    try:
        trans.commit()
    except exc.DBAPIError as err:
        if xid is None or not transient.is_transient(err):
            raise  # nothing was written, or the server refused the commit itself: no doubt
        status = outcome(engine, str(xid), check_seconds=check_seconds)
        if status == "committed":
            log.warning("the connection was lost during COMMIT of transaction %s, which the "
                        "database reports committed", xid)
            return
        if status == "aborted":
            raise
        raise CommitOutcomeUnknown(
            f"the connection to the database was lost during COMMIT (transaction {xid}) and "
            "the database could not be asked whether it committed; the change may or may not "
            "have been made: look before trying again") from err


def outcome(engine: Engine, xid: str, *, check_seconds: float) -> str | None:
    """``committed`` or ``aborted`` as a new connection sees it, or None when that could not
    be learnt within ``check_seconds`` (the server stayed down, or the id is too old)."""
    give_up = time.monotonic() + check_seconds
    while True:
        try:
            with transient.connect(engine, deadline_seconds=max(0.0, give_up - time.monotonic())
                                   ) as conn:
                status = conn.execute(_STATUS, {"xid": xid}).scalar()
        except exc.DBAPIError as err:
            if not transient.is_transient(err):
                return None
            status = "unreachable"
        if status in ("committed", "aborted"):
            return str(status)
        if status is None or time.monotonic() + _POLL_SECONDS > give_up:
            return None  # too old to be known, or the server stayed out of reach
        time.sleep(_POLL_SECONDS)  # "in progress": the old session has not ended yet
