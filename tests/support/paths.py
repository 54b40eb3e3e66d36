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
