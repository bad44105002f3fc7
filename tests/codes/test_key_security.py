"""Key files that cannot be lost or leaked by an ordinary mistake, and tokens that cannot be replayed
across campaigns or after revocation."""

from __future__ import annotations

import datetime as dt
import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from courrier.cli import courrier
from courrier.codes.keys import add_signing_key, create_key_file, load_keys
from courrier.codes.token import sign_token, verify_token
from courrier.db import make_engine
from courrier.errors import CodeError, ConfigError

from ..campaigns.conftest import CAMPAIGN, add_persons, undated

TODAY = dt.date(2021, 7, 1)


@pytest.fixture
def key_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "courrier.keys"
    monkeypatch.setenv("COURRIER_KEY_FILE", str(path))
    monkeypatch.delenv("COURRIER_KEYS", raising=False)
    monkeypatch.delenv("COURRIER_ALLOW_SHARED_KEY_FILE", raising=False)
    return path


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_export_public_never_overwrites_the_key_file_or_anything(key_env: Path, tmp_path: Path):
    runner = CliRunner()
    assert runner.invoke(courrier, ["keys", "create"]).exit_code == 0
    before = key_env.read_bytes()
    over_keys = runner.invoke(courrier, ["keys", "export-public", "-o", str(key_env)])
    assert over_keys.exit_code == 1
    assert "file_exists" in over_keys.output
    assert key_env.read_bytes() == before
    other = tmp_path / "notes.txt"
    other.write_text("mine")
    assert runner.invoke(courrier, ["keys", "export-public", "-o", str(other)]).exit_code == 1
    assert other.read_text() == "mine"
    link = tmp_path / "link.json"
    link.symlink_to(tmp_path / "target.json")
    assert runner.invoke(courrier, ["keys", "export-public", "-o", str(link)]).exit_code == 1
    assert not (tmp_path / "target.json").exists()
    fresh = runner.invoke(courrier, ["keys", "export-public", "-o", "public.json"])
    assert fresh.exit_code == 0, fresh.output
    assert json.loads((tmp_path / "public.json").read_text())["format"] == "courrier-public-key"


def test_rotate_ignores_a_prepared_or_symlinked_temporary_file(key_env: Path, tmp_path: Path):
    create_key_file(key_env)
    prepared = key_env.with_name(key_env.name + ".new")
    prepared.write_text("attacker's")
    prepared.chmod(0o644)
    target = tmp_path / "elsewhere"
    (tmp_path / f".{key_env.name}.new").symlink_to(target)
    old_umask = os.umask(0)
    try:
        assert add_signing_key(key_env) == 2
    finally:
        os.umask(old_umask)
    assert _mode(key_env) == 0o600
    assert prepared.read_text() == "attacker's"
    assert not target.exists()
    assert sorted(load_keys(str(key_env)).signing_keys) == [1, 2]
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".new") and p != prepared] == [
        f".{key_env.name}.new"
    ]


def test_two_rotations_at_once_add_two_keys(key_env: Path):
    create_key_file(key_env)
    script = "from pathlib import Path; import sys; from courrier.codes.keys import add_signing_key; "
    script += "add_signing_key(Path(sys.argv[1]))"
    runs = [subprocess.Popen([sys.executable, "-c", script, str(key_env)]) for _ in range(4)]
    assert [run.wait() for run in runs] == [0] * 4
    assert sorted(load_keys(str(key_env)).signing_keys) == [1, 2, 3, 4, 5]


def test_a_key_file_others_can_read_is_refused_unless_allowed(key_env: Path):
    created = create_key_file(key_env)
    assert _mode(key_env) == 0o600
    key_env.chmod(0o644)
    with pytest.raises(ConfigError) as caught:
        load_keys(str(key_env))
    assert caught.value.code == "key_file_shared"
    runner = CliRunner()
    refused = runner.invoke(courrier, ["keys", "export-public", "-o", "public.json"])
    assert refused.exit_code == 1
    assert "key_file_shared" in refused.output
    assert load_keys(str(key_env), allow_shared=True).hmac_key == created.hmac_key
    allowed = runner.invoke(
        courrier, ["keys", "export-public", "-o", "public.json"], env={"COURRIER_ALLOW_SHARED_KEY_FILE": "1"}
    )
    assert allowed.exit_code == 0, allowed.output


def test_a_token_of_another_campaign_is_refused(key_env: Path):
    keys = create_key_file(key_env)
    token = sign_token(keys, campaign_id=7, code_id=9, valid_from=TODAY, valid_until=TODAY)
    public = {1: keys.public_key(1)}
    assert verify_token(token, public, TODAY, campaign_id=7).code_id == 9
    with pytest.raises(CodeError) as caught:
        verify_token(token, public, TODAY, campaign_id=8)
    assert caught.value.code == "wrong_campaign"
    runner = CliRunner()
    assert runner.invoke(courrier, ["keys", "export-public", "-o", "public.json"]).exit_code == 0
    base = ["codes", "verify", token, "--public-key", "public.json", "--today", "2021-07-01"]
    assert runner.invoke(courrier, [*base, "--campaign", "7"]).exit_code == 0
    other = runner.invoke(courrier, [*base, "--campaign", "8"])
    assert other.exit_code == 1
    assert "wrong_campaign" in other.output
    assert runner.invoke(courrier, base).exit_code == 2  # the campaign must be named


def test_a_revoked_codes_token_fails_with_the_revocation_list(
    cli_env, key_env: Path, tmp_path: Path, template_dir
):
    engine = make_engine(cli_env)
    add_persons(engine, *[{"birth_date": dt.date(1925 + n, 3, 1)} for n in range(3)])
    engine.dispose()
    (tmp_path / "campaign.toml").write_text(undated(CAMPAIGN))
    runner = CliRunner()
    for command in (
        ["keys", "create"],
        ["campaign", "create", "campaign.toml"],
        ["campaign", "plan", "vaccination-75plus"],
        ["codes", "issue", "vaccination-75plus"],
        ["keys", "export-public", "-o", "public.json"],
    ):
        done = runner.invoke(courrier, command)
        assert done.exit_code == 0, (command, done.output)
    reissued = runner.invoke(
        courrier, ["codes", "reissue", "vaccination-75plus", "--person", "1", "--new-code", "--json"]
    )
    assert reissued.exit_code == 0, reissued.output
    facts = json.loads(reissued.output)
    assert "code" not in facts  # never in clear unless asked
    revoked_id = facts["revoked_code_id"]
    keys = load_keys(str(key_env))
    with engine.connect() as connection:
        campaign_id = connection.exec_driver_sql("SELECT id FROM campaigns").scalar_one()
    engine.dispose()
    revoked = sign_token(
        keys, campaign_id=campaign_id, code_id=revoked_id, valid_from=TODAY, valid_until=TODAY
    )
    kept = sign_token(
        keys, campaign_id=campaign_id, code_id=facts["code_id"], valid_from=TODAY, valid_until=TODAY
    )
    exported = runner.invoke(
        courrier, ["codes", "export-revocations", "vaccination-75plus", "-o", "revoked.json"]
    )
    assert exported.exit_code == 0, exported.output
    assert f"--campaign {campaign_id}" in exported.output
    assert (
        runner.invoke(
            courrier, ["codes", "export-revocations", "vaccination-75plus", "-o", "revoked.json"]
        ).exit_code
        == 1
    )

    def verify(token: str, *extra: str) -> tuple[int, str]:
        result = runner.invoke(
            courrier,
            ["codes", "verify", token, "--public-key", "public.json", "--campaign", str(campaign_id),
             "--today", "2021-07-01", *extra],
        )  # fmt: skip
        return result.exit_code, result.output

    assert verify(revoked)[0] == 0  # a genuine signature: only the list can tell
    code, output = verify(revoked, "--revocations", "revoked.json")
    assert code == 1
    assert "code_revoked" in output
    assert verify(kept, "--revocations", "revoked.json")[0] == 0
    # A list altered to un-revoke the code fails its signature.
    listed = json.loads((tmp_path / "revoked.json").read_text())
    listed["code_ids"] = []
    (tmp_path / "forged.json").write_text(json.dumps(listed))
    code, output = verify(revoked, "--revocations", "forged.json")
    assert code == 1
    assert "bad_signature" in output
