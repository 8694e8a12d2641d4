"""Where the shared real-data fixtures live: ``../shared`` beside the repository (as in CI)."""

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("FUNDTRACE_SHARED", REPO.parent / "shared")).resolve()
FIXTURES = SHARED / "fixtures"
LABELS = SHARED / "labels"

needs_shared = pytest.mark.skipif(
    not FIXTURES.is_dir(), reason=f"shared fixtures not found at {FIXTURES}"
)
