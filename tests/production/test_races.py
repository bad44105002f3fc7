"""The same production step twice at once, in two processes, on SQLite and PostgreSQL: one effect and
one clear refusal. Each test has its control: the same race with the lock taken out shows the double
effect (or, on SQLite, the crash) the lock prevents."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from courrier.db.schema import events, inserter_results

from .conftest import add_campaign_with_pieces
from .race import race
from .test_results import printed_job


def _results_file(folder: Path, piece_ids: list[int]) -> Path:
    path = folder / "J000001.results.csv"
    path.write_text(
        "piece_id,status,time,machine\n"
        + "".join(f"{i},inserted,2026-03-12T08:00:00Z,INS-1\n" for i in piece_ids),
        encoding="utf-8",
    )
    return path


def _applied(engine) -> tuple[int, int]:
    with engine.connect() as connection:
        rows = connection.execute(
            select(func.count()).select_from(inserter_results).where(inserter_results.c.outcome == "applied")
        ).scalar_one()
        inserted = connection.execute(
            select(func.count()).select_from(events).where(events.c.type == "piece.inserted")
        ).scalar_one()
    return rows, inserted


@pytest.mark.parametrize("guard", [True, False], ids=["guarded", "control"])
def test_two_readings_of_one_results_file_apply_it_once(engine, db_url, tmp_path: Path, guard: bool):
    ids = add_campaign_with_pieces(engine, 12)
    printed_job(engine, "J000001", ids)
    path = _results_file(tmp_path, ids)
    # Guarded, the first is held with the lock taken; the control holds it inside its transaction,
    # after it read what was applied and before it writes: the moment the lock exists for.
    pause_at = "results:write_transaction" if guard else "results:move_pieces"
    first, second = race(
        db_url,
        tmp_path / "race",
        ["inserter", "results", str(path)],
        pause_at=f"courrier.production.{pause_at}",
        guard=guard,
    )
    rows, inserted = _applied(engine)
    if guard:
        assert first.code == 0, first.output
        assert second.code == 1, second.output
        assert "[step_running]" in second.output
        assert "Traceback" not in second.output
        assert (rows, inserted) == (12, 12)
    elif engine.dialect.name == "postgresql":
        # Both read "nothing applied yet" and both apply: every record counted twice (reconcile says
        # 24 inserted of 12), though the ledger refuses to move an inserted piece a second time.
        assert (first.code, second.code) == (0, 0)
        assert rows == 24
    else:
        # SQLite serialises the two transactions: the second waits for the first, held open, until the
        # busy timeout and fails ("database is locked") instead of being told the step is running.
        assert first.code == 0
        assert second.code == 1
        assert "database is locked" in second.output
        assert "[step_running]" not in second.output
