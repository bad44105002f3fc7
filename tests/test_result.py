"""Results that cross the library's edge have one JSON shape: ``to_json()``."""

from __future__ import annotations

import ast
import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

import courrier
from courrier.result import Result, plain

CLI = Path(courrier.__file__).parent / "cli"


@dataclass(frozen=True)
class _Inner:
    day: dt.date


@dataclass(frozen=True)
class _Outer(Result):
    name: str
    at: dt.datetime
    where: Path
    inner: _Inner
    items: tuple[int, ...]
    tags: frozenset[str]
    counts: dict[int, int] = field(default_factory=dict)


def test_to_json_makes_every_field_plain():
    outer = _Outer(
        "x",
        dt.datetime(2026, 3, 12, 8, 30, tzinfo=dt.UTC),
        Path("/tmp/a"),
        _Inner(dt.date(2026, 1, 2)),
        (1, 2),
        frozenset({"b", "a"}),
        {1: 2},
    )
    assert outer.to_json() == {
        "name": "x",
        "at": "2026-03-12T08:30:00+00:00",
        "where": "/tmp/a",
        "inner": {"day": "2026-01-02"},
        "items": [1, 2],
        "tags": ["a", "b"],
        "counts": {"1": 2},
    }
    assert plain([outer]) == [outer.to_json()]


def test_the_cli_prints_results_through_to_json_only():
    """No command turns a result into JSON its own way (asdict, __dict__, .as_dict(), .counts())."""
    found = []
    for path in sorted(CLI.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Name) and node.id == "asdict":
                found.append(f"{path.name}:{node.lineno} asdict")
            if isinstance(node, ast.Attribute) and node.attr in {"__dict__", "as_dict", "counts"}:
                found.append(f"{path.name}:{node.lineno} .{node.attr}")
    assert found == []
