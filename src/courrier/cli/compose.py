"""``courrier compose`` and ``courrier reprint``: print jobs made on Dask."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import click

from courrier.app import App
from courrier.campaigns.store import campaign_id, get_campaign
from courrier.certificates.pki import Signer, load_signer
from courrier.cli.common import current_app, echo_json, json_option
from courrier.db.types import utcnow
from courrier.production.compose_wave import ComposeSummary, compose_wave
from courrier.production.presort import DEFAULT_JOB_SIZE_SHEETS
from courrier.production.profiles import configured_profiles
from courrier.production.reprint import DEFAULT_THRESHOLD, Reprint
from courrier.production.reprint import reprint as reprint_jobs

_OUT = click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder for the print files of the jobs made now (OUT/CAMPAIGN). Default: the campaign's"
    " folder, fixed at its first compose (./print-jobs/CAMPAIGN, made absolute).",
)
_SCHEDULER = click.option(
    "--scheduler",
    metavar="ADDRESS",
    help="A running Dask scheduler (tcp://host:8786); default an embedded LocalCluster, one worker per core.",
)
_WORKERS = click.option(
    "--workers", type=click.IntRange(min=1), help="LocalCluster workers (default: one per core)."
)


class _Progress:
    """Jobs and letters done, the rate and the time left, on one line of stderr (a line per job when
    stderr is not a terminal, as in a log)."""

    def __init__(self) -> None:
        self.interactive = sys.stderr.isatty()
        self.jobs = self.letters = self.jobs_done = self.letters_done = 0
        self.started = time.monotonic()

    def start(self, jobs: int, letters: int) -> None:
        self.jobs, self.letters = jobs, letters
        self.started = time.monotonic()
        click.echo(f"composing {jobs} jobs, {letters:,} letters", err=True)

    def job_done(self, job: str, letters: int) -> None:
        self.jobs_done += 1
        self.letters_done += letters
        elapsed = time.monotonic() - self.started
        rate = self.letters_done / elapsed if elapsed > 0 else 0.0
        share = self.letters_done / self.letters if self.letters else 1.0
        width = 24
        bar = "#" * round(share * width) + "-" * (width - round(share * width))
        left = (self.letters - self.letters_done) / rate if rate else 0.0
        line = (
            f"  [{bar}] {share:4.0%}  {self.jobs_done}/{self.jobs} jobs  "
            f"{self.letters_done:,}/{self.letters:,} letters  {rate:,.0f}/s  "
            f"{_duration(left)} left  ({job})"
        )
        click.echo(line + ("\r" if self.interactive else "\n"), nl=False, err=True)


def _duration(seconds: float) -> str:
    minutes, seconds = divmod(round(seconds), 60)
    return f"{minutes}:{seconds:02d}"


def _echo_summary(summary: ComposeSummary, as_json: bool, what: str) -> None:
    if as_json:
        echo_json(summary.to_json())
    else:
        counts = [
            f"{len(summary.jobs)} {_plural(len(summary.jobs), 'job')} composed",
            f"{len(summary.kept)} kept",
        ]
        counts += [f"{len(summary.done)} already printed"] if summary.done else []
        counts += [f"{len(summary.empty)} empty"] if summary.empty else []
        letters = f"{summary.letters:,} {_plural(summary.letters, 'letter')}, {summary.sheets:,} sheets"
        click.echo(f"{summary.campaign} {what}: {', '.join(counts)}, {letters}, in {summary.folder}")
        if summary.failures:
            click.echo(f"{len(summary.failures)} letters failed and were left out:")
            for failure in summary.failures[:20]:
                click.echo(
                    f"  piece {failure['piece_id']} ({failure['job']}): {failure['message']}"
                    f" [{failure['error']}]"
                )
            if len(summary.failures) > 20:
                click.echo(f"  ... and {len(summary.failures) - 20} more (see `courrier status`)")
            click.echo("fix the cause, then compose them with --retry-failed")
        if summary.left_out:
            click.echo(f"{len(summary.left_out)} letters left out: no longer to be sent since planning")
            for left in summary.left_out[:20]:
                click.echo(f"  piece {left['piece_id']} ({left['job']}): {left['state']}")
    summary.require_intact()


def _plural(count: int, word: str) -> str:
    return word if count == 1 else f"{word}s"


@click.command("compose")
@click.argument("campaign")
@click.option("--wave", type=int, help="The wave to compose.")
@click.option(
    "--reissues", is_flag=True, help="Compose the campaign's re-issued pieces (they belong to no wave)."
)
@click.option(
    "--retry-failed",
    is_flag=True,
    help="Also compose again the wave's letters that failed, once their cause is fixed.",
)
@click.option(
    "--remake",
    is_flag=True,
    help="Re-make composed jobs whose files are missing or changed (recorded; refused once printed).",
)
@click.option(
    "--job-size",
    type=click.IntRange(min=1),
    default=DEFAULT_JOB_SIZE_SHEETS,
    show_default=True,
    help="Most sheets in one print job; jobs are cut at a postcode boundary when one is near.",
)
@_OUT
@_SCHEDULER
@_WORKERS
@json_option
def compose(
    campaign: str,
    wave: int | None,
    reissues: bool,
    retry_failed: bool,
    remake: bool,
    job_size: int,
    out: Path | None,
    scheduler: str | None,
    workers: int | None,
    as_json: bool,
) -> None:
    """Compose CAMPAIGN's wave into presorted print jobs: JOB.pdf, JOB.manifest.csv, JOB.ticket.json and
    JOB.inserter.csv per job. Domestic and foreign mail go in separate jobs.

    Only pieces whose state allows it are composed: a printed, inserted or posted letter never again,
    whatever --out says. A letter that cannot be composed is recorded with its reason and left out
    (--retry-failed composes it again). Run again after an interruption: finished jobs are kept (checked
    by their sha256) and only the rest is made, with the same pieces in the same jobs.
    """
    if (wave is None) == (not reissues):
        raise click.UsageError("give either --wave K or --reissues")
    if reissues and retry_failed:
        raise click.UsageError("--retry-failed goes with --wave")
    app = current_app(scheduler=scheduler, workers=workers)
    with app.engine.connect() as connection:
        campaign_id(connection, campaign)  # an unknown campaign is reported before missing keys
    signer = _certificate_signer(app, campaign)
    printer, inserter = configured_profiles(app.settings.printer_profile, app.settings.inserter_profile)
    progress = _Progress()
    summary = compose_wave(
        app.engine,
        campaign,
        wave,
        out=out,
        keys=app.keys,
        signer=signer,
        actor=app.settings.actor,
        now=utcnow(),
        client=app.dask_client,
        job_size_sheets=job_size,
        retry_failed=retry_failed,
        remake=remake,
        on_start=progress.start,
        on_job_done=progress.job_done,
        printer=printer,
        inserter=inserter,
    )
    if sys.stderr.isatty():
        click.echo(err=True)
    _echo_summary(summary, as_json, "re-issues" if wave is None else f"wave {wave}")


@click.command("reprint")
@click.argument("campaign")
@click.option(
    "--threshold",
    type=click.FloatRange(0, 1),
    default=DEFAULT_THRESHOLD,
    show_default=True,
    help="Refuse when more than this share of the pieces would be reprinted, unless --yes.",
)
@click.option("--yes", is_flag=True, help="Reprint even above the threshold.")
@_OUT
@_SCHEDULER
@_WORKERS
@json_option
def reprint_command(
    campaign: str,
    threshold: float,
    yes: bool,
    out: Path | None,
    scheduler: str | None,
    workers: int | None,
    as_json: bool,
) -> None:
    """Make one reprint job per job (J000123.R1) with exactly the pieces that were not inserted:
    diverted, damaged, missing or never reported. Same codes; an inserted piece is never reprinted.
    The files go next to the campaign's composed jobs unless --out says otherwise."""
    app = current_app(scheduler=scheduler, workers=workers)
    printer, inserter = configured_profiles(app.settings.printer_profile, app.settings.inserter_profile)
    signer = _certificate_signer(app, campaign)
    plan, summary = reprint_jobs(
        app.engine,
        campaign,
        out=out,
        printer=printer,
        inserter=inserter,
        keys=app.keys,
        signer=signer,
        actor=app.settings.actor,
        now=utcnow(),
        threshold=threshold,
        confirmed=yes,
        client=app.dask_client,
    )
    if as_json:
        echo_json(Reprint(plan, summary).to_json())
    elif summary is None:
        click.echo("nothing to reprint: every piece of every printed job was inserted")
    else:
        click.echo(f"{plan.to_reprint} of {plan.expected} pieces to reprint ({plan.share:.1%})")
        _echo_summary(summary, as_json, "reprint")


def _certificate_signer(app: App, name: str) -> Signer | None:
    """The DCC document signer (``COURRIER_DCC_DIR``) when CAMPAIGN posts certificates, else None."""
    with app.engine.connect() as connection:
        if get_campaign(connection, name).kind != "certificate":
            return None
    return load_signer(Path(app.settings.dcc_dir), allow_shared=app.settings.allow_shared_key_file)
