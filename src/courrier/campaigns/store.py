"""Recording and reading campaigns, their template versions, and extending their validity."""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, replace
from pathlib import Path

from sqlalchemy import Connection, Engine, func, select
from sqlalchemy.exc import IntegrityError

from courrier.campaigns.definition import CampaignDefinition, parse_definition
from courrier.db import write_transaction
from courrier.db.schema import campaigns, codes, pieces, template_versions, waves
from courrier.db.types import utcnow
from courrier.errors import ConflictError, NotFoundError, TemplateError
from courrier.ledger.events import record_event


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


def template_hash(folder: Path) -> str:
    """sha256 over the folder's files: each file's relative path, a NUL, its size, a NUL, its bytes,
    in sorted path order. Any changed, added, removed or renamed file changes the hash."""
    if not folder.is_dir():
        raise TemplateError(f"template folder {folder} does not exist", code="template_not_found")
    digest = hashlib.sha256()
    files = sorted(path for path in folder.rglob("*") if path.is_file())
    if not files:
        raise TemplateError(f"template folder {folder} is empty", code="template_not_found")
    for path in files:
        content = path.read_bytes()
        digest.update(path.relative_to(folder).as_posix().encode() + b"\0")
        digest.update(str(len(content)).encode() + b"\0" + content)
    return digest.hexdigest()


def record_template_version(connection: Connection, folder: Path, now: dt.datetime) -> int:
    """The id of the version of this template folder with its current content, recorded if new."""
    sha256 = template_hash(folder)
    found = connection.execute(
        select(template_versions.c.id).where(
            template_versions.c.path == str(folder), template_versions.c.sha256 == sha256
        )
    ).scalar()
    if found is not None:
        return int(found)
    result = connection.execute(
        template_versions.insert().values(path=str(folder), sha256=sha256, created_at=now)
    )
    assert result.inserted_primary_key is not None
    return int(result.inserted_primary_key[0])


def create_campaign(
    engine: Engine, definition: CampaignDefinition, *, actor: str, now: dt.datetime | None = None
) -> Campaign:
    """Record a new campaign and its template version; a campaign name is used once."""
    now = now or utcnow()
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


def get_campaign(connection: Connection, name: str) -> Campaign:
    row = connection.execute(
        select(campaigns, template_versions.c.path, template_versions.c.sha256)
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
    )


def list_campaigns(connection: Connection) -> list[dict[str, object]]:
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
    return [dict(row._mapping) for row in rows]


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
