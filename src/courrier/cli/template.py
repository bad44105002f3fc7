"""``courrier template``: check a template, render letters from a record file (a mail merge, a preview)."""

from __future__ import annotations

import io
from dataclasses import asdict
from pathlib import Path
from typing import Any

import click

from courrier.cli.common import echo_json, json_option
from courrier.compose import compose_job, load_template
from courrier.compose.check import Problem, check_template
from courrier.compose.preview import render_pngs
from courrier.compose.records_file import read_records
from courrier.errors import InputFileError, TemplateError

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
    loaded = load_template(folder, verify=False)
    problems = check_template(loaded)
    if records_file is not None:
        result = compose_job(loaded, read_records(records_file), io.BytesIO())
        problems += [
            Problem(
                str(piece.error_code),
                f"{records_file.name}, piece {piece.piece_id}",
                str(piece.error_message),
            )
            for piece in result.failures
        ]
    if as_json:
        echo_json([problem.__dict__ for problem in problems])
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
@click.option("--pages", default="1", show_default=True, help="Pages to render as PNG, e.g. 1,2.")
@json_option
def render_command(
    folder: Path, records_file: Path, output: Path, png_folder: Path | None, pages: str, as_json: bool
) -> None:
    """Render one letter per record of --records with the template in FOLDER into a PDF.

    A letter that cannot be composed (text overflow, a character the fonts lack...) is reported and
    left out; the others are written.
    """
    try:
        numbers = sorted({int(page) for page in pages.split(",") if page.strip()})
    except ValueError as error:
        raise click.BadParameter(f"{pages!r}: give page numbers like 1,2", param_hint="--pages") from error
    loaded = load_template(folder)
    records = list(read_records(records_file))
    if not records:  # a PDF with no page is no print file
        raise InputFileError(f"{records_file} holds no record: nothing to render", code="no_records")
    try:
        output.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise InputFileError(
            f"cannot create the folder {output.parent}: {error.strerror}", code="unwritable_folder"
        ) from error
    result = compose_job(loaded, records, output, job_id=output.stem)
    summary: dict[str, Any] = {
        "output": str(output),
        "letters": result.letters,
        "pages": result.pages,
        "sheets": result.sheets,
        "bytes": result.bytes,
        "failures": [asdict(piece) for piece in result.failures],
    }
    if png_folder is not None and result.pages:
        wanted = [page for page in numbers if 1 <= page <= result.pages]
        summary["png"] = [str(path) for path in render_pngs(output, png_folder, wanted)]
    if as_json:
        echo_json(summary)
        return
    counts = f"{result.letters} letters, {result.pages} pages, {result.sheets} sheets"
    click.echo(f"{output}: {counts}, {result.bytes:,} bytes")
    for failure in result.failures:
        click.echo(f"  piece {failure.piece_id}: {failure.error_message} [{failure.error_code}]")
    for path in summary.get("png", []):
        click.echo(f"  preview {path}")
    if not result.letters and result.failures:
        raise TemplateError("no letter could be composed", code="nothing_composed")
