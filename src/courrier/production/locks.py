"""One production step at a time: the lock a compose of a wave, a reprint or a results file takes.

Two operators in two terminals, or a command started again while the first still runs, must give one
effect and one clear refusal, not a double one. Each step inserts a row named after what it works on
(``compose:wave:12``, ``reprint:campaign:3``, ``results:job:41``) into ``step_locks`` before it reads
anything, in a transaction of its own, and deletes it when it ends. The primary key makes the second
insert fail, on SQLite and PostgreSQL alike, and the second step is refused with ``step_running``, naming
who holds it. A long compose holds no database transaction open (SQLite would block every writer).

A process killed with SIGKILL leaves its row. The row names its host and pid: on the same host, a pid
that no longer runs is taken over. A lock held from another host is never broken automatically: the
refusal names the host and pid, and the row can be deleted once that process is known to be dead.
"""

from __future__ import annotations

import datetime as dt
import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine, delete, select
from sqlalchemy.exc import IntegrityError, OperationalError

from courrier.db import write_transaction
from courrier.db.schema import step_locks
from courrier.db.types import utcnow
from courrier.errors import ConflictError


@contextmanager
def step_lock(engine: Engine, name: str, *, actor: str, what: str) -> Iterator[None]:
    """Hold the lock ``name`` while the block runs; ``what`` says in a refusal what is running."""
    host, pid = socket.gethostname(), os.getpid()
    _acquire(engine, name, host, pid, actor, what)
    try:
        yield
    finally:
        with write_transaction(engine) as connection:
            connection.execute(
                delete(step_locks).where(
                    step_locks.c.name == name, step_locks.c.host == host, step_locks.c.pid == pid
                )
            )


def _acquire(engine: Engine, name: str, host: str, pid: int, actor: str, what: str) -> None:
    try:
        _try_acquire(engine, name, host, pid, actor, what)
    except OperationalError as error:
        # SQLite: another write held the database longer than the busy timeout (30 s).
        if "locked" not in str(error.orig):
            raise
        raise ConflictError(
            f"{what} could not start: the database is busy with another write; try again",
            code="database_busy",
        ) from None


def _try_acquire(engine: Engine, name: str, host: str, pid: int, actor: str, what: str) -> None:
    for _attempt in range(3):
        try:
            with write_transaction(engine) as connection:
                connection.execute(
                    step_locks.insert().values(
                        name=name, host=host, pid=pid, actor=actor, acquired_at=utcnow()
                    )
                )
            return
        except IntegrityError:
            pass
        with write_transaction(engine) as connection:
            held = connection.execute(select(step_locks).where(step_locks.c.name == name)).one_or_none()
            if held is None:
                continue  # released meanwhile
            if held.host == host and not process_running(int(held.pid)):
                # Left by a process that was killed: take it over.
                connection.execute(
                    delete(step_locks).where(step_locks.c.name == name, step_locks.c.pid == held.pid)
                )
                continue
        raise ConflictError(
            _refusal(what, held.host, int(held.pid), held.actor, held.acquired_at), code="step_running"
        )
    raise ConflictError(f"{what} could not be started: its lock keeps changing hands", code="step_running")


def _refusal(what: str, host: str, pid: int, actor: str, since: dt.datetime) -> str:
    return (
        f"{what} is already running (by {actor}, pid {pid} on {host}, since {since:%Y-%m-%d %H:%M:%S} UTC): "
        "wait for it to finish"
    )


def process_running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
