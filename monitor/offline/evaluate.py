"""``newsmon eval``: signal quality on the labelled development set, beside a keyword baseline.

Runs every labelled article (``monitor.offline.labels``) through ``newsmon replay``'s logic (the
daemon's tag → detect path, story books in memory), in publication order, and scores per split
(dev, held-out, all), with the counts beside every rate:

* ``relevant`` and each topic: precision, recall, F1 (borderline articles left out);
* the precision–recall curve of the relevance score over thresholds, and the operating point;
* stories: pairwise precision and recall over the relevant articles, and per labelled story how
  many alerts it raised (exactly one is right), plus alerts raised on articles labelled no;
* the **sentence-keyword baseline** (a Russia word, a China word and an aid/sanctions word in one
  sentence) and the title-only story baseline, in the same run;
* the claim hand-check (``monitor.offline.claimcheck``);
* articles that failed at any stage, each with its error.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import re
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from monitor.models import Article
from monitor.offline.claimcheck import (
    ClaimKey,
    check_claims,
    claim_key,
    load_expected_claims,
    load_readings,
    score_readings,
    shared_paths,
)
from monitor.offline.labels import BLIND, SPLITS, TOPICS, Label, corpus_files, in_split, load_labels
from monitor.offline.readers import read_articles
from monitor.relevance.stories import title_key

THRESHOLDS = tuple(round(0.05 * i, 2) for i in range(1, 20))

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
    score: float
    topics: frozenset[str]
    story: str | None
    alert: bool
    baseline_topics: frozenset[str]
    title_story: str
    error: str = ""


@dataclass
class Report:
    scores: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: Per split, the ids of its false positives, false negatives and failed articles.
    errors: dict[str, dict[str, list[str]]] = field(default_factory=dict)
    #: Articles that failed at some stage (id -> "<stage>: <type>: <message>"); scored as
    #: not relevant, which is what the daemon says about an article it dead-letters.
    failed: dict[str, str] = field(default_factory=dict)
    claims_check: dict[str, Any] = field(default_factory=dict)
    #: Per split, the relevant articles' claims against their two-reader readings.
    claims_read: dict[str, dict[str, int]] = field(default_factory=dict)
    articles: int = 0
    threshold: float = 0.5
    heldout_from: str = ""
    #: Story state after the run, per route: open stories and JSON bytes of the table value.
    state: dict[str, dict[str, int]] = field(default_factory=dict)


def pairwise(ids: list[str], gold: dict[str, str], said: dict[str, str | None]) -> Counts:
    """Pairwise clustering counts: a pair is positive when both are in one group."""
    counts = Counts()
    for a, b in itertools.combinations(sorted(ids), 2):
        same_gold = gold[a] == gold[b]
        same_said = said.get(a) is not None and said.get(a) == said.get(b)
        counts.add(same_gold, same_said)
    return counts


def story_alerts(ids: list[str], labels: dict[str, Label], judged: dict[str, Judgement]) -> dict[str, Any]:
    """Per labelled story (relevant articles grouped by story key): alerts raised among them."""
    alerts: Counter[str] = Counter()
    for i in ids:
        alerts[labels[i].story] += 0
        if judged[i].alert:
            alerts[labels[i].story] += 1
    histogram = Counter(min(n, 2) for n in alerts.values())
    missed = sorted(story for story, n in alerts.items() if n == 0)
    return {"stories": len(alerts), "exactly_one": histogram[1], "none": histogram[0], "more": histogram[2], "missed": missed}


def curve(ids: list[str], labels: dict[str, Label], judged: dict[str, Judgement]) -> list[dict[str, float]]:
    """Precision and recall of ``relevant`` if the threshold were each of ``THRESHOLDS``."""
    points = []
    for threshold in THRESHOLDS:
        counts = Counts()
        for i in ids:
            label = labels.get(i)
            counts.add(bool(label and label.relevant), judged[i].score >= threshold)
        points.append(
            {"threshold": threshold, "p": counts.precision, "r": counts.recall, "f1": counts.f1, "tp": counts.tp, "fp": counts.fp}
        )
    return points


def score(labels: dict[str, Label], judged: dict[str, Judgement], threshold: float) -> Report:
    report = Report(articles=len(judged), threshold=threshold)
    for split in SPLITS:
        ids = [i for i in judged if in_split(labels.get(i), split)]
        system, base = {"relevant": Counts()}, {"relevant": Counts()}
        for topic in TOPICS:
            system[topic], base[topic] = Counts(), Counts()
        false_alarms = 0
        for i in ids:
            label = labels.get(i)
            gold = bool(label and label.relevant)
            gold_topics = label.topics if label else frozenset()
            said = judged[i]
            system["relevant"].add(gold, said.relevant)
            base["relevant"].add(gold, bool(said.baseline_topics))
            for topic in TOPICS:
                system[topic].add(topic in gold_topics, said.relevant and topic in said.topics)
                base[topic].add(topic in gold_topics, topic in said.baseline_topics)
            false_alarms += said.alert and not gold
        gold_ids = [i for i in ids if labels.get(i) and labels[i].relevant]
        groups = {i: labels[i].story for i in gold_ids}
        report.scores[split] = {
            "system": {k: v.row() for k, v in system.items()}
            | {"stories": pairwise(gold_ids, groups, {i: judged[i].story for i in gold_ids}).row()},
            "baseline": {k: v.row() for k, v in base.items()}
            | {"stories": pairwise(gold_ids, groups, {i: judged[i].title_story for i in gold_ids}).row()},
            "articles": {"n": len(ids), "relevant": len(gold_ids)},
            "story_alerts": story_alerts(gold_ids, labels, judged) | {"false_alarms": false_alarms},
            "curve": curve(ids, labels, judged),
        }
        report.errors[split] = {
            "false_positives": sorted(i for i in ids if judged[i].relevant and not (labels.get(i) and labels[i].relevant)),
            "false_negatives": sorted(i for i in gold_ids if not judged[i].relevant),
            "failed": sorted(i for i in ids if judged[i].error),
        }
    report.failed = {i: j.error for i, j in judged.items() if j.error}
    return report


def judge(article: Article, decision, error: str) -> Judgement:
    return Judgement(
        id=article.id,
        relevant=bool(decision and decision.relevant),
        score=float(decision.score) if decision else 0.0,
        topics=frozenset(decision.topics if decision else ()),
        story=decision.story if decision else None,
        alert=bool(decision and decision.alert),
        baseline_topics=frozenset(baseline_topics(article)),
        title_story=title_key(article.title) or article.id,
        error=error,
    )


def labelled_articles(labels: dict[str, Label], shared: Path) -> list[Article]:
    """The labelled articles, and the unlabelled ones of fully labelled files, by publication date
    (undated ones last)."""
    files, covered = corpus_files(labels.values())
    articles = []
    for name in files:
        path = shared / "corpus" / name
        if BLIND in name:
            raise ValueError("the blind evaluation file is not part of the development set")
        if not path.exists():
            raise FileNotFoundError(f"labelled file {path} not found (set NEWSMON_SHARED_DIR or --shared)")
        articles += [a for a in read_articles([path]) if a.id in labels or name in covered]
    # Undated articles last: placed first, they would carry no time the stream has reached.
    return sorted(articles, key=lambda a: (a.published is None, a.published.isoformat() if a.published else "", a.id))


def run(
    replayer,
    ours: Path | None,
    claims_path: Path | None,
    shared: Path,
    *,
    adjudications: Path | None = None,
    readings: Iterable[Path] = (),
    progress: Callable[[int], None] | None = None,
) -> Report:
    """Replay the labelled articles in publication order, score, and run the claim hand-check."""
    labels = load_labels(shared, ours, adjudications)
    expected = load_expected_claims(claims_path) if claims_path else []
    wanted = {item.id for item in expected}
    tagged_by_id: dict = {}
    judged: dict[str, Judgement] = {}
    claims_by_split: dict[str, set[ClaimKey]] = {}
    for n, (article, tagged, verdict, error) in enumerate(replayer.verdicts(labelled_articles(labels, shared)), 1):
        judged[article.id] = judge(article, verdict.decision if verdict else None, error)
        label = labels.get(article.id)
        if tagged is not None and label is not None and label.relevant:
            claims_by_split.setdefault(label.split, set()).update(claim_key(c) for c in tagged.claims)
        if tagged is not None and article.id in wanted:
            tagged_by_id[article.id] = tagged
        if progress:
            progress(n)
    report = score(labels, judged, replayer.settings.relevance_threshold)
    report.heldout_from = min((lab.published for lab in labels.values() if lab.split == "heldout"), default="")
    for route, book in replayer.books.items():
        report.state[route] = {"stories": len(book.stories), "bytes": len(json.dumps(book.state()))}
    missing = wanted - set(tagged_by_id)
    if missing:
        # Hand-checked sentences outside the labelled articles (the seeds): tag them alone.
        paths = shared_paths({item.file for item in expected if item.id in missing}, shared)
        articles = [a for a in read_articles(paths) if a.id in missing]
        for article, tagged in zip(articles, replayer.tag(articles)):
            if isinstance(tagged, str):
                report.failed[article.id] = tagged
            else:
                tagged_by_id[article.id] = tagged
    if expected:
        report.claims_check = check_claims(expected, tagged_by_id)
    report.claims_read = score_readings(claims_by_split, load_readings(readings))
    return report


def only_splits(report: Report, splits: Iterable[str]) -> Report:
    """The report with nothing of the splits not asked for (``--split dev --json``)."""
    splits = tuple(splits)
    if "all" in splits:
        return report
    failed = {i for split in splits for i in report.errors.get(split, {}).get("failed", [])}
    return dataclasses.replace(
        report,
        scores={k: v for k, v in report.scores.items() if k in splits},
        errors={k: v for k, v in report.errors.items() if k in splits},
        failed={i: e for i, e in report.failed.items() if i in failed},
        claims_read={k: v for k, v in report.claims_read.items() if k in splits},
    )


def format_report(report: Report, splits: Iterable[str] = SPLITS) -> str:
    splits = tuple(splits)
    # Nothing of a split not printed: `--split dev` must not name the held-out split's errors.
    report = only_splits(report, splits)
    lines = [f"threshold {report.threshold:.2f}; held-out split: articles published from {report.heldout_from}"]
    for split in splits:
        block = report.scores[split]
        n = block["articles"]
        lines.append(f"== {split}: {n['n']} articles, {n['relevant']} relevant by label (borderline left out)")
        lines.append(
            f"   {'measure':<14}{'system P':>9}{'R':>7}{'F1':>7}   {'baseline P':>10}{'R':>7}{'F1':>7}   (system tp/fp/fn)"
        )
        for key in ("relevant", *TOPICS, "stories"):
            s, b = block["system"][key], block["baseline"][key]
            lines.append(
                f"   {key:<14}{s['p']:>9.3f}{s['r']:>7.3f}{s['f1']:>7.3f}   {b['p']:>10.3f}{b['r']:>7.3f}{b['f1']:>7.3f}"
                f"   ({s['tp']}/{s['fp']}/{s['fn']})"
            )
        sa = block["story_alerts"]
        lines.append(
            f"   labelled stories {sa['stories']}: exactly one alert {sa['exactly_one']}, none {sa['none']}, "
            f"more than one {sa['more']}; alerts on articles labelled no: {sa['false_alarms']}"
        )
        points = " ".join(f"{p['threshold']:.2f}:{p['p']:.2f}/{p['r']:.2f}" for p in block["curve"][::2])
        lines.append(f"   P/R by threshold: {points}")
        errors = report.errors.get(split, {})
        lines.append(f"   false positives: {', '.join(errors.get('false_positives', [])) or 'none'}")
        lines.append(f"   false negatives: {', '.join(errors.get('false_negatives', [])) or 'none'}")
    lines.append("   story baseline: same normalised title; stories are pairwise over relevant articles")
    lines.append(f"failed articles: {len(report.failed)}")
    for article_id, error in sorted(report.failed.items()):
        lines.append(f"   {article_id}: {error}")
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
    for split, read in sorted(report.claims_read.items()):
        lines.append(
            f"claims of relevant {split} articles: {read['claims']}, read by two readers {read['read']}; "
            f"both found subject, action and object right in {read['triple_right']}, the modality in {read['modality_right']}"
        )
    return "\n".join(lines)
