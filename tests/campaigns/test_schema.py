from __future__ import annotations

from sqlalchemy import inspect

from courrier.db.schema import metadata

TABLES = ("template_versions", "campaigns", "waves", "codes", "pieces", "events")


def test_migration_0002_creates_the_schema_with_its_constraint_names(engine):
    inspector = inspect(engine)
    for name in TABLES:
        table = metadata.tables[name]
        assert {c["name"] for c in inspector.get_columns(name)} == {c.name for c in table.columns}
        unique = {u["name"] for u in inspector.get_unique_constraints(name)}
        assert unique == {c.name for c in table.constraints if c.__class__.__name__ == "UniqueConstraint"}
        foreign = {f["name"] for f in inspector.get_foreign_keys(name)}
        assert foreign == {f.name for f in table.foreign_key_constraints}, name
        indexes = {i["name"] for i in inspector.get_indexes(name) if not i.get("duplicates_constraint")}
        assert indexes >= {i.name for i in table.indexes}, name
