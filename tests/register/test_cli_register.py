"""The `courrier register` commands as an operator runs them."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from courrier.cli import courrier


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(courrier, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_generate_then_import_prints_exactly_the_summary_keys(cli_env):
    code, out, _ = run(
        "register",
        "generate",
        "--people",
        "400",
        "--cross-border",
        "60",
        "--seed",
        "5",
        "--bad-rows",
        "0.05",
        "-o",
        "register.csv",
    )
    assert code == 0, out
    assert "planted defects" in out
    code, out, err = run("register", "import", "register.csv", "--json")
    assert code == 0, err
    summary = json.loads(out)
    assert set(summary) == {"read", "inserted", "updated", "unchanged", "rejected"}
    assert summary["read"] == 460
    assert summary["inserted"] + summary["rejected"] == 460
    assert Path("register.rejects.csv").exists()
    assert "ignored column" not in err


def test_generate_is_deterministic_for_a_seed(cli_env):
    for name in ("a.csv", "b.csv"):
        assert run("register", "generate", "--people", "300", "--seed", "9", "-o", name)[0] == 0
    assert Path("a.csv").read_bytes() == Path("b.csv").read_bytes()
    assert run("register", "generate", "--people", "300", "--seed", "10", "-o", "c.csv")[0] == 0
    assert Path("a.csv").read_bytes() != Path("c.csv").read_bytes()


def test_generate_parquet_and_import_it(cli_env):
    assert run("register", "generate", "--people", "200", "--cross-border", "50", "-o", "r.parquet")[0] == 0
    code, out, _ = run("register", "import", "r.parquet", "--json")
    assert code == 0
    assert json.loads(out)["inserted"] == 250


def test_stats_counts_by_source_language_and_age(cli_env):
    run("register", "generate", "--people", "500", "--cross-border", "100", "--seed", "2", "-o", "r.csv")
    run("register", "import", "r.csv")
    code, out, _ = run("register", "stats", "--on", "2026-01-01", "--json")
    assert code == 0
    stats = json.loads(out)
    assert stats["persons"] == 600
    assert stats["by_source"] == {"ccss": 100, "rnpp": 500}
    assert sum(stats["by_age_band"].values()) == 600
    assert sum(stats["by_commune"].values()) == 600
    assert stats["by_commune"]["(abroad)"] == 100
    assert set(stats["by_language"]) <= {"lb", "fr", "de", "en", "pt"}


def test_a_bad_file_fails_in_one_line(cli_env, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_bytes(b"national_id;family_name\n1;2\n")
    code, _, err = run("register", "import", str(bad))
    assert code == 1
    assert err.strip().count("\n") == 0
    assert "missing_columns" in err


def test_import_on_an_unmigrated_database_says_so(tmp_path, monkeypatch):
    monkeypatch.setenv("COURRIER_DATABASE_URL", f"sqlite:///{tmp_path / 'new.db'}")
    path = tmp_path / "r.csv"
    path.write_text("national_id\n", encoding="utf-8")
    code, _, err = run("register", "import", str(path))
    assert code == 1
    assert "courrier db upgrade" in err
