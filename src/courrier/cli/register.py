"""``courrier register``: import, generate and count the population register."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import click

from courrier.cli.common import echo_json, json_option, open_database
from courrier.country import REGISTER_SOURCES
from courrier.register.generate import AS_OF, generate_register
from courrier.register.load import DEFAULT_CHUNK_ROWS, import_register
from courrier.register.rows import COLUMNS
from courrier.register.stats import register_stats

_TOP_COMMUNES = 10
_EXISTING_FILE = click.Path(exists=True, dir_okay=False, path_type=Path)


@click.group()
def register() -> None:
    """The population register: import extracts, generate synthetic ones, count."""


@register.command("import")
@click.argument("file", type=_EXISTING_FILE)
@click.option(
    "--source",
    type=click.Choice(REGISTER_SOURCES),
    default="rnpp",
    show_default=True,
    help="Where the extract comes from: rnpp (residents) or ccss (cross-border workers). A `source` "
    "column, when present, overrides it row by row.",
)
@click.option(
    "--rejects",
    "rejects_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Where to write the reject report (CSV: line, national_id, field, reason). "
    "Default: FILE's name with .rejects.csv, beside it.",
)
@click.option(
    "--chunk-rows",
    type=click.IntRange(min=1),
    default=DEFAULT_CHUNK_ROWS,
    show_default=True,
    help="Rows per transaction; an interrupted import resumes after the last committed chunk.",
)
@json_option
def import_command(
    file: Path, source: str, rejects_path: Path | None, chunk_rows: int, as_json: bool
) -> None:
    """Import a register extract FILE (CSV or Parquet) into the database.

    \b
    Columns: national_id, family_name, given_names, birth_date (YYYY-MM-DD), sex (F, M, X or empty),
    language (lb, fr, de, en, pt; empty = fr), care_of, house_number, street, postcode, locality,
    country (ISO alpha-2; empty = LU), deceased (0/1). CSV in UTF-8, with or without BOM, `,` or `;`
    separated. Other columns are ignored (and named once).

    New persons are inserted and changed ones updated by national id (the later extract wins). Each
    invalid row is rejected and listed in the reject report with its line and the reason; the other
    rows are imported. A national id twice in the file keeps its first row. Re-running an interrupted
    import resumes it.
    """
    engine = open_database()

    interactive = sys.stderr.isatty()

    def progress(rows: int) -> None:
        if interactive:
            click.echo(f"\r  {rows:,} rows read", nl=False, err=True)

    summary = import_register(
        engine, file, source=source, rejects_path=rejects_path, chunk_rows=chunk_rows, on_progress=progress
    )
    if interactive:
        click.echo(err=True)
    if summary.extra_columns:
        click.echo(f"ignored column(s): {', '.join(summary.extra_columns)}", err=True)
    if summary.resumed:
        click.echo("resumed an interrupted import of this file", err=True)
    if as_json:
        echo_json(summary.to_json())
        return
    for key, value in summary.to_json().items():
        click.echo(f"{key:<10} {value:>12,}")
    click.echo(f"rejects written to {summary.rejects_path}")


@register.command("generate")
@click.option("--people", type=click.IntRange(min=0), required=True, help="Residents (source rnpp).")
@click.option(
    "--cross-border",
    type=click.IntRange(min=0),
    default=0,
    show_default=True,
    help="Cross-border workers living in France, Belgium or Germany (source ccss).",
)
@click.option("--seed", type=int, default=1, show_default=True, help="Same seed, same file.")
@click.option(
    "--bad-rows",
    type=click.FloatRange(0.0, 1.0),
    default=0.0,
    show_default=True,
    help="Share of rows with a planted defect (impossible date, wrong check digit, malformed "
    "postcode, empty street, duplicate id, stray whitespace, wrong-encoding byte).",
)
@click.option(
    "--as-of",
    type=click.DateTime(["%Y-%m-%d"]),
    default=AS_OF.isoformat(),
    show_default=True,
    help="The date ages are drawn at.",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="File to write: .csv or .parquet.",
)
def generate_command(
    people: int, cross_border: int, seed: int, bad_rows: float, as_of: dt.datetime, output: Path
) -> None:
    """Write a synthetic register shaped like Luxembourg's (only invented people).

    Residents spread over the 100 communes by population, about 47% foreign nationals with matching
    names and languages, an age pyramid; cross-border workers with French, Belgian and German addresses.
    The file has the import's columns plus `source`.
    """
    planted = generate_register(
        output, people=people, cross_border=cross_border, seed=seed, bad_rows=bad_rows, as_of=as_of.date()
    )
    click.echo(f"wrote {people + cross_border:,} persons to {output} ({', '.join(COLUMNS)})")
    if planted:
        click.echo(
            "planted defects: " + ", ".join(f"{kind} {count}" for kind, count in sorted(planted.items()))
        )


@register.command("stats")
@click.option("--on", "on", type=click.DateTime(["%Y-%m-%d"]), help="Date ages are taken on (default today).")
@json_option
def stats_command(on: dt.datetime | None, as_json: bool) -> None:
    """Count the register by source, commune, country, age band, language and flag."""
    stats = register_stats(open_database(), on.date() if on else dt.date.today())
    if as_json:
        echo_json(stats.to_json())
        return
    click.echo(f"{stats.persons:,} persons (ages on {stats.on})")
    for title, counts in (
        ("source", stats.by_source),
        ("age band", stats.by_age_band),
        ("language", stats.by_language),
        ("country", stats.by_country),
    ):
        _echo_counts(f"by {title}:", counts)
    communes = stats.by_commune
    largest = dict(sorted(communes.items(), key=lambda item: -item[1])[:_TOP_COMMUNES])
    _echo_counts(f"by commune (the {len(largest)} largest of {len(communes)}; --json for all):", largest)
    _echo_counts("flags:", stats.flags)


def _echo_counts(title: str, counts: dict[str, int]) -> None:
    click.echo(f"\n{title}")
    for name, count in counts.items():
        click.echo(f"  {name or '(none)':<28} {count:>10,}")
