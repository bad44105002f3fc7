"""Seeded mutants of a valid input file, for the fuzz tests of every command that reads one: truncations,
byte flips, insertions of the bytes parsers trip on, deletions, a line doubled. A seed gives the same
mutants on every machine, so a failure names its case and can be replayed."""

from __future__ import annotations

import random
import re
from typing import Any

from courrier.catalogue import CATALOGUE

# What a CSV, TOML or JSON parser trips on: separators, quotes, brackets, NUL, a lone CR, bytes that
# are not UTF-8 or start a multi-byte character, digits.
_ALPHABET = b",;\n\r\"'\0 9\xff\xc3\xa9-=[]{}:#\\" + bytes(range(48, 58))
_ONE_LINE_ERROR = re.compile(r"^Error: .+ \[(?P<code>[a-z][a-z0-9_]*)\]$")


def mutations(valid: bytes, seed: int, count: int) -> list[bytes]:
    """``count`` mutants of ``valid``, each one to four edits away from it."""
    rnd = random.Random(seed)
    found = []
    for _ in range(count):
        data = bytearray(valid)
        for _ in range(rnd.randint(1, 4)):
            kind = rnd.randrange(5)
            at = rnd.randrange(len(data) + 1)
            if kind == 0:
                data = data[: rnd.randrange(len(data) + 1)]
            elif kind == 1 and data:
                data[min(at, len(data) - 1)] = rnd.randrange(256)
            elif kind == 2:
                data[at:at] = bytes(rnd.choice(_ALPHABET) for _ in range(rnd.randint(1, 8)))
            elif kind == 3:
                del data[at : at + rnd.randint(1, 10)]
            else:
                lines = bytes(data).split(b"\n")
                line = rnd.choice(lines)
                data = bytearray(b"\n".join([*lines, line]))
        found.append(bytes(data))
    return found


def assert_exit_or_one_line(result: Any, case: object) -> None:
    """A CLI answer to hostile input: exit 0, or exit 1 with one line naming a catalogued code; never a
    traceback, never an exception escaping click."""
    output = result.output
    exception = result.exception if not isinstance(result.exception, SystemExit) else None
    assert exception is None, (case, output, repr(exception))
    assert result.exit_code in (0, 1), (case, result.exit_code, output)
    assert "Traceback" not in output, (case, output)
    if result.exit_code == 1:
        last = output.rstrip("\n").splitlines()[-1] if output.strip() else ""
        match = _ONE_LINE_ERROR.match(last)
        if match is None:  # `template check` exits 1 listing its problems, one line each, with codes
            assert re.search(r"\[(?:note: )?[a-z][a-z0-9_]*\]$", last), (case, output)
            return
        assert match["code"] in CATALOGUE, (case, match["code"])


def database_snapshot(engine: Any) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, in primary-key order: equal snapshots mean nothing was written."""
    from sqlalchemy import select

    from courrier.db.schema import metadata

    with engine.connect() as connection:
        return {
            table.name: [
                tuple(row) for row in connection.execute(select(table).order_by(*table.primary_key.columns))
            ]
            for table in metadata.sorted_tables
        }
