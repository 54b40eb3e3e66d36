"""The evaluation: metrics, the keyword baseline, the label file, and a run over the seeds."""

import csv

import pytest

from monitor.models import Article
from monitor.offline.evaluate import (
    Counts,
    baseline_topics,
    format_report,
    load_labels,
    pairwise,
    run,
    shared_paths,
)
from monitor.offline.readers import read_articles
from monitor.offline.replay import Replayer
from tests.support.faults import LADDER_BROKE, LadderThatBreaks
from tests.support.paths import PROJECT, SHARED, seed

#: Reads ../shared (real seeds, corpus or feed snapshots): fails clearly when it is missing.
pytestmark = pytest.mark.shared


def test_counts_give_precision_recall_and_f1():
    counts = Counts()
    for gold, said in [(True, True), (True, True), (True, False), (False, True), (False, False)]:
        counts.add(gold, said)
    assert (counts.tp, counts.fp, counts.fn, counts.tn) == (2, 1, 1, 1)
    assert round(counts.precision, 3) == round(counts.recall, 3) == round(counts.f1, 3) == 0.667


def test_pairwise_story_scores_count_pairs_of_articles():
    gold = {"a": "s1", "b": "s1", "c": "s2"}
    assert pairwise(["a", "b", "c"], gold, {"a": "x", "b": "x", "c": "y"}).row()["f1"] == 1.0
    merged = pairwise(["a", "b", "c"], gold, {"a": "x", "b": "x", "c": "x"})
    assert (merged.tp, merged.fp, merged.fn) == (1, 2, 0)
    split = pairwise(["a", "b", "c"], gold, {"a": "x", "b": "y", "c": "z"})
    assert (split.tp, split.fp, split.fn) == (0, 0, 1)


def test_the_baseline_needs_russia_china_and_a_topic_word_in_one_sentence():
    one = Article(id="1", text="Russia asked China for weapons. Nothing else.")
    apart = Article(id="2", text="Russia was sanctioned. China said nothing.")
    both = Article(id="3", text="Moscow and Beijing discussed sanctions and drones.")
    assert baseline_topics(one) == ["military_aid"]
    assert baseline_topics(apart) == []
    assert baseline_topics(both) == ["military_aid", "sanctions"]


def test_the_label_file_holds_ids_and_labels_only_and_every_id_exists():
    path = PROJECT / "eval" / "labels.csv"
    with path.open(newline="") as handle:
        reader = csv.DictReader(handle)
        assert reader.fieldnames == ["file", "id", "relevant", "topics", "story", "split", "note", "drawn"]
        rows = list(reader)
    assert all(len(row["note"]) <= 90 for row in rows), "notes are our words, never copied article text"
    labels = load_labels(path)
    positives = [label for label in labels.values() if label.relevant]
    assert len(labels) >= 120 and len(positives) >= 8
    assert all(label.story for label in positives) and {"dev", "heldout"} == {label.split for label in labels.values()}
    ids = {a.id for a in read_articles(shared_paths({label.file for label in labels.values()}, SHARED))}
    assert set(labels) <= ids


def seed_labels(tmp_path):
    """A label file over the five seeds: 000 and 001 one relevant story, the rest not."""
    labels = tmp_path / "labels.csv"
    rows = [
        ("000", 1, "military_aid;sanctions", "rome"),
        ("001", 1, "military_aid;sanctions", "rome"),
        ("002", 0, "", ""),
        ("003", 0, "", ""),
        ("004", 0, "", ""),
    ]
    with labels.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["file", "id", "relevant", "topics", "story", "split", "note", "drawn"])
        for prefix, relevant, topics, story in rows:
            (path,) = (SHARED / "seeds").glob(f"{prefix}_*.txt")
            writer.writerow([f"seeds/{path.name}", path.stem, relevant, topics, story, "dev", "", "seed"])
    return labels


def test_an_evaluation_run_over_the_seeds_scores_relevance_and_stories(tagger, settings, tmp_path):
    report = run(Replayer(tagger, settings), seed_labels(tmp_path), PROJECT / "eval" / "claims.csv", SHARED)
    system = report.scores["dev"]["system"]
    assert system["relevant"]["p"] == system["relevant"]["r"] == 1.0
    assert system["stories"]["tp"] == 1 and system["stories"]["fp"] == 0
    assert report.claims_check["share"] >= 0.9
    assert report.state["CHN|RUS"]["stories"] == 3
    assert "relevant" in format_report(report) and "baseline" in format_report(report)


def test_an_article_that_fails_is_counted_listed_and_the_run_goes_on(tagger, settings, tmp_path):
    replayer = Replayer(tagger, settings)
    # Novelty reads the ladder only once a story has alerted: 000 opens the story, 001 fails.
    first_seed, second_seed = (seed(prefix).stem for prefix in ("000", "001"))
    replayer.policy.rungs = LadderThatBreaks()
    report = run(replayer, seed_labels(tmp_path), None, SHARED)
    assert report.failures == {second_seed: f"decide: RuntimeError: {LADDER_BROKE}"}
    assert report.articles == 5 and report.scores["dev"]["system"]["relevant"]["tp"] == 1
    assert first_seed not in report.errors["false_negatives"] and second_seed in report.errors["false_negatives"]
    text = format_report(report)
    assert "failed articles: 1" in text and f"failed: {second_seed}: decide: RuntimeError" in text
