"""The labelled development set behind ``newsmon eval`` and ``newsmon train-relevance``.

Three files, none holding article text (the articles are read from ``../shared/corpus`` at run
time):

* the shared set ``../shared/corpus/labels/russia_china_devset.csv``: 898 articles naming both
  Russia and China, two independent annotators each (its README says how it was made);
* ours, ``eval/labels.csv``: every candidate of the three 2022–2024 corpus files (an article
  naming both sides) labelled in two independent passes, plus a random sample of the rest;
* ``eval/adjudications.csv``: where we believe a shared label is wrong, our label and why (the
  shared file is never edited).

Labels are ``yes``, ``no`` or ``borderline``; borderline articles are left out of the scores.
The split is by time: the latest quarter of the dated labelled articles is the held-out split,
scored only at the end; everything earlier (and undated) is the development split. Articles of
our three files that are not labelled do not name both sides, so by the guideline they are
negatives; they count in the "all" split.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path

BLIND = "hellaskella33"
SPLITS = ("dev", "heldout", "all")
TOPICS = ("military_aid", "sanctions")
#: The latest share of the dated labelled articles that forms the held-out split.
HELDOUT_SHARE = 0.25
SHARED_SET = Path("corpus/labels/russia_china_devset.csv")


@dataclass(frozen=True)
class Label:
    file: str  # relative to the shared corpus folder
    id: str
    published: str  # YYYY-MM-DD, or "" when unknown
    alert: str  # yes, no, borderline
    topics: frozenset[str]
    story: str
    origin: str  # "shared" or "ours"
    split: str = "dev"

    @property
    def relevant(self) -> bool:
        return self.alert == "yes"

    @property
    def scored(self) -> bool:
        """Borderline articles are left out of every score."""
        return self.alert in ("yes", "no")


def _refuse_blind(path: Path, file: str) -> None:
    if BLIND in file:
        raise ValueError(f"{path}: the blind evaluation file may not be labelled or read")


def _read(path: Path, origin: str) -> dict[str, Label]:
    labels: dict[str, Label] = {}
    with path.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            file = row["file"].removeprefix("corpus/")
            _refuse_blind(path, file)
            topics = frozenset(topic for topic in TOPICS if row.get(topic) == "yes")
            labels[row["id"]] = Label(
                file=file,
                id=row["id"],
                published=(row.get("published") or "")[:10],
                alert=row["alert"],
                topics=topics,
                story=row.get("story") or "",
                origin=origin,
            )
    return labels


def load_labels(shared: Path, ours: Path | None, adjudications: Path | None = None) -> dict[str, Label]:
    """Every label, our adjudications applied, each with its time split."""
    labels = _read(shared / SHARED_SET, "shared")
    if ours is not None:
        labels.update(_read(ours, "ours"))
    if adjudications is not None and adjudications.exists():
        with adjudications.open(encoding="utf-8", newline="") as handle:
            for row in csv.DictReader(handle):
                if row["id"] in labels:
                    old = labels[row["id"]]
                    topics = frozenset(t for t in TOPICS if row.get(t) == "yes") if row["alert"] == "yes" else frozenset()
                    labels[row["id"]] = replace(
                        old, alert=row["alert"], topics=topics or old.topics, story=row.get("story") or old.story
                    )
    return with_splits(labels)


def heldout_cut(labels: Iterable[Label]) -> str:
    """The first date of the held-out split: the latest ``HELDOUT_SHARE`` of dated articles."""
    dates = sorted(label.published for label in labels if label.published)
    if not dates:
        return "9999-12-31"
    return dates[min(len(dates) - 1, int(len(dates) * (1 - HELDOUT_SHARE)))]


def with_splits(labels: dict[str, Label]) -> dict[str, Label]:
    cut = heldout_cut(labels.values())
    return {
        key: replace(label, split="heldout" if label.published and label.published >= cut else "dev")
        for key, label in labels.items()
    }


def in_split(label: Label | None, split: str) -> bool:
    """Whether an article (labelled or not) counts in ``split``; unlabelled ones only in "all"."""
    if split == "all":
        return label is None or label.scored
    return label is not None and label.scored and label.split == split


def corpus_files(labels: Iterable[Label]) -> tuple[list[str], set[str]]:
    """(files to read, files whose unlabelled articles are negatives: every candidate labelled)."""
    files = sorted({label.file for label in labels})
    covered = {label.file for label in labels if label.origin == "ours"}
    return files, covered
