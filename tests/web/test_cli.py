"""The ``fundtrace`` entry point: help, exit codes, database selection, auto-migration."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

from tests.paths import REPO


def run_cli(*args: str, cwd: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    full_env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "config.cli", *args],
        cwd=cwd,
        env={**full_env, "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_help_lists_subcommands(tmp_path: Path) -> None:
    out = run_cli("--help", cwd=tmp_path)
    assert out.returncode == 0
    assert "usage: fundtrace" in out.stdout
    assert "migrate" in out.stdout


def test_unknown_subcommand_is_a_one_line_error_with_exit_2(tmp_path: Path) -> None:
    out = run_cli("frobnicate", cwd=tmp_path)
    assert out.returncode == 2
    assert out.stderr.strip().count("\n") == 0
    assert "frobnicate" in out.stderr


def test_bad_option_and_bad_database_url_exit_2(tmp_path: Path) -> None:
    assert run_cli("--bogus", "migrate", cwd=tmp_path).returncode == 2
    out = run_cli("--database-url", "mysql://x", "migrate", cwd=tmp_path)
    assert out.returncode == 2
    assert "postgres://" in out.stderr


def test_migrate_creates_the_embedded_sqlite_database_in_the_working_directory(
    tmp_path: Path,
) -> None:
    out = run_cli("migrate", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    db = tmp_path / "fundtrace.sqlite3"
    assert db.exists()
    tables = {r[0] for r in sqlite3.connect(db).execute("select name from sqlite_master")}
    assert {"data_collection_transfer", "user_management_customuser"} <= tables


def test_database_url_option_selects_the_database(tmp_path: Path) -> None:
    target = tmp_path / "elsewhere.sqlite3"
    out = run_cli("--database-url", f"sqlite:///{target}", "migrate", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert target.exists()
    assert not (tmp_path / "fundtrace.sqlite3").exists()


def test_scenario_generate_writes_importable_files_and_ground_truth(tmp_path: Path) -> None:
    out = run_cli(
        "scenario", "generate", "--kind", "btc-hot-wallet-drain", "--seed", "3",
        "--out", str(tmp_path / "s"), cwd=tmp_path,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert (tmp_path / "s" / "ground_truth.json").exists()
    shard = next((tmp_path / "s" / "btc").glob("*.jsonl"))
    imported = run_cli(
        "import", "--chain", "btc", "--format", "bitcoin-etl", "--no-progress", str(shard),
        cwd=tmp_path,
    )  # fmt: skip
    assert imported.returncode == 0, imported.stderr
    assert "imported" in imported.stdout
    bad = run_cli(
        "scenario", "generate", "--kind", "nope", "--seed", "1", "--out", "x", cwd=tmp_path
    )
    assert bad.returncode == 2
