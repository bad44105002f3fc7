"""No module outside ``ledger/`` writes ``pieces.state``, ``codes.uses``, ``codes.status`` or ``events``.

The source is searched: statements built on those tables (``pieces.update().values(state=...)``, any
write to ``events``), the bulk helpers given them, and raw SQL that names them.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import courrier

SOURCE = Path(courrier.__file__).parent
GUARDED = {"pieces": {"state"}, "codes": {"uses", "status"}, "events": None}  # None: every column
BULK = {"bulk_insert", "bulk_execute", "update_where_in"}
RAW = re.compile(r"\b(UPDATE|INSERT\s+INTO|DELETE\s+FROM)\s+(pieces|codes|events)\b", re.IGNORECASE)


def _table_of_statement(node: ast.AST) -> str | None:
    """``pieces`` for ``pieces.update()...``, ``pieces.insert()...`` and the calls chained on them."""
    while isinstance(node, ast.Call | ast.Attribute):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in {"update", "insert", "delete"}
            and isinstance(node.func.value, ast.Name)
        ):
            return node.func.value.id
        node = node.func if isinstance(node, ast.Call) else node.value
    return None


def _keys(node: ast.AST) -> set[str]:
    """Column names written by a call: its keyword arguments and the string keys of dicts in it."""
    keys = {keyword.arg for keyword in getattr(node, "keywords", []) if keyword.arg}
    for inner in ast.walk(node):
        if isinstance(inner, ast.Dict):
            keys |= {key.value for key in inner.keys if isinstance(key, ast.Constant)}
    return keys


def _writes(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and RAW.search(node.value):
            found.append(f"{path.name}:{node.lineno} raw SQL {node.value[:40]!r}")
        if not isinstance(node, ast.Call):
            continue
        table = None
        if isinstance(node.func, ast.Attribute) and node.func.attr in {"values", "delete"}:
            table = _table_of_statement(node.func.value)
        elif isinstance(node.func, ast.Attribute) and node.func.attr in {"update", "insert", "delete"}:
            table = node.func.value.id if isinstance(node.func.value, ast.Name) else None
            if table != "events":
                continue  # judged by the .values() that follows
        elif isinstance(node.func, ast.Name) and node.func.id in BULK and len(node.args) > 1:
            table = node.args[1].id if isinstance(node.args[1], ast.Name) else None
        if table not in GUARDED:
            continue
        columns = GUARDED[table]
        written = _keys(node)
        if columns is None or written & columns:
            found.append(f"{path.relative_to(SOURCE)}:{node.lineno} writes {table} {sorted(written)}")
    return found


def test_only_the_ledger_writes_states_uses_and_events():
    outside = [
        path
        for path in sorted(SOURCE.rglob("*.py"))
        if path.relative_to(SOURCE).parts[0] != "ledger" and "migrations" not in path.parts
    ]
    assert [write for path in outside for write in _writes(path)] == []


def test_the_search_finds_a_write_when_there_is_one(tmp_path: Path):
    sample = tmp_path / "sample.py"
    sample.write_text(
        "connection.execute(pieces.update().where(pieces.c.id == 1).values(state='posted'))\n"
        "connection.execute(codes.update().values(uses=codes.c.uses + 1))\n"
        "connection.execute(events.insert().values(type='x'))\n"
        "bulk_insert(connection, events, rows)\n"
        "update_where_in(connection, pieces, pieces.c.id, ids, {'state': 'composed'})\n"
        "connection.exec_driver_sql('UPDATE codes SET uses = 0')\n"
        "connection.execute(pieces.update().values(code_id=3))\n",  # not guarded: no finding
        encoding="utf-8",
    )
    global SOURCE
    saved, SOURCE = SOURCE, tmp_path
    try:
        lines = {int(found.split(":")[1].split()[0]) for found in _writes(sample)}
        assert lines == {1, 2, 3, 4, 5, 6}
    finally:
        SOURCE = saved
