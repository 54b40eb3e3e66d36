"""``newsmon eval``: signal quality on the labelled development set, with the baseline.

Runs every article of the labelled corpus files through ``newsmon replay``'s logic (the
daemon's tag → detect path, story books in memory) and scores, per split (dev, held-out,
all):

* ``relevant``: precision, recall, F1 of the article-level decision;
* per topic: the same for "the article reports on <topic> on the watched link";
* stories: pairwise precision and recall over the gold-relevant articles (a pair is
  positive when both articles are in one labelled story group);
* the **sentence-keyword baseline** (a Russia word, a China word and an aid/sanctions word in
  one sentence) and the title-only story baseline, side by side, in the same run;
* the claim hand-check (``eval/claims.csv``): subject, action and object right.

Articles of the files that are not in the label file are negatives by the labelling
guideline (they do not name both sides; a random sample was checked); any the system
flags is listed so it can be checked by hand. See docs/labelling.md. An article that fails
at any stage is counted, listed with its error and scored as not relevant; the run goes on.
"""

from __future__ import annotations

import csv
import hashlib
import itertools
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from monitor.models import Article, Decision
from monitor.offline.readers import read_articles
from monitor.relevance.stories import title_key
from monitor.text import squash

SPLITS = ("dev", "heldout", "all")
TOPICS = ("military_aid", "sanctions")
BLIND = "hellaskella33"

# --- the baseline the issue measures against ---------------------------------------------
RUSSIA_WORDS = re.compile(r"\b(Russia|Russian|Russians|Moscow|Kremlin|Putin)\b")
CHINA_WORDS = re.compile(r"\b(China|Chinese|Beijing|Xi)\b")
SANCTION_WORDS = re.compile(r"\b(sanction\w*|embargo\w*|export controls?|blacklist\w*)\b", re.I)
AID_WORDS = re.compile(
    r"\b(military (aid|assistance|support|equipment|supplies|hardware)|lethal aid|weapons?|arms|ammunition|"
    r"munitions|artillery|drones?|dual-use)\b",
    re.I,
)
SENTENCE_END = re.compile(r"(?<=[.!?])\s+|\n+")


def baseline_topics(article: Article) -> list[str]:
    """Topics of the sentence-keyword baseline: Russia + China + topic word in one sentence."""
    topics: set[str] = set()
    for sentence in SENTENCE_END.split(f"{article.title}\n{article.body}"):
        if RUSSIA_WORDS.search(sentence) and CHINA_WORDS.search(sentence):
            if SANCTION_WORDS.search(sentence):
                topics.add("sanctions")
            if AID_WORDS.search(sentence):
                topics.add("military_aid")
    return sorted(topics)


# --- labels -------------------------------------------------------------------------------
@dataclass(frozen=True)
class Label:
    file: str
    id: str
    relevant: bool
    topics: frozenset[str]
    story: str
    split: str


def load_labels(path: Path) -> dict[str, Label]:
    labels: dict[str, Label] = {}
    with path.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            if BLIND in row["file"]:
                raise ValueError(f"{path}: the blind evaluation file may not be labelled or read")
            labels[row["id"]] = Label(
                file=row["file"],
                id=row["id"],
                relevant=row["relevant"] == "1",
                topics=frozenset(t for t in row["topics"].split(";") if t),
                story=row["story"],
                split=row["split"],
            )
    return labels


# --- scoring ------------------------------------------------------------------------------
@dataclass
class Counts:
    tp: int = 0
    fp: int = 0
    fn: int = 0
    tn: int = 0

    def add(self, gold: bool, said: bool) -> None:
        if gold and said:
            self.tp += 1
        elif said:
            self.fp += 1
        elif gold:
            self.fn += 1
        else:
            self.tn += 1

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    def row(self) -> dict[str, float | int]:
        return {"p": self.precision, "r": self.recall, "f1": self.f1, "tp": self.tp, "fp": self.fp, "fn": self.fn}


@dataclass
class Judgement:
    """What the system and the baseline said about one article."""

    id: str
    relevant: bool
    topics: frozenset[str]
    story: str | None
    baseline_topics: frozenset[str]
    title_story: str


@dataclass
class Report:
    scores: dict[str, dict[str, dict]] = field(default_factory=dict)
    unlabelled_positives: list[str] = field(default_factory=list)
    errors: dict[str, list[str]] = field(default_factory=dict)
    claims_check: dict[str, Any] = field(default_factory=dict)
    articles: int = 0
    #: Story state after the run, per route: open stories and JSON bytes of the table value.
    state: dict[str, dict[str, int]] = field(default_factory=dict)
    #: Articles that failed at some stage (id -> "<stage>: <type>: <message>"); scored as
    #: not relevant, which is what the daemon says about an article it dead-letters.
    failures: dict[str, str] = field(default_factory=dict)


def pairwise(ids: list[str], gold: dict[str, str], said: dict[str, str | None]) -> Counts:
    """Pairwise clustering counts: a pair is positive when both are in one group."""
    counts = Counts()
    for a, b in itertools.combinations(sorted(ids), 2):
        same_gold = gold[a] == gold[b]
        same_said = said.get(a) is not None and said.get(a) == said.get(b)
        counts.add(same_gold, same_said)
    return counts


def score(labels: dict[str, Label], outcomes: dict[str, Judgement]) -> Report:
    report = Report(articles=len(outcomes))
    for split in SPLITS:
        ids = [i for i, label in labels.items() if i in outcomes and (split == "all" or label.split == split)]
        if split == "all":
            # Unlabelled articles are negatives by the guideline; they count in "all".
            ids += [i for i in outcomes if i not in labels]
        system, base = {"relevant": Counts()}, {"relevant": Counts()}
        for topic in TOPICS:
            system[topic], base[topic] = Counts(), Counts()
        for i in ids:
            label = labels.get(i)
            gold_relevant = bool(label and label.relevant)
            gold_topics = label.topics if label else frozenset()
            outcome = outcomes[i]
            system["relevant"].add(gold_relevant, outcome.relevant)
            base["relevant"].add(gold_relevant, bool(outcome.baseline_topics))
            for topic in TOPICS:
                system[topic].add(topic in gold_topics, outcome.relevant and topic in outcome.topics)
                base[topic].add(topic in gold_topics, topic in outcome.baseline_topics)
        gold_ids = [i for i in ids if labels.get(i) and labels[i].relevant]
        gold_groups = {i: labels[i].story for i in gold_ids}
        stories = pairwise(gold_ids, gold_groups, {i: outcomes[i].story for i in gold_ids})
        title_stories = pairwise(gold_ids, gold_groups, {i: outcomes[i].title_story for i in gold_ids})
        report.scores[split] = {
            "system": {k: v.row() for k, v in system.items()} | {"stories": stories.row()},
            "baseline": {k: v.row() for k, v in base.items()} | {"stories": title_stories.row()},
            "articles": {"n": len(ids), "relevant": len(gold_ids)},
        }
        if split == "all":
            report.errors = {
                "false_positives": sorted(i for i in ids if outcomes[i].relevant and not (labels.get(i) and labels[i].relevant)),
                "false_negatives": sorted(i for i in gold_ids if not outcomes[i].relevant),
            }
    report.unlabelled_positives = sorted(i for i, o in outcomes.items() if o.relevant and i not in labels)
    return report


def outcomes_of(pairs: Iterable[tuple[Article, Decision | None]]) -> dict[str, Judgement]:
    out: dict[str, Judgement] = {}
    for article, decision in pairs:
        out[article.id] = Judgement(
            id=article.id,
            relevant=bool(decision and decision.relevant),
            topics=frozenset(decision.topics if decision else ()),
            story=decision.story if decision else None,
            baseline_topics=frozenset(baseline_topics(article)),
            title_story=title_key(article.title) or article.id,
        )
    return out


# --- the claim hand-check -------------------------------------------------------------------
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
    """The files (relative to the shared directory) the labels refer to, blind file refused."""
    paths = [shared / name for name in sorted(set(names))]
    for path in paths:
        if BLIND in path.name:
            raise ValueError("the blind evaluation file is not part of the development set")
        if not path.exists():
            raise FileNotFoundError(f"labelled file {path} not found (set NEWSMON_SHARED_DIR or --shared)")
    return paths


def run(replayer, labels_path: Path, claims_path: Path | None, shared: Path, progress=None) -> Report:
    """Replay every article of the labelled files, score, and run the claim hand-check."""
    labels = load_labels(labels_path)
    expected = load_expected_claims(claims_path) if claims_path else []
    wanted = {item.id for item in expected}
    tagged_by_id: dict = {}
    pairs = []
    failures: dict[str, str] = {}
    for n, (article, tagged, verdict, error) in enumerate(
        replayer.verdicts(read_articles(shared_paths((label.file for label in labels.values()), shared))), 1
    ):
        pairs.append((article, verdict.decision if verdict else None))
        if error:
            failures[article.id] = error
        if tagged is not None and article.id in wanted:
            tagged_by_id[article.id] = tagged
        if progress:
            progress(n)
    report = score(labels, outcomes_of(pairs))
    report.failures = failures
    for route, book in replayer.books.items():
        report.state[route] = {"stories": len(book.stories), "bytes": len(json.dumps(book.state()))}
    extra = [item.file for item in expected if item.id not in tagged_by_id]
    if extra:
        # Hand-checked sentences outside the labelled corpus (the seeds): tag them alone.
        missing = wanted - set(tagged_by_id)
        articles = [a for a in read_articles(shared_paths(extra, shared)) if a.id in missing]
        for article, tagged in zip(articles, replayer.tag(articles)):
            if isinstance(tagged, str):
                report.failures[article.id] = tagged
            else:
                tagged_by_id[article.id] = tagged
    if expected:
        report.claims_check = check_claims(expected, tagged_by_id)
    return report


def format_report(report: Report) -> str:
    lines = []
    for split in SPLITS:
        block = report.scores[split]
        n = block["articles"]
        lines.append(f"== {split}: {n['n']} articles, {n['relevant']} relevant by label")
        lines.append(
            f"   {'measure':<14}{'system P':>9}{'R':>7}{'F1':>7}   {'baseline P':>10}{'R':>7}{'F1':>7}   (system tp/fp/fn)"
        )
        for key in ("relevant", *TOPICS, "stories"):
            s, b = block["system"][key], block["baseline"][key]
            lines.append(
                f"   {key:<14}{s['p']:>9.3f}{s['r']:>7.3f}{s['f1']:>7.3f}   {b['p']:>10.3f}{b['r']:>7.3f}{b['f1']:>7.3f}"
                f"   ({s['tp']}/{s['fp']}/{s['fn']})"
            )
    lines.append(
        "   baseline for stories: same normalised title (the spine's rule); stories are pairwise over gold-relevant articles"
    )
    lines.append(f"false positives: {', '.join(report.errors.get('false_positives', [])) or 'none'}")
    lines.append(f"false negatives: {', '.join(report.errors.get('false_negatives', [])) or 'none'}")
    lines.append(f"flagged but unlabelled: {', '.join(report.unlabelled_positives) or 'none'}")
    lines.append(f"failed articles: {len(report.failures)} (scored as not relevant)")
    for article_id, error in sorted(report.failures.items()):
        lines.append(f"   failed: {article_id}: {error}")
    for route, size in sorted(report.state.items()):
        lines.append(f"story state {route}: {size['stories']} open stories, {size['bytes']} bytes of JSON per table write")
    check = report.claims_check
    if check:
        lines.append(
            f"claims hand-check: {check['right']}/{check['checked']} expected claims right "
            f"in {check['sentences']} sentences ({check['share']:.1%}; subject, action and object)"
        )
        for miss in check["wrong"]:
            lines.append(f"   miss: {miss}")
    return "\n".join(lines)
