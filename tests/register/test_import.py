"""Importing register extracts, on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from sqlalchemy import func, select

from courrier.db.schema import persons, register_imports
from courrier.errors import InputFileError
from courrier.register.generate import DEFECT_KINDS, generate_register
from courrier.register.load import import_register

from .conftest import HEADER, person_row

UNICODE_NAMES = [
    "Müller",
    "Gonçalves",
    "Ngô",
    "Łukasz",
    "O'Brien-Fernández",
    "Øystein",
    "Ağaoğlu",
    "Ζωή",
    "Фёдор",
]


def all_persons(engine) -> list[dict[str, object]]:
    volatile = {"id", "last_import_id", "imported_at", "changed_at"}
    with engine.connect() as connection:
        rows = connection.execute(select(persons).order_by(persons.c.national_id)).mappings()
        return [{key: value for key, value in row.items() if key not in volatile} for row in rows]


def count_persons(engine) -> int:
    with engine.connect() as connection:
        return int(connection.execute(select(func.count()).select_from(persons)).scalar_one())


def read_rejects(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as file:
        return list(csv.DictReader(file))


def test_import_inserts_then_finds_nothing_changed(engine, write_csv):
    path = write_csv([person_row(n) for n in range(25)])
    first = import_register(engine, path)
    assert first.to_json() == {"read": 25, "inserted": 25, "updated": 0, "unchanged": 0, "rejected": 0}
    again = import_register(engine, path)
    assert again.to_json() == {"read": 25, "inserted": 0, "updated": 0, "unchanged": 25, "rejected": 0}
    assert count_persons(engine) == 25


def test_a_later_extract_wins_and_says_what_changed(engine, write_csv):
    import_register(engine, write_csv([person_row(1), person_row(2)], "first.csv"))
    moved = person_row(1, street="rue Neuve", house_number="3", postcode="4001", locality="Esch-sur-Alzette")
    summary = import_register(engine, write_csv([moved, person_row(2), person_row(3)], "second.csv"))
    assert summary.to_json() == {"read": 3, "inserted": 1, "updated": 1, "unchanged": 1, "rejected": 0}
    with engine.connect() as connection:
        row = connection.execute(select(persons).where(persons.c.national_id == moved["national_id"])).one()
    assert (row.street, row.postcode, row.commune) == ("rue Neuve", "L-4001", "Esch-sur-Alzette")
    assert set(row.changed_fields.split(",")) == {"house_number", "street", "postcode", "locality", "commune"}


def test_a_new_address_clears_address_unknown(engine, write_csv):
    import_register(engine, write_csv([person_row(1)], "first.csv"))
    with engine.begin() as connection:
        connection.execute(persons.update().values(address_unknown=True))
    import_register(engine, write_csv([person_row(1, care_of="c/o Weber")], "second.csv"))
    with engine.connect() as connection:
        assert connection.execute(select(persons.c.address_unknown)).scalar_one() is False


def test_duplicate_id_keeps_the_first_row(engine, write_csv, tmp_path):
    first = person_row(1, family_name="First")
    later = person_row(1, family_name="Later")
    # Across chunks too: chunk_rows=2 puts the two copies in different transactions.
    path = write_csv(
        [first, person_row(2), person_row(3), later, person_row(4, family_name="Dup"), person_row(4)]
    )
    summary = import_register(engine, path, chunk_rows=2)
    assert summary.to_json()["rejected"] == 2
    assert summary.to_json()["inserted"] == 4
    with engine.connect() as connection:
        names = dict(connection.execute(select(persons.c.national_id, persons.c.family_name)).all())
    assert names[first["national_id"]] == "First"
    assert names[person_row(4)["national_id"]] == "Dup"
    rejects = read_rejects(tmp_path / "register.rejects.csv")
    assert [(r["line"], r["field"]) for r in rejects] == [("5", "national_id"), ("7", "national_id")]


def test_unicode_names_survive_the_round_trip(engine, write_csv):
    rows = [person_row(n, family_name=name, given_names=name) for n, name in enumerate(UNICODE_NAMES)]
    import_register(engine, write_csv(rows))
    stored = {row["family_name"] for row in all_persons(engine)}
    assert stored == set(UNICODE_NAMES)


def test_semicolons_and_a_bom_as_spreadsheets_export(engine, write_csv):
    path = write_csv([person_row(1, family_name="Gonçalves")], delimiter=";", encoding="utf-8-sig")
    assert import_register(engine, path).to_json()["inserted"] == 1
    assert all_persons(engine)[0]["family_name"] == "Gonçalves"


def test_extra_columns_are_ignored_and_named(engine, write_csv):
    path = write_csv([person_row(1) | {"remarks": "x", "tax_class": "1"}])
    summary = import_register(engine, path)
    assert summary.extra_columns == ("remarks", "tax_class")
    assert summary.to_json()["inserted"] == 1


def test_a_source_column_overrides_the_default(engine, write_csv):
    path = write_csv([person_row(1) | {"source": "ccss"}, person_row(2) | {"source": ""}])
    import_register(engine, path, source="rnpp")
    assert sorted(row["source"] for row in all_persons(engine)) == ["ccss", "rnpp"]


def test_parquet_with_typed_columns(engine, tmp_path):
    rows = [person_row(1, family_name="Ngô"), person_row(2)]
    table = pa.table(
        {name: [row[name] for row in rows] for name in HEADER if name not in ("birth_date", "deceased")}
        | {
            "birth_date": pa.array([dt.date.fromisoformat(row["birth_date"]) for row in rows], pa.date32()),
            "deceased": pa.array([False, True]),
        }
    )
    path = tmp_path / "register.parquet"
    pq.write_table(table, path)
    assert import_register(engine, path).to_json()["inserted"] == 2
    stored = all_persons(engine)
    assert {row["family_name"] for row in stored} == {"Ngô", "Family2"}
    assert sorted(row["deceased"] for row in stored) == [False, True]


@pytest.mark.parametrize(
    ("content", "code"),
    [
        (b"national_id,family_name\n1,2\n", "missing_columns"),
        (b"", "empty_file"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "not_csv_or_parquet"),
        (b"PAR1 this is no parquet file", "not_csv_or_parquet"),
        (b"just some words\nin a text file\n", "not_csv_or_parquet"),
    ],
)
def test_a_file_that_cannot_be_read_changes_nothing(engine, tmp_path, content, code):
    path = tmp_path / "bad.csv"
    path.write_bytes(content)
    with pytest.raises(InputFileError) as caught:
        import_register(engine, path)
    assert caught.value.code == code
    with engine.connect() as connection:
        assert connection.execute(select(func.count()).select_from(register_imports)).scalar_one() == 0


def test_a_latin1_file_is_refused_as_not_utf8(engine, write_csv):
    rows = [person_row(n, family_name="Müller", locality="Pétange", postcode="4701") for n in range(30)]
    path = write_csv(rows, encoding="latin-1")
    with pytest.raises(InputFileError) as caught:
        import_register(engine, path)
    assert caught.value.code == "not_utf8"
    assert count_persons(engine) == 0


def test_a_row_with_the_wrong_number_of_fields_is_rejected(engine, tmp_path):
    path = tmp_path / "ragged.csv"
    good = person_row(1)
    lines = [",".join(HEADER), ",".join(good[name] for name in HEADER), "1983071404213,Short,Row"]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    summary = import_register(engine, path)
    assert summary.to_json()["rejected"] == 1
    assert read_rejects(path.with_name("ragged.rejects.csv"))[0]["line"] == "3"


def test_every_planted_defect_is_caught(engine, tmp_path):
    path = tmp_path / "planted.csv"
    planted = generate_register(path, people=3000, cross_border=400, seed=7, bad_rows=0.03)
    assert set(planted) == set(DEFECT_KINDS)
    summary = import_register(engine, path)
    # Stray whitespace is normalised, not rejected; every other defect rejects its row.
    assert summary.to_json()["rejected"] == sum(planted.values()) - planted["stray_whitespace"]
    fields = {row["field"] for row in read_rejects(tmp_path / "planted.rejects.csv")}
    assert {"birth_date", "national_id", "postcode", "street", "locality"} <= fields
    with engine.connect() as connection:
        untidy = connection.execute(
            select(func.count()).select_from(persons).where(persons.c.family_name.like(" %"))
        ).scalar_one()
    assert untidy == 0


def test_an_interrupted_import_resumes_to_the_same_state(engine, db_url, tmp_path):
    path = tmp_path / "register.csv"
    generate_register(path, people=900, cross_border=100, seed=3, bad_rows=0.02)

    class ImportInterruptedError(Exception):
        pass

    def stop_after_four_chunks(rows: int) -> None:
        if rows >= 400:
            raise ImportInterruptedError

    with pytest.raises(ImportInterruptedError):
        import_register(engine, path, chunk_rows=100, on_progress=stop_after_four_chunks)
    assert 0 < count_persons(engine) < 1000
    resumed = import_register(engine, path, chunk_rows=100)
    assert resumed.resumed

    reference_engine_url = tmp_path / "reference.db"
    from courrier.db import make_engine, upgrade

    reference = make_engine(f"sqlite:///{reference_engine_url}")
    upgrade(reference)
    uninterrupted = import_register(
        reference, path, chunk_rows=100, rejects_path=tmp_path / "ref.rejects.csv"
    )
    assert resumed.to_json() == uninterrupted.to_json()
    assert all_persons(engine) == all_persons(reference)
    assert read_rejects(resumed.rejects_path) == read_rejects(tmp_path / "ref.rejects.csv")
    reference.dispose()
