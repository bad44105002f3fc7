"""Print production commands: jobs, inserter, reconcile, returns, posting, status (and compose, reprint)."""

from __future__ import annotations

from pathlib import Path

import click

from courrier.campaigns.store import campaign_id
from courrier.cli.common import current_app, echo_json, json_option, open_database
from courrier.db import write_transaction
from courrier.db.types import utcnow
from courrier.production.job_files import simulate_job_results
from courrier.production.jobs import MARKS, get_job, list_jobs, mark_job
from courrier.production.reconcile import reconcile
from courrier.production.reports import campaign_status, posting_statement
from courrier.production.results import apply_results
from courrier.production.returns import scan_returns

_FILE = click.Path(exists=True, dir_okay=False, path_type=Path)


@click.group()
def jobs() -> None:
    """Print jobs: list them, mark them printed or posted."""


@jobs.command("list")
@click.argument("campaign")
@json_option
def jobs_list(campaign: str, as_json: bool) -> None:
    """List CAMPAIGN's print jobs with their state, pieces, sheets and failures."""
    with open_database().connect() as connection:
        found = list_jobs(connection, campaign_id=campaign_id(connection, campaign))
    if as_json:
        echo_json([job.to_json() for job in found])
        return
    if not found:
        click.echo("no print jobs yet: run `courrier compose CAMPAIGN --wave K`")
    for job in found:
        reprint = f" (reprint of {job.reprint_of})" if job.reprint_of else ""
        mail = "domestic" if job.domestic else "foreign"
        click.echo(
            f"{job.name:<12} wave {job.wave_number or '-'}  {job.state:<9} {job.pieces:>6} pieces"
            f" {job.sheets:>6} sheets {job.failed:>4} failed  {mail}{reprint}"
        )


@jobs.command("mark")
@click.argument("job")
@click.argument("state", type=click.Choice(list(MARKS)))
def jobs_mark(job: str, state: str) -> None:
    """Mark JOB printed (after the print run) or posted (handed to the post); its pieces follow."""
    with write_transaction(open_database()) as connection:
        result = mark_job(connection, job, state, actor=current_app().settings.actor, at=utcnow())
    noun = "piece" if result.pieces == 1 else "pieces"
    click.echo(f"{result.job} marked {state}: {result.pieces} {noun}")


@click.group()
def inserter() -> None:
    """The envelope inserter: read its results, or simulate them."""


@inserter.command("results")
@click.argument("file", type=_FILE)
@click.option("--job", help="The job the file reports on (default: the job most of its pieces belong to).")
@json_option
def inserter_results(file: Path, job: str | None, as_json: bool) -> None:
    """Read an inserter results FILE (CSV: piece_id, status, time, machine) and update the pieces.

    A piece reported twice, an unknown piece, a piece of another job or a change its state does not
    allow is reported with its line and left alone. Reading the same file again changes nothing and
    says "already read". The job must have been marked printed; with --job, the file must report on it.
    """
    summary = apply_results(
        open_database(), file, actor=current_app().settings.actor, at=utcnow(), job_name=job
    )
    if as_json:
        echo_json(summary.to_json())
        return
    if summary.already_read:
        click.echo(f"{file}: already read ({summary.records} records of job {summary.job}); nothing changed")
        return
    applied = ", ".join(f"{status} {count}" for status, count in sorted(summary.applied.items())) or "nothing"
    click.echo(f"{summary.job}: {summary.records} records; applied: {applied}")
    for line, piece, why in summary.refused:
        click.echo(f"  line {line}: piece {piece if piece is not None else '?'}: {why}")


@inserter.command("simulate")
@click.argument("job")
@click.option("--damage", type=click.FloatRange(0, 1), default=0.0, show_default=True, help="Share damaged.")
@click.option("--divert", type=click.FloatRange(0, 1), default=0.0, show_default=True, help="Share diverted.")
@click.option("--miss", type=click.FloatRange(0, 1), default=0.0, show_default=True, help="Share missing.")
@click.option("--seed", type=int, default=1, show_default=True)
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Results file to write (default: JOB.results.csv beside the job's files).")  # fmt: skip
def inserter_simulate(
    job: str, damage: float, divert: float, miss: float, seed: int, output: Path | None
) -> None:
    """Write a realistic results file for JOB from its inserter control file (there is no inserter here)."""
    with open_database().connect() as connection:
        found = get_job(connection, job)
    written = simulate_job_results(
        found.folder, found.name, output=output, damage=damage, divert=divert, miss=miss, seed=seed
    )
    click.echo(f"wrote {written}")


@click.command("reconcile")
@click.argument("campaign")
@json_option
def reconcile_command(campaign: str, as_json: bool) -> None:
    """Per job: expected, inserted, diverted, damaged, missing and unreported pieces."""
    with open_database().connect() as connection:
        report = reconcile(connection, campaign_id(connection, campaign))
    if as_json:
        echo_json(report.to_json())
        return
    columns = ("expected", "inserted", "diverted", "damaged", "missing", "unreported")
    click.echo(f"{'job':<12}" + "".join(f" {name:>10}" for name in columns))
    for row in [*report.jobs, {"job": "total", **report.total}]:
        click.echo(f"{row['job']:<12}" + "".join(f" {row[name]:>10}" for name in columns))


@click.group()
def returns() -> None:
    """Returned mail."""


@returns.command("scan")
@click.argument("file", type=_FILE)
@json_option
def returns_scan(file: Path, as_json: bool) -> None:
    """Mark the pieces whose ids FILE lists (one per line) returned, and their addresses unknown."""
    summary = scan_returns(open_database(), file, actor=current_app().settings.actor, at=utcnow())
    if as_json:
        echo_json(summary.to_json())
        return
    click.echo(f"{summary.scanned} scanned, {summary.returned} marked returned")
    for line, value, why in summary.refused:
        click.echo(f"  line {line}: {value}: {why}")


@click.command("posting")
@click.argument("campaign")
@click.option("--wave", type=int, help="The wave whose mail is handed to the post (default: every job).")
@click.option("--reissues", is_flag=True, help="The re-issued letters' jobs (outside the waves).")
@json_option
def posting_command(campaign: str, wave: int | None, reissues: bool, as_json: bool) -> None:
    """The posting statement for the post office: pieces by destination and by sheets per envelope.

    It counts the letters printed and handed to the post (inserted or posted), each once, reprints in
    place of what they reprint, by the address they were printed with, not where people live today.
    """
    if reissues and wave is not None:
        raise click.UsageError("give --wave or --reissues, not both")
    with open_database().connect() as connection:
        statement = posting_statement(connection, campaign_id(connection, campaign), wave, reissues=reissues)
    if as_json:
        echo_json(statement.to_json())
        return
    for row in [*statement.jobs, {"job": "total", **statement.total}]:
        destinations = ", ".join(f"{k} {v}" for k, v in sorted(row["destination"].items()))
        sheets = ", ".join(f"{k} sheet(s): {v}" for k, v in sorted(row["sheets"].items()))
        click.echo(f"{row['job']:<12} {row['pieces']:>7} pieces  [{destinations}]  [{sheets}]")


@click.command("status")
@click.argument("campaign")
@json_option
def status_command(campaign: str, as_json: bool) -> None:
    """The operator's morning view: pieces per state and wave, jobs awaiting a step, failures."""
    with open_database().connect() as connection:
        status = campaign_status(connection, campaign_id(connection, campaign))
    if as_json:
        echo_json(status.to_json())
        return
    for wave, states in status.pieces.items():
        label = "re-issues" if wave == "reissues" else f"wave {wave}"
        click.echo(f"{label}: " + ", ".join(f"{state} {count}" for state, count in sorted(states.items())))
    for step, names in status.jobs_awaiting.items():
        click.echo(f"awaiting {step}: {', '.join(names) if names else '-'}")
    click.echo(f"failed letters: {len(status.failures)}")
    for failure in status.failures[:20]:
        click.echo(
            f"  piece {failure['piece_id']} in {failure['job']}: {failure['error']}: {failure['message']}"
        )
