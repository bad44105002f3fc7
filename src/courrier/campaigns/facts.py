"""One campaign as ``courrier campaign show`` and the web's staff pages give it: its template version,
cohort, code policy, QR content and waves."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection

from courrier.campaigns.plan import WaveSummary, wave_summaries
from courrier.campaigns.store import Campaign, get_campaign
from courrier.result import Result, plain


@dataclass(frozen=True)
class CampaignFacts(Result):
    campaign: Campaign
    waves: list[WaveSummary]

    def to_json(self) -> dict[str, Any]:
        # The campaign as its file defines it, grouped for a reader; not the database row's columns
        # (an internal id, the output folder, the template's file list).
        found, definition = self.campaign, self.campaign.definition
        facts: dict[str, Any] = plain(
            {
                "name": found.name,
                "kind": found.kind,
                "template": {
                    "path": found.template_path,
                    "version": found.template_version_id,
                    "sha256": found.template_sha256,
                },
                "languages": list(definition.languages),
                "cohort": definition.cohort,
                "wave_plan": definition.waves,
                "codes": {
                    "validity_days": found.validity_days,
                    "valid_until": found.valid_until,
                    "max_uses": found.max_uses,
                },
                "qr": {"content": found.qr_content, "signed": found.qr_signed},
                "created_at": found.created_at,
                "waves": self.waves,
                "definition": definition.text,
            }
        )
        return facts


def campaign_facts(connection: Connection, name: str) -> CampaignFacts:
    """The campaign ``name`` (``unknown_campaign`` if there is none) with its waves."""
    found = get_campaign(connection, name)
    return CampaignFacts(found, wave_summaries(connection, found.id))
