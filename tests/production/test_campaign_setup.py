"""Defining a campaign checks its template first, in the library (production/ sees both campaigns/ and
compose/), so every edge refuses what `courrier template check` rejects before anything is recorded."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, func, select

from courrier.campaigns.store import get_campaign
from courrier.db.schema import campaigns, events, template_versions
from courrier.errors import TemplateError
from courrier.production.campaign_setup import define_campaign, redefine_template

from ..campaigns.conftest import NOW, MakeDefinition, make_definition, template_dir

__all__ = ["make_definition", "template_dir"]


def _counts(engine: Engine) -> tuple[int, int, int]:
    with engine.connect() as connection:
        return tuple(  # type: ignore[return-value]
            connection.execute(select(func.count()).select_from(table)).scalar_one()
            for table in (campaigns, template_versions, events)
        )


def _break(template_dir) -> str:  # type: ignore[no-untyped-def]
    """A placeholder typo in the French text; returns the good text."""
    text = template_dir / "text.fr.md"
    good = text.read_text("utf-8")
    text.write_text(good.replace("{{ valid_from", "{{ valid_frm"), "utf-8")
    return good


def test_a_template_the_check_rejects_is_refused_with_its_code_and_nothing_is_recorded(
    engine: Engine, make_definition: MakeDefinition, template_dir
):
    _break(template_dir)
    with pytest.raises(TemplateError) as refused:
        define_campaign(engine, make_definition(), actor="t", now=NOW)
    assert refused.value.code == "unknown_placeholder"
    assert _counts(engine) == (0, 0, 0)


def test_a_missing_template_folder_is_refused(engine: Engine, make_definition: MakeDefinition, template_dir):
    definition = make_definition(template='template = "nowhere"')
    with pytest.raises(TemplateError) as refused:
        define_campaign(engine, definition, actor="t", now=NOW)
    assert refused.value.code == "template_not_found"
    assert _counts(engine) == (0, 0, 0)


def test_a_good_template_is_recorded_and_a_broken_update_keeps_the_version(
    engine: Engine, make_definition: MakeDefinition, template_dir
):
    created = define_campaign(engine, make_definition(), actor="t", now=NOW)
    with engine.connect() as connection:
        assert get_campaign(connection, created.name).template_version_id == created.template_version_id
    before = _counts(engine)
    good = _break(template_dir)
    with pytest.raises(TemplateError) as refused:
        redefine_template(engine, make_definition(), actor="t", now=NOW)
    assert refused.value.code == "unknown_placeholder"
    assert _counts(engine) == before
    (template_dir / "text.fr.md").write_text(good + "\nFin.\n", "utf-8")  # fixed, and changed
    updated, changed = redefine_template(engine, make_definition(), actor="t", now=NOW)
    assert changed
    assert updated.template_version_id != created.template_version_id
