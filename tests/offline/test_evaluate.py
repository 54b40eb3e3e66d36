"""The evaluation: metrics, the keyword baseline, the label file, and a run over the seeds."""

import csv
import dataclasses
import json

import pytest

from monitor.models import Article
from monitor.offline.evaluate import (
    THRESHOLDS,
    TOPICS,
    Counts,
    Judgement,
    Label,
    baseline_topics,
    format_report,
    load_labels,
    only_splits,
    pairwise,
    run,
    score,
    shared_paths,
)
from monitor.offline.readers import read_articles
from monitor.offline.replay import Replayer
from tests.support.faults import LADDER_BROKE, LadderThatBreaks
from tests.support.paths import PROJECT, SHARED, seed

#: Reads ../shared (real seeds, corpus or feed snapshots): fails clearly when it is missing.
pytestmark = pytest.mark.shared


def test_a_report_of_the_dev_split_names_nothing_of_the_held_out_split():
    """The held-out split is scored only at the end: ``--split dev`` prints no held-out error
    id and no held-out claim figures, while the full report names both splits' errors."""

    def label(ident: str, split: str, alert: str) -> Label:
        return Label("f.jsonl", ident, "2022-01-01", alert, frozenset({"sanctions"}), ident, "ours", split)

    def said(ident: str, relevant: bool) -> Judgement:
        topics = frozenset({"sanctions"}) if relevant else frozenset()
        return Judgement(ident, relevant, float(relevant), topics, ident, relevant, frozenset(), ident)

    labels = {
        i: label(i, split, alert)
        for i, split, alert in [("dev-miss", "dev", "yes"), ("held-fp", "heldout", "no"), ("held-broke", "heldout", "yes")]
    }
    broke = dataclasses.replace(said("held-broke", False), error="tag: ValueError: held-out secret")
    report = score(labels, {"dev-miss": said("dev-miss", False), "held-fp": said("held-fp", True), "held-broke": broke}, 0.5)
    report.claims_read = {"dev": dict.fromkeys(("claims", "read", "triple_right", "modality_right"), 1)}
    report.claims_read["heldout"] = dict(report.claims_read["dev"])
    dev_only = format_report(report, ("dev",))
    assert "dev-miss" in dev_only and "claims of relevant dev articles" in dev_only
    assert "held-fp" not in dev_only and "heldout" not in dev_only.split("held-out split:")[1]
    assert "held-broke" not in dev_only and "failed articles: 0" in dev_only
    everything = format_report(report)
    assert "held-fp" in everything and "claims of relevant heldout articles" in everything
    assert "failed articles: 1" in everything and "held-broke: tag: ValueError" in everything
    # What --split dev --json writes: the same restriction.
    written = json.dumps(dataclasses.asdict(only_splits(report, ("dev",))))
    assert "dev-miss" in written and "held-" not in written and 'heldout"' not in written


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


LABEL_COLUMNS = ["file", "id", "published", "alert", "military_aid", "sanctions", "story", "alert_a", "alert_b", "drawn"]
ANSWERS = {"yes", "no", "borderline"}


def test_the_label_file_holds_ids_and_two_passes_only_and_every_id_exists():
    path = PROJECT / "eval" / "labels.csv"
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        # No title, text, evidence or note column: article text never enters the project.
        assert reader.fieldnames == LABEL_COLUMNS
        rows = list(reader)
    assert all(len(row["story"]) <= 90 for row in rows), "story keys are our words, never copied article text"
    assert all(row["alert"] in ANSWERS and row["alert_a"] in ANSWERS for row in rows)
    assert all(row[topic] in ANSWERS for row in rows for topic in TOPICS)
    assert all(row["drawn"] in ("candidate", "random") for row in rows)
    assert all(row["published"][:4].isdigit() for row in rows), "the time split needs every date"
    candidates = [row for row in rows if row["drawn"] == "candidate"]
    # Every candidate (an article naming both sides) was read in two independent passes; they
    # agree except where the adjudicated label is borderline.
    assert len(candidates) >= 64 and all(row["alert_b"] in ANSWERS for row in candidates)
    for row in rows:
        passes = {row["alert_a"], row["alert_b"]} - {""}
        if len(passes) == 1:
            assert row["alert"] == row["alert_a"], row["id"]
        else:
            assert row["alert"] == "borderline", row["id"]
    for row in rows:
        if row["alert"] == "yes":
            assert row["story"] and "yes" in (row["military_aid"], row["sanctions"]), row["id"]
        if row["alert"] == "no":
            assert (row["military_aid"], row["sanctions"], row["story"]) == ("no", "no", ""), row["id"]
    assert len(rows) >= 120 and sum(row["alert"] == "yes" for row in rows) >= 8
    ids = {a.id for a in read_articles(shared_paths({f"corpus/{row['file']}" for row in rows}, SHARED))}
    assert {row["id"] for row in rows} <= ids
    # Loaded beside the shared set: ours override nothing of it, and the split is by time.
    labels = load_labels(SHARED, path, PROJECT / "eval" / "adjudications.csv")
    ours = [label for label in labels.values() if label.origin == "ours"]
    assert len(ours) == len(rows) and len(labels) > len(rows)
    assert {"dev", "heldout"} == {label.split for label in labels.values()}
    cut = min(label.published for label in labels.values() if label.split == "heldout")
    assert all(label.published < cut for label in labels.values() if label.split == "dev" and label.published)


def seed_set(tmp_path):
    """(our labels, shared folder) over the five seeds: 000 and 001 one relevant story, the rest not."""
    # A shared folder of our own: the seeds and the hand-checked files linked in, an empty shared
    # label set, so the run replays the five seeds and not the 898 articles of the real one.
    shared = tmp_path / "shared"
    (shared / "corpus" / "labels").mkdir(parents=True)
    (shared / "corpus" / "labels" / "russia_china_devset.csv").write_text(",".join(LABEL_COLUMNS) + "\n")
    (shared / "seeds").symlink_to(SHARED / "seeds")
    with (PROJECT / "eval" / "claims.csv").open(encoding="utf-8", newline="") as handle:
        for name in {row["file"] for row in csv.DictReader(handle) if row["file"].startswith("corpus/")}:
            (shared / name).symlink_to(SHARED / name)
    labels = tmp_path / "labels.csv"
    rows = [
        ("000", "yes", "yes", "yes", "rome"),
        ("001", "yes", "yes", "yes", "rome"),
        ("002", "no", "no", "no", ""),
        ("003", "no", "no", "no", ""),
        ("004", "no", "no", "no", ""),
    ]
    with labels.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(LABEL_COLUMNS)
        for prefix, alert, aid, sanctions, story in rows:
            (path,) = (SHARED / "seeds").glob(f"{prefix}_*.txt")
            # Undated: every seed is in the development split.
            writer.writerow([f"../seeds/{path.name}", path.stem, "", alert, aid, sanctions, story, alert, alert, "candidate"])
    return labels, shared


def test_an_evaluation_run_over_the_seeds_scores_relevance_and_stories(tagger, settings, tmp_path):
    labels, shared = seed_set(tmp_path)
    report = run(Replayer(tagger, settings), labels, PROJECT / "eval" / "claims.csv", shared)
    assert report.articles == 5 and report.failed == {}
    dev = report.scores["dev"]
    system = dev["system"]
    assert dev["articles"] == {"n": 5, "relevant": 2}
    assert system["relevant"]["p"] == system["relevant"]["r"] == 1.0
    assert system["stories"]["tp"] == 1 and system["stories"]["fp"] == 0
    # 000 and 001 are one story with exactly one alert between them; 004 (and 002, 003) raise none.
    assert dev["story_alerts"] | {"missed": []} == {
        "stories": 1,
        "exactly_one": 1,
        "none": 0,
        "more": 0,
        "missed": [],
        "false_alarms": 0,
    }
    assert len(dev["curve"]) == len(THRESHOLDS)
    assert report.scores["heldout"]["articles"] == {"n": 0, "relevant": 0}
    assert report.claims_check["share"] >= 0.9
    assert report.state["CHN|RUS"]["stories"] == 3
    # The two relevant seeds' claims, none of them read here (no readings given).
    assert report.claims_read["dev"]["claims"] >= 2 and report.claims_read["dev"]["read"] == 0
    text = format_report(report)
    assert "relevant" in text and "baseline" in text and "P/R by threshold" in text
    assert "claims of relevant dev articles" in text


def test_an_article_that_fails_is_counted_listed_and_the_run_goes_on(tagger, settings, tmp_path):
    replayer = Replayer(tagger, settings)
    # Novelty reads the ladder only once a story has alerted: 000 opens the story, 001 fails.
    first_seed, second_seed = (seed(prefix).stem for prefix in ("000", "001"))
    replayer.policy.rungs = LadderThatBreaks()
    labels, shared = seed_set(tmp_path)
    report = run(replayer, labels, None, shared)
    assert report.failed == {second_seed: f"decide: RuntimeError: {LADDER_BROKE}"}
    assert report.articles == 5 and report.scores["dev"]["system"]["relevant"]["tp"] == 1
    assert first_seed not in report.errors["dev"]["false_negatives"] and second_seed in report.errors["dev"]["false_negatives"]
    text = format_report(report)
    assert "failed articles: 1" in text and f"{second_seed}: decide: RuntimeError" in text
