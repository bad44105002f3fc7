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


def test_register_generate_into_a_folder_that_cannot_be_made_is_one_line(tmp_path: Path):
    (tmp_path / "a-file").write_text("in the way", "utf-8")
    for name in ("r.csv", "r.parquet"):
        result = CliRunner().invoke(
            courrier, ["register", "generate", "--people", "3", "-o", str(tmp_path / "a-file" / "sub" / name)]
        )
        assert result.exit_code == 1, result.output
        assert result.output.strip().endswith("[unwritable_folder]"), result.output
        assert len(result.output.strip().splitlines()) == 1


def _campaign_file(tmp_path: Path, name: str) -> Path:
    from .test_promises import CAMPAIGN

    path = tmp_path / f"{name}.toml"
    path.write_text(
        CAMPAIGN.format(template=TEMPLATE).replace('name = "promises"', f'name = "{name}"'), "utf-8"
    )
    return path


def test_the_actor_on_events_is_the_login_name_when_user_is_unset(db_url: str, tmp_path: Path):
    import os
    import pwd
    import subprocess
    import sys

    from sqlalchemy import select

    from courrier.db import make_engine
    from courrier.db.schema import events

    env = {k: v for k, v in os.environ.items() if k not in ("USER", "LOGNAME", "COURRIER_ACTOR")}
    env["COURRIER_DATABASE_URL"] = db_url
    done = subprocess.run(
        [sys.executable, "-m", "courrier", "campaign", "create", str(_campaign_file(tmp_path, "actor"))],
        env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    engine = make_engine(db_url)
    with engine.connect() as connection:
        actors = set(connection.execute(select(events.c.actor)).scalars())
    engine.dispose()
    assert actors == {pwd.getpwuid(os.getuid()).pw_name}


def test_db_status_exits_1_when_an_upgrade_is_needed(tmp_path: Path, monkeypatch):
    from courrier.db import make_engine, upgrade

    url = f"sqlite:///{tmp_path / 'old.db'}"
    engine = make_engine(url)
    upgrade(engine, "0007_web")
    engine.dispose()
    monkeypatch.setenv("COURRIER_DATABASE_URL", url)
    result = CliRunner().invoke(courrier, ["db", "status"])
    assert result.exit_code == 1, result.output
    assert "upgrade" in result.output


def test_campaign_list_is_aligned(cli_env, tmp_path: Path):
    for name in ("a", "a-much-longer-campaign-name"):
        assert (
            CliRunner()
            .invoke(courrier, ["campaign", "create", str(_campaign_file(tmp_path, name))])
            .exit_code
            == 0
        )
    lines = CliRunner().invoke(courrier, ["campaign", "list"]).output.splitlines()
    assert len(lines) == 3
    assert (
        len({line.index("kind" if number == 0 else "invitation") for number, line in enumerate(lines)}) == 1
    )
    assert len({len(line) for line in lines}) == 1  # the counts end in one column


def test_the_readme_gives_status_and_posting_their_campaign():
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text("utf-8")
    assert "`courrier status CAMPAIGN`" in readme
    assert "`courrier posting CAMPAIGN" in readme
