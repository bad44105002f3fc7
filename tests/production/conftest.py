"""A campaign with a wave of planned pieces, inserted directly, for the production tests."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import Engine, Select, Table, select, text

from courrier.db.schema import (
    campaigns,
    metadata,
    persons,
    pieces,
    register_imports,
    template_versions,
    waves,
)

AT = dt.datetime(2026, 3, 12, 8, 0, tzinfo=dt.UTC)


def add_campaign_with_pieces(
    engine: Engine, count: int, *, countries: tuple[str, ...] = ("LU",)
) -> list[int]:
    """Persons, a campaign and a wave with one planned piece each; returns the piece ids."""
    with engine.begin() as connection:
        import_id = connection.execute(
            register_imports.insert().values(
                file_name="t.csv",
                file_sha256="0" * 64,
                source="rnpp",
                started_at=AT,
                finished_at=AT,
                chunk_rows=1,
                chunks_done=1,
                rows_read=count,
                inserted=count,
                updated=0,
                unchanged=0,
                rejected=0,
            )
        ).inserted_primary_key[0]
        connection.execute(
            persons.insert(),
            [
                {
                    "national_id": f"{1950000000000 + n}",
                    "source": "rnpp",
                    "family_name": f"Family{n}",
                    "given_names": "Anna",
                    "birth_date": dt.date(1950, 1, 1),
                    "sex": "F",
                    "language": "fr",
                    "care_of": "",
                    "house_number": str(n % 40 + 1),
                    "street": "rue de la Gare",
                    "postcode": "L-1234" if countries[n % len(countries)] == "LU" else "57100",
                    "locality": "Luxembourg",
                    "country": countries[n % len(countries)],
                    "commune": "",
                    "deceased": False,
                    "address_unknown": False,
                    "last_import_id": import_id,
                    "imported_at": AT,
                    "changed_at": AT,
                    "changed_fields": "",
                }
                for n in range(count)
            ],
        )
        version = connection.execute(
            template_versions.insert().values(path="t", sha256="1" * 64, created_at=AT)
        ).inserted_primary_key[0]
        campaign = connection.execute(
            campaigns.insert().values(
                name="test",
                kind="invitation",
                definition="",
                template_version_id=version,
                languages="fr",
                validity_days=14,
                max_uses=2,
                qr_content="https://x/{code}",
                qr_signed=False,
                created_at=AT,
            )
        ).inserted_primary_key[0]
        wave = connection.execute(
            waves.insert().values(campaign_id=campaign, number=1, size=count, state="planned", created_at=AT)
        ).inserted_primary_key[0]
        person_ids = [row[0] for row in connection.exec_driver_sql("SELECT id FROM persons ORDER BY id")]
        connection.execute(
            pieces.insert(),
            [
                {
                    "campaign_id": campaign,
                    "wave_id": wave,
                    "person_id": person_id,
                    "sequence": n,
                    "reissue_number": 0,
                    "state": "planned",
                    "created_at": AT,
                    "updated_at": AT,
                }
                for n, person_id in enumerate(person_ids)
            ],
        )
        return [row[0] for row in connection.exec_driver_sql("SELECT id FROM pieces ORDER BY id")]


@pytest.fixture
def planned_pieces(engine: Engine) -> list[int]:
    return add_campaign_with_pieces(engine, 6)


def add_job(engine: Engine, name: str, piece_ids: list[int], *, reprint_of: int | None = None) -> int:
    """A composed job holding ``piece_ids`` (moved to composed), as `courrier compose` leaves it."""
    from courrier.db.schema import job_pieces, print_jobs
    from courrier.ledger.pieces import move_pieces
    from courrier.production.jobs import add_job as add_planned_job

    count = len(piece_ids)
    with engine.begin() as connection:
        campaign_id, wave_id, version = connection.exec_driver_sql(
            "SELECT campaign_id, wave_id, template_version_id"
            " FROM pieces JOIN campaigns ON campaigns.id = campaign_id"
        ).first()
        job_id = add_planned_job(
            connection,
            name=name,
            campaign_id=campaign_id,
            template_version_id=version,
            wave_id=wave_id,
            domestic=True,
            folder="jobs",
            placements=[(piece_id, "L-1234") for piece_id in piece_ids],
            now=AT,
            reprint_of=reprint_of,
        )
        # What composing records: one page, one sheet a letter, the country it is addressed to.
        addressed_to = (
            select(persons.c.country)
            .join(pieces, pieces.c.person_id == persons.c.id)
            .where(pieces.c.id == job_pieces.c.piece_id)
            .scalar_subquery()
        )
        connection.execute(
            job_pieces.update()
            .where(job_pieces.c.job_id == job_id)
            .values(pages=1, sheets=1, country=addressed_to)
        )
        connection.execute(
            print_jobs.update()
            .where(print_jobs.c.id == job_id)
            .values(state="composed", sheets=count, pages=count)
        )
        move_pieces(connection, piece_ids, "composed", actor="test", at=AT)
    return job_id


@pytest.fixture(scope="session")
def dask_scheduler(dask_client: Any) -> str:
    """The address of the session's LocalCluster (the `dask_client` fixture's), for the tests that compose
    many times through `courrier compose --scheduler` (starting a cluster costs seconds each time, and a
    second one per pytest worker would cost two more worker processes on the suite's two cores)."""
    return str(dask_client.cluster.scheduler_address)


@pytest.fixture(scope="session", autouse=True)
def _step_runs() -> Iterator[None]:
    """Ends the race tests' fork server (race.py) at the end of the session, if a test started it."""
    yield
    from .race import close_server

    close_server()


# --- a database made once per session, restored for each test that asks for it ---


@dataclass(frozen=True)
class Snapshot:
    """Every row of every table, and PostgreSQL's sequence positions, as a fixture's setup left them."""

    rows: dict[str, list[dict[str, Any]]]
    sequences: list[tuple[str, str, int]]


_SNAPSHOTS: dict[tuple[str, str], tuple[Snapshot, Any]] = {}


def _in_key_order(table: Table) -> Select[Any]:
    """The table's rows by primary key (all columns without one): PostgreSQL returns an updated row
    from wherever its new version went, so a plain scan's order differs between equal tables."""
    key = list(table.primary_key.columns) or list(table.columns)
    return table.select().order_by(*key)


def take_snapshot(engine: Engine) -> Snapshot:
    with engine.connect() as connection:
        rows = {
            table.name: [dict(row._mapping) for row in connection.execute(_in_key_order(table))]
            for table in metadata.sorted_tables
        }
        sequences: list[tuple[str, str, int]] = []
        if engine.dialect.name == "postgresql":
            sequences = [
                (str(schema), str(name), int(value))
                for schema, name, value in connection.execute(
                    text(
                        "SELECT schemaname, sequencename, last_value FROM pg_sequences"
                        " WHERE last_value IS NOT NULL"
                    )
                )
            ]
    return Snapshot(rows=rows, sequences=sequences)


def restore_snapshot(engine: Engine, snapshot: Snapshot) -> None:
    """The snapshot's rows put back into an empty database (the `engine` fixture's), the same ids and
    values; on PostgreSQL each sequence where it was, so the next ids are the same too."""
    with engine.begin() as connection:
        for table in metadata.sorted_tables:  # parents before the tables that refer to them
            if snapshot.rows[table.name]:
                connection.execute(table.insert(), snapshot.rows[table.name])
        for schema, name, value in snapshot.sequences:
            connection.execute(
                text(
                    "SELECT setval(format('%I.%I', CAST(:schema AS text), CAST(:name AS text)),"
                    " CAST(:value AS bigint))"
                ),
                {"schema": schema, "name": name, "value": value},
            )


def made_once_per_session(engine: Engine, name: str, make: Callable[[], Any]) -> Any:
    """``make()`` (which fills the empty database of ``engine`` and returns a value, its keys say) run
    once per pytest worker and database kind; later tests get its rows restored and the same value.
    For setups that cost seconds (a register imported, a campaign planned, codes issued)."""
    key = (name, engine.dialect.name)
    if key not in _SNAPSHOTS:
        value = make()
        _SNAPSHOTS[key] = (take_snapshot(engine), value)
        return value
    snapshot, value = _SNAPSHOTS[key]
    restore_snapshot(engine, snapshot)
    return value
