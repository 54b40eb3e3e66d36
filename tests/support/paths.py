"""Where the shared real data lives (``../shared`` beside the project root)."""

from __future__ import annotations

import os
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[2]
SHARED = Path(os.environ.get("NEWSMON_SHARED_DIR", PROJECT.parent / "shared")).resolve()
SEEDS = SHARED / "seeds"
CORPUS = SHARED / "corpus"
FEEDS = SHARED / "feeds"
CONFIG = PROJECT / "config"
# Reserved for blind evaluation: no test or tool may read it.
BLIND_FILE = CORPUS / "hellaskella33_key_annotated_articles.json"


def seed(prefix: str) -> Path:
    """The seed article whose file name starts with ``prefix`` ("000")."""
    (match,) = sorted(SEEDS.glob(f"{prefix}_*.txt"))
    return match


def shared_glob(directory: Path, pattern: str) -> list[Path]:
    """The files under ``directory`` matching ``pattern``; when the shared data is missing, one
    placeholder path, so a parametrised test still runs and fails (never an empty, skipped set)."""
    found = sorted(path for path in directory.glob(pattern) if path.is_file())
    return found or [directory / pattern]


MISSING_SHARED = (
    f"this test reads the shared real data, not found at {SHARED}: put shared/ beside the project root or set NEWSMON_SHARED_DIR"
)
