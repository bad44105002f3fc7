"""One SQLite writer at a time across the server's workers, queued by the kernel instead of SQLite.

SQLite lets one transaction write at a time. A ``BEGIN IMMEDIATE`` that finds the write lock taken does
not wait on the lock: its busy handler sleeps and retries (1, 2, 5, 10 ... 100 ms). On the event loop of
a server worker that sleep stalls every request of the worker, and in an opening rush two workers' booking
transactions meet hundreds of times a second. So each write transaction of the server first takes an
exclusive ``flock`` on a file beside the database (and a thread lock, since ``flock`` does not exclude
threads of one process); a waiting worker is woken the moment the other's transaction ends, and then
finds SQLite's lock free. The lock is held from the transaction's ``BEGIN`` until its connection goes
back to the pool (the end of :func:`~courrier.db.transaction.write_transaction`).

Processes that do not take the lock (a CLI command writing meanwhile) are still queued by SQLite's busy
timeout, as before: the lock only orders the server's own writers.
"""

from __future__ import annotations

import fcntl
import os
import threading
from typing import Any

from sqlalchemy import Connection, Engine, event

from courrier.db.transaction import WRITE_OPTION


class WriterLock:
    def __init__(self, path: str) -> None:
        self._thread_lock = threading.Lock()
        self._fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)

    def acquire(self) -> None:
        self._thread_lock.acquire()
        try:
            fcntl.flock(self._fd, fcntl.LOCK_EX)
        except BaseException:
            self._thread_lock.release()
            raise

    def release(self) -> None:
        fcntl.flock(self._fd, fcntl.LOCK_UN)
        self._thread_lock.release()


def serialise_writers(engine: Engine) -> None:
    """Make ``engine``'s write transactions take the writer lock (SQLite files only; nothing otherwise)."""
    database = engine.url.database
    if engine.dialect.name != "sqlite" or not database or database.startswith((":memory:", "file:")):
        return
    lock = WriterLock(database + "-writer.lock")
    # A connection is used by one thread from its checkout to its checkin: the thread says who holds the
    # lock (the pool record's info is cleared when a connection is invalidated).
    held = threading.local()

    def begin(connection: Connection) -> None:
        if connection.get_execution_options().get(WRITE_OPTION) and not getattr(held, "lock", False):
            lock.acquire()
            held.lock = True

    def checkin(_dbapi_connection: Any, _record: Any) -> None:
        if getattr(held, "lock", False):
            held.lock = False
            lock.release()

    # Before engine.py's own "begin" listener, which sends BEGIN IMMEDIATE.
    event.listen(engine, "begin", begin, insert=True)
    event.listen(engine.pool, "checkin", checkin)
