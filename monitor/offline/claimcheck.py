"""The claim hand-check: sentences read by a person, the claim they state, and whether the
extractor found it (``eval/claims.csv``, sentences referenced by hash, never by their text)."""

from __future__ import annotations

import csv
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from monitor.models import Claim
from monitor.offline.labels import BLIND
from monitor.text import squash


def sentence_key(sentence: str) -> str:
    """Stable reference to a sentence without copying it: hash of its normalised text."""
    return hashlib.sha1(squash(sentence, lines=False).encode("utf-8")).hexdigest()[:12]


@dataclass(frozen=True)
class ExpectedClaim:
    file: str
    id: str
    sentence: str  # sentence_key
    subject: str
    action: str
    object: str


def load_expected_claims(path: Path) -> list[ExpectedClaim]:
    with path.open(encoding="utf-8", newline="") as handle:
        return [
            ExpectedClaim(row["file"], row["id"], row["sentence"], row["subject"], row["action"], row["object"])
            for row in csv.DictReader(handle)
        ]


def check_claims(expected: list[ExpectedClaim], tagged_by_id: dict) -> dict[str, object]:
    """Share of hand-checked sentences whose expected (subject, action, object) was extracted."""
    right, wrong = 0, []
    for item in expected:
        tagged = tagged_by_id.get(item.id)
        claims = [c for c in (tagged.claims if tagged else []) if sentence_key(c.sentence) == item.sentence]
        if any((c.subject, c.action, c.object) == (item.subject, item.action, item.object) for c in claims):
            right += 1
        else:
            got = sorted({f"{c.subject}-{c.action}->{c.object}" for c in claims}) or ["(none)"]
            wrong.append(f"{item.id} {item.sentence}: expected {item.subject}-{item.action}->{item.object}, got {', '.join(got)}")
    total = len(expected)
    sentences = len({(item.id, item.sentence) for item in expected})
    return {"checked": total, "sentences": sentences, "right": right, "share": right / total if total else 0.0, "wrong": wrong}


def shared_paths(names: Iterable[str], shared: Path) -> list[Path]:
    """The files (relative to the shared directory) the hand check refers to, blind file refused."""
    paths = [shared / name for name in sorted(set(names))]
    for path in paths:
        if BLIND in path.name:
            raise ValueError("the blind evaluation file is not part of the development set")
        if not path.exists():
            raise FileNotFoundError(f"file {path} not found (set NEWSMON_SHARED_DIR or --shared)")
    return paths


#: The readings of extracted claims, oldest first: a later reading of the same claim replaces an
#: earlier one (``docs/labelling.md``, "Reading extracted claims").
READINGS = (Path("eval/claims_census_check.csv"), Path("eval/claims_recheck_check.csv"))

ClaimKey = tuple[str, str, str, str, str, str]


def claim_key(claim: Claim) -> ClaimKey:
    """What a reading is of: the sentence (by hash: the same sentence in two copies of an
    article is one reading) and the whole claim."""
    return (sentence_key(claim.sentence), claim.subject, claim.action, claim.object, claim.topic, claim.modality)


def load_readings(paths: Iterable[Path]) -> dict[ClaimKey, tuple[bool, bool]]:
    """(triple right, modality right) per claim, each only when both readers said yes."""
    readings: dict[ClaimKey, tuple[bool, bool]] = {}
    for path in paths:
        if not path.exists():
            continue
        with path.open(encoding="utf-8", newline="") as handle:
            for row in csv.DictReader(handle):
                key = (
                    row["sentence_key"],
                    row["subject"],
                    row["action"],
                    row["object"],
                    row["topic"],
                    row["modality"],
                )
                triple = row["a_triple_ok"] == row["b_triple_ok"] == "yes"
                readings[key] = (triple, row["a_modality_ok"] == row["b_modality_ok"] == "yes")
    return readings


def score_readings(
    claims_by_split: dict[str, set[ClaimKey]], readings: dict[ClaimKey, tuple[bool, bool]]
) -> dict[str, dict[str, int]]:
    """Per split: the distinct claims the extractor gives in relevant articles, how many were
    read, and how many both readers found right: subject, action and object; the modality."""
    figures: dict[str, dict[str, int]] = {}
    for split, keys in sorted(claims_by_split.items()):
        read = [readings[k] for k in keys if k in readings]
        figures[split] = {
            "claims": len(keys),
            "read": len(read),
            "triple_right": sum(1 for triple, _ in read if triple),
            "modality_right": sum(1 for _, modality in read if modality),
        }
    return figures
