"""The campaign fixtures (synthetic persons, a campaign file, a template folder) for ledger tests."""

from __future__ import annotations

from ..campaigns.conftest import make_definition, template_dir

__all__ = ["make_definition", "template_dir"]
