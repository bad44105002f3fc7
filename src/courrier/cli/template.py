"""``courrier template``: check a template, render letters from a record file (a mail merge, a preview)."""

from __future__ import annotations

from pathlib import Path

import click

from courrier.cli.common import current_app, echo_json, json_option
from courrier.compose.job import MarkPlacement
from courrier.compose.merge import Machines, check_folder, render_records
from courrier.compose.print_condition import CONDITIONS
from courrier.errors import TemplateError
from courrier.production.profiles import configured_profiles

PREVIEW_JOB = "J000000"

_FOLDER = click.Path(exists=True, file_okay=False, path_type=Path)


@click.group()
def template() -> None:
    """Letter templates: a folder with template.toml, texts per language, strings, artwork."""


@template.command("check")
@click.argument("folder", type=_FOLDER)
@click.option(
    "--records",
    "records_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Also compose a letter for each record of this JSON Lines or CSV file (nothing is written) "
    "and report each one that fails: a text too long for its box, a character the fonts lack...",
)
@json_option
def check_command(folder: Path, records_file: Path | None, as_json: bool) -> None:
    """Report what is wrong with the template in FOLDER: placeholders a record cannot fill (person.<field>
    names that are no register field, t.<key> strings a language lacks), elements outside the page or
    in the envelope window, characters its fonts lack. Exit 1 if anything is.

    Whether a text fits its box depends on the record (a long name, a long street): give --records, e.g.
    the template's sample.jsonl, to find out.
    """
    problems = check_folder(folder, records_file)
    if as_json:
        echo_json([problem.to_json() for problem in problems])
    else:
        for problem in problems:
            note = "note: " if problem.severity == "note" else ""
            click.echo(f"{problem.where}: {problem.message} [{note}{problem.code}]")
        if not any(problem.severity == "error" for problem in problems):
            click.echo(f"{folder}: no problems found")
    if any(problem.severity == "error" for problem in problems):
        raise SystemExit(1)


@template.command("render")
@click.argument("folder", type=_FOLDER)
@click.option(
    "--records",
    "records_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    required=True,
    help="JSON Lines, or CSV with dotted columns (person.family_name...).",
)
@click.option(
    "-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True, help="PDF to write."
)
@click.option(
    "--png",
    "png_folder",
    type=click.Path(file_okay=False, path_type=Path),
    help="Also render pages as PNG into this folder (Ghostscript).",
)
@click.option(
    "--pages",
    default="1",
    show_default=True,
    help="Pages to render as PNG: numbers and ranges like 1-3,5, or all.",
)
@json_option
def render_command(
    folder: Path, records_file: Path, output: Path, png_folder: Path | None, pages: str, as_json: bool
) -> None:
    """Render one letter per record of --records with the template in FOLDER into a PDF.

    A letter that cannot be composed (text overflow, a character the fonts lack...) is reported and
    left out; the others are written. The print condition, plex and inserter's sheet mark are those of
    the configured printer and inserter profiles (COURRIER_PRINTER_PROFILE, COURRIER_INSERTER_PROFILE;
    the built-in ones when unset), as in production.
    """
    numbers = _page_numbers(pages)
    settings = current_app().settings
    printer, inserter = configured_profiles(settings.printer_profile, settings.inserter_profile)
    layout = inserter.mark
    machines = Machines(
        plex=printer.plex,
        condition=CONDITIONS[printer.colour],
        # The sheet mark of a preview job (J000000), where and as the inserter reads it.
        mark_text=lambda number, sheet, sheets: layout.text(PREVIEW_JOB, number, sheet, sheets),
        mark=MarkPlacement(layout.x_mm, layout.y_mm, layout.module_mm),
    )
    result = render_records(
        folder, records_file, output, png_folder=png_folder, pages=numbers, machines=machines
    )
    if as_json:
        echo_json(result.to_json())
        return
    counts = f"{result.letters} letters, {result.pages} pages, {result.sheets} sheets"
    click.echo(f"{output}: {counts}, {result.bytes:,} bytes")
    for failure in result.failures:
        click.echo(f"  piece {failure.piece_id}: {failure.error_message} [{failure.error_code}]")
    for path in result.png or []:
        click.echo(f"  preview {path}")
    if not result.letters and result.failures:
        raise TemplateError("no letter could be composed", code="nothing_composed")


def _page_numbers(spec: str) -> list[int] | None:
    """``1-3,5`` as [1, 2, 3, 5]; ``all`` as None (every page)."""
    if spec.strip().lower() == "all":
        return None
    numbers: set[int] = set()
    for part in spec.split(","):
        first, dash, last = part.strip().partition("-")
        try:
            low, high = int(first), int(last if dash else first)
        except ValueError:
            low = high = 0
        if low < 1 or high < low:
            raise click.BadParameter(
                f"{spec!r}: give page numbers and ranges like 1-3,5 (from 1), or all", param_hint="--pages"
            )
        numbers.update(range(low, high + 1))
    return sorted(numbers)
