"""Recording and reading campaigns, their template versions, and extending their validity."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass, field, replace
from pathlib import Path

from sqlalchemy import Connection, Engine, func, select
from sqlalchemy.exc import IntegrityError

from courrier.campaigns.definition import CampaignDefinition, parse_definition
from courrier.db import write_transaction
from courrier.db.schema import campaigns, codes, pieces, print_jobs, template_versions, waves
from courrier.db.types import utcnow
from courrier.errors import ConflictError, NotFoundError, TemplateError
from courrier.ledger.events import record_event
from courrier.result import Result


@dataclass(frozen=True)
class Campaign:
    id: int
    name: str
    kind: str
    definition: CampaignDefinition
    template_version_id: int
    template_path: str
    template_sha256: str
    validity_days: int | None
    valid_until: dt.date | None
    max_uses: int
    qr_content: str
    qr_signed: bool
    created_at: dt.datetime
    # Absolute folder of the print files, fixed at the first compose (None before).
    output_folder: str | None = None
    # {relative path: sha256} of the template version's files (empty for versions recorded before).
    template_files: dict[str, str] = field(default_factory=dict)


def template_hash(folder: Path) -> str:
    """sha256 over the folder's files: each file's relative path, a NUL, its size, a NUL, its bytes,
    in sorted path order. Any changed, added, removed or renamed file changes the hash."""
    return _template_digest(folder)[0]


def template_files(folder: Path) -> dict[str, str]:
    """{relative path: sha256 of its bytes} for every file of the template folder."""
    return _template_digest(folder)[1]


def _template_digest(folder: Path) -> tuple[str, dict[str, str]]:
    if not folder.is_dir():
        raise TemplateError(f"template folder {folder} does not exist", code="template_not_found")
    digest = hashlib.sha256()
    files = sorted(path for path in folder.rglob("*") if path.is_file())
    if not files:
        raise TemplateError(f"template folder {folder} is empty", code="template_not_found")
    each: dict[str, str] = {}
    for path in files:
        try:
            content = path.read_bytes()
        except OSError as error:
            raise TemplateError(
                f"template file {path} cannot be read: {error.strerror}", code="template_not_found"
            ) from error
        name = path.relative_to(folder).as_posix()
        each[name] = hashlib.sha256(content).hexdigest()
        digest.update(name.encode() + b"\0")
        digest.update(str(len(content)).encode() + b"\0" + content)
    return digest.hexdigest(), each


def changed_template_files(campaign: Campaign) -> list[str]:
    """The files of the campaign's template folder that differ from its recorded version (added,
    removed or changed), sorted; empty when the folder is still the version the campaign recorded."""
    folder = Path(campaign.template_path)
    sha256, now = _template_digest(folder)
    if sha256 == campaign.template_sha256:
        return []
    before = campaign.template_files
    if not before:  # a version recorded before files were listed: the folder as a whole changed
        return ["(the folder)"]
    return sorted(name for name in set(before) | set(now) if before.get(name) != now.get(name))


def require_frozen_template(campaign: Campaign) -> None:
    """Refuse (``template_changed``) when the template folder is no longer the version the campaign
    recorded at its creation: every letter must be traceable to the exact template that made it."""
    changed = changed_template_files(campaign)
    if changed:
        shown = ", ".join(changed[:5]) + (f" and {len(changed) - 5} more" if len(changed) > 5 else "")
        raise ConflictError(
            f"campaign {campaign.name}: the template {campaign.template_path} changed since the campaign"
            f" recorded it ({shown}): restore it, or before the first compose record the new version with"
            f" `courrier campaign create FILE --update-template`",
            code="template_changed",
        )


def record_template_version(connection: Connection, folder: Path, now: dt.datetime) -> int:
    """The id of the version of this template folder with its current content, recorded if new."""
    sha256, files = _template_digest(folder)
    found = connection.execute(
        select(template_versions.c.id).where(
            template_versions.c.path == str(folder), template_versions.c.sha256 == sha256
        )
    ).scalar()
    if found is not None:
        return int(found)
    result = connection.execute(
        template_versions.insert().values(
            path=str(folder), sha256=sha256, files=json.dumps(files, sort_keys=True), created_at=now
        )
    )
    assert result.inserted_primary_key is not None
    return int(result.inserted_primary_key[0])


def create_campaign(
    engine: Engine, definition: CampaignDefinition, *, actor: str, now: dt.datetime | None = None
) -> Campaign:
    """Record a new campaign and its template version; a campaign name is used once. The template is
    not checked here (campaigns sit below the composer): the edges call
    :func:`courrier.production.campaign_setup.define_campaign`, which checks it first."""
    now = now or utcnow()
    until = definition.codes.valid_until
    if until is not None and until < now.date():
        raise ConflictError(
            f"campaign {definition.name}: its codes would be valid until {until}, which is past:"
            " give [codes] valid_until a later date",
            code="code_expired",
        )
    try:
        with write_transaction(engine) as connection:
            if _campaign_id(connection, definition.name) is not None:
                raise _exists(definition.name)
            version_id = record_template_version(connection, definition.template, now)
            result = connection.execute(
                campaigns.insert().values(
                    name=definition.name,
                    kind=definition.kind,
                    definition=definition.text,
                    template_version_id=version_id,
                    languages=",".join(definition.languages),
                    validity_days=definition.codes.validity_days,
                    valid_until=definition.codes.valid_until,
                    max_uses=definition.codes.max_uses,
                    qr_content=definition.qr_content,
                    qr_signed=definition.qr_signed,
                    created_at=now,
                )
            )
            assert result.inserted_primary_key is not None
            campaign_id = int(result.inserted_primary_key[0])
            record_event(
                connection,
                "campaign.created",
                actor,
                campaign_id=campaign_id,
                details={"template_version_id": version_id, "template": str(definition.template)},
                at=now,
            )
            return get_campaign(connection, definition.name)
    except IntegrityError as error:  # created concurrently under the same name
        raise _exists(definition.name) from error


def update_template(
    engine: Engine, definition: CampaignDefinition, *, actor: str, now: dt.datetime | None = None
) -> tuple[Campaign, bool]:
    """Record the current content of an existing campaign's template folder as its template version
    (``campaign create FILE --update-template``); returns the campaign and whether the version changed.

    Allowed until the campaign's first job is printed (``template_in_use`` after): a template typo
    found at compose can then be fixed and its failed letters composed again. Jobs already composed
    keep the version that made them (their ticket names it) and are never re-made from another one.
    """
    now = now or utcnow()
    with write_transaction(engine) as connection:
        campaign = get_campaign(connection, definition.name)
        printed = connection.execute(
            select(print_jobs.c.name).where(
                print_jobs.c.campaign_id == campaign.id,
                print_jobs.c.state.in_(("printed", "inserted", "posted")),
            )
        ).first()
        if printed is not None:
            raise ConflictError(
                f"campaign {campaign.name}: job {printed[0]} is printed; its template can no longer change",
                code="template_in_use",
            )
        if Path(campaign.template_path) != definition.template:
            raise ConflictError(
                f"campaign {campaign.name} uses the template {campaign.template_path}, not"
                f" {definition.template}",
                code="template_moved",
            )
        version_id = record_template_version(connection, definition.template, now)
        if version_id == campaign.template_version_id:
            return campaign, False
        connection.execute(
            campaigns.update().where(campaigns.c.id == campaign.id).values(template_version_id=version_id)
        )
        connection.execute(
            print_jobs.update()
            .where(print_jobs.c.campaign_id == campaign.id, print_jobs.c.state == "planned")
            .values(template_version_id=version_id)
        )
        record_event(
            connection,
            "campaign.template_updated",
            actor,
            campaign_id=campaign.id,
            details={
                "from_version_id": campaign.template_version_id,
                "to_version_id": version_id,
                "changed": changed_template_files(campaign),
            },
            at=now,
        )
        return get_campaign(connection, campaign.name), True


def get_campaign(connection: Connection, name: str) -> Campaign:
    row = connection.execute(
        select(campaigns, template_versions.c.path, template_versions.c.sha256, template_versions.c.files)
        .join(template_versions, template_versions.c.id == campaigns.c.template_version_id)
        .where(campaigns.c.name == name)
    ).one_or_none()
    if row is None:
        raise _unknown(name)
    template = Path(row.path)
    definition = parse_definition(row.definition, base=template.parent, where=f"campaign {name}")
    # The stored file names the template relative to where it was; keep the path actually recorded.
    definition = _with_template(definition, template)
    return Campaign(
        id=row.id,
        name=row.name,
        kind=row.kind,
        definition=definition,
        template_version_id=row.template_version_id,
        template_path=row.path,
        template_sha256=row.sha256,
        validity_days=row.validity_days,
        valid_until=row.valid_until,
        max_uses=row.max_uses,
        qr_content=row.qr_content,
        qr_signed=row.qr_signed,
        created_at=row.created_at,
        output_folder=row.output_folder,
        template_files=json.loads(row.files) if row.files else {},
    )


@dataclass(frozen=True)
class CampaignCounts(Result):
    name: str
    kind: str
    created_at: dt.datetime
    waves: int
    pieces: int  # not withdrawn
    codes: int


def list_campaigns(connection: Connection) -> list[CampaignCounts]:
    """Every campaign with its counts of waves, pieces (not withdrawn) and codes."""
    wave_count = (
        select(func.count()).select_from(waves).where(waves.c.campaign_id == campaigns.c.id).scalar_subquery()
    )
    piece_count = (
        select(func.count())
        .select_from(pieces)
        .where(pieces.c.campaign_id == campaigns.c.id, pieces.c.state != "withdrawn")
        .scalar_subquery()
    )
    code_count = (
        select(func.count()).select_from(codes).where(codes.c.campaign_id == campaigns.c.id).scalar_subquery()
    )
    rows = connection.execute(
        select(
            campaigns.c.name,
            campaigns.c.kind,
            campaigns.c.created_at,
            wave_count.label("waves"),
            piece_count.label("pieces"),
            code_count.label("codes"),
        ).order_by(campaigns.c.id)
    )
    return [CampaignCounts(**row._mapping) for row in rows]


def extend_campaign(
    engine: Engine,
    name: str,
    until: dt.date,
    *,
    actor: str,
    reason: str | None = None,
    now: dt.datetime | None = None,
) -> tuple[dt.date, int]:
    """Move a fixed-end campaign's end to ``until`` for all its codes not revoked.

    Returns the previous end and the number of codes extended. Campaigns whose codes are valid a number
    of days from the letter cannot be extended (``not_extendable``); the new end must be later
    (``not_later``).
    """
    now = now or utcnow()
    with write_transaction(engine) as connection:
        campaign = get_campaign(connection, name)
        if campaign.valid_until is None:
            raise ConflictError(
                f"campaign {name}: codes are valid {campaign.validity_days} days from the letter, "
                "which cannot be extended",
                code="not_extendable",
            )
        previous = campaign.valid_until
        if until <= previous:
            raise ConflictError(
                f"campaign {name} already runs until {previous}: {until} is not later", code="not_later"
            )
        connection.execute(campaigns.update().where(campaigns.c.id == campaign.id).values(valid_until=until))
        extended = connection.execute(
            codes.update()
            .where(codes.c.campaign_id == campaign.id, codes.c.status != "revoked")
            .values(valid_until=until, updated_at=now)
        ).rowcount
        record_event(
            connection,
            "campaign.extended",
            actor,
            campaign_id=campaign.id,
            reason=reason,
            details={"from": previous.isoformat(), "to": until.isoformat(), "codes": extended},
            at=now,
        )
    return previous, extended


def _campaign_id(connection: Connection, name: str) -> int | None:
    found = connection.execute(select(campaigns.c.id).where(campaigns.c.name == name)).scalar()
    return None if found is None else int(found)


def campaign_id(connection: Connection, name: str) -> int:
    """The id of the campaign called ``name`` (``unknown_campaign`` when there is none)."""
    found = _campaign_id(connection, name)
    if found is None:
        raise _unknown(name)
    return found


def _unknown(name: str) -> NotFoundError:
    return NotFoundError(f"no campaign named {name!r}: see `courrier campaign list`", code="unknown_campaign")


def _exists(name: str) -> ConflictError:
    return ConflictError(f"a campaign named {name!r} already exists", code="campaign_exists")


def _with_template(definition: CampaignDefinition, template: Path) -> CampaignDefinition:
    return replace(definition, template=template)
