"""The application object: settings, engine, keys and, when asked for one, a Dask client.

Built once per CLI command (and, later, once per web server process) and handed to the library, so the
settings are read once, there is one connection pool, and a long-running process holds one cluster
instead of starting one per call. Each part is made on first use: a command that never composes starts
no cluster, one that never touches codes needs no key file.
"""

from __future__ import annotations

import logging
import os
from contextlib import ExitStack
from functools import cached_property
from typing import Any

from sqlalchemy import Engine

from courrier.codes.keys import Keys, load_keys
from courrier.config import Settings, load_settings
from courrier.db import make_engine, require_current
from courrier.db.engine import missing_sqlite_file
from courrier.errors import DatabaseNotMigratedError


class App:
    def __init__(
        self, settings: Settings | None = None, *, scheduler: str | None = None, workers: int | None = None
    ) -> None:
        self.settings = settings or load_settings()
        self.scheduler = scheduler
        self.workers = workers
        self._closing = ExitStack()

    @cached_property
    def database(self) -> Engine:
        """The database, whether migrated or not (for ``db upgrade``)."""
        engine = make_engine(self.settings.database_url)
        self._closing.callback(engine.dispose)
        return engine

    @cached_property
    def engine(self) -> Engine:
        """The database, checked to exist and be migrated (one-line error otherwise): looking at a
        database never creates an empty SQLite file."""
        missing = missing_sqlite_file(self.database)
        if missing is not None:
            raise DatabaseNotMigratedError(
                f"database file {missing} does not exist: run `courrier db upgrade` first"
            )
        require_current(self.database)
        return self.database

    @cached_property
    def keys(self) -> Keys:
        """The code keys from COURRIER_KEYS or the key file (one-line error when there are none)."""
        settings = self.settings
        return load_keys(settings.key_file, settings.keys_json, allow_shared=settings.allow_shared_key_file)

    @cached_property
    def dask_client(self) -> Any:
        """A ``distributed.Client``: connected to ``scheduler`` when given, else to a local cluster of
        ``workers`` processes (one per core by default) that lives as long as the app."""
        from distributed import Client

        quiet_dask()
        if self.scheduler:
            return self._closing.enter_context(Client(self.scheduler))  # type: ignore[no-untyped-call]
        cluster = self._closing.enter_context(local_cluster(self.workers))
        return self._closing.enter_context(Client(cluster))  # type: ignore[no-untyped-call]

    def close(self) -> None:
        """Close the client, the cluster and the connection pool, in that order."""
        self._closing.close()

    def __enter__(self) -> App:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


def quiet_dask() -> None:
    """Keep Dask's own chatter off the user's terminal: a command's stderr is ours (progress, one-line
    errors). Dask warns when a job's records make a large task ("Sending large graph ... may cause some
    slowdown"): measured and accepted (docs/production.md), nothing a user can act on. Its nannies' and
    workers' warnings are silenced in the cluster (``local_cluster``); errors still show."""
    import warnings

    warnings.filterwarnings("ignore", message="Sending large graph", category=UserWarning)


def local_cluster(workers: int | None = None) -> Any:
    """An embedded Dask cluster: one single-threaded worker process per core (composing is CPU-bound
    Python). The scheduler, the workers, their nannies and the dashboard listen on 127.0.0.1 only, on
    free ports: Dask's HTTP server has no authentication, and the workers hold records with names and
    addresses."""
    from distributed import LocalCluster

    return LocalCluster(  # type: ignore[no-untyped-call]
        n_workers=workers or os.cpu_count() or 1,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address="127.0.0.1:0",
        # Warnings of the scheduler, the nannies and the workers (a slow tick, a worker killed at close)
        # are for a Dask operator, not for the user of a command; errors still show.
        silence_logs=logging.ERROR,
    )
