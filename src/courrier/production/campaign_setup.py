"""Defining a campaign from its file: the composer checks the template, then the campaign is recorded.

``campaigns/`` sits below ``compose/`` (``tests/test_layers.py``), so the campaign store cannot check a
template itself. This use case sits in ``production/``, which sees both, so every edge (``courrier
campaign create``, later the web) gets the same rule: a template ``courrier template check`` rejects is
refused with the check's first code (``template_not_found``, ``unknown_placeholder``...) before anything
is recorded, and so before any code is issued for it.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Engine

from courrier.campaigns.definition import CampaignDefinition
from courrier.campaigns.store import Campaign, create_campaign, update_template
from courrier.compose.check import require_valid_template


def define_campaign(
    engine: Engine, definition: CampaignDefinition, *, actor: str, now: dt.datetime | None = None
) -> Campaign:
    """A new campaign from ``definition`` with its template version, once its template passes the
    check (:func:`courrier.campaigns.store.create_campaign` for what else is refused)."""
    require_valid_template(definition.template)
    return create_campaign(engine, definition, actor=actor, now=now)


def redefine_template(
    engine: Engine, definition: CampaignDefinition, *, actor: str, now: dt.datetime | None = None
) -> tuple[Campaign, bool]:
    """An existing campaign's template folder recorded again as its version, once it passes the check
    (``campaign create FILE --update-template``; :func:`courrier.campaigns.store.update_template`);
    returns the campaign and whether the version changed."""
    require_valid_template(definition.template)
    return update_template(engine, definition, actor=actor, now=now)
