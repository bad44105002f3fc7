"""Issue 11's CLI habits that need no campaign: `template render --pages`, stderr on a compose."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from courrier.cli import courrier

from ..compose.conftest import EXAMPLES
from ..conftest import require_binary

TEMPLATE = EXAMPLES / "mass-testing"


def render(tmp_path: Path, pages: str):  # type: ignore[no-untyped-def]
    png = tmp_path / f"png-{pages.replace(',', '_')}"
    args = ["template", "render", str(TEMPLATE), "--records", str(TEMPLATE / "sample.jsonl")]
    result = CliRunner().invoke(
        courrier, [*args, "-o", str(tmp_path / "l.pdf"), "--png", str(png), "--pages", pages, "--json"]
    )
    return result, png


def test_render_pages_takes_ranges_and_all_and_names_a_page_that_does_not_exist(tmp_path: Path):
    require_binary("gs")
    result, png = render(tmp_path, "1-2,4")
    assert result.exit_code == 0, result.output
    assert sorted(path.name for path in png.iterdir()) == ["page-1.png", "page-2.png", "page-4.png"]
    total = json.loads(result.output)["pages"]
    result, png = render(tmp_path, "all")
    assert result.exit_code == 0, result.output
    assert len(list(png.iterdir())) == total
    result, png = render(tmp_path, f"2,{total + 1}")
    assert result.exit_code == 1
    assert json.loads(result.stdout)["error"]["code"] == "page_not_found"
    assert f"page {total + 1} does not exist" in result.output
    assert "Traceback" not in result.output
    assert not png.exists()  # nothing half-done
    for bad in ("3-1", "0", "one", "1-"):
        result, _ = render(tmp_path, bad)
        assert result.exit_code == 2, (bad, result.output)
        assert "--pages" in result.output
