"""Claim readings: what two readers said of each extracted claim, the latest reading winning,
scored against the claims the extractor gives now."""

import csv

from monitor.models import Claim
from monitor.offline.claimcheck import claim_key, load_readings, score_readings

COLUMNS = ["article", "sentence_key", "subject", "action", "object", "topic", "modality"]
VERDICTS = ["a_triple_ok", "a_modality_ok", "b_triple_ok", "b_modality_ok"]


def claim(sentence: str, subject: str = "CHN", modality: str = "asserted") -> Claim:
    return Claim(subject=subject, action="provide", object="RUS", topic="military_aid", modality=modality, sentence=sentence)


def write(path, rows):
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(COLUMNS + VERDICTS)
        for key, verdicts in rows:
            writer.writerow(["a1", *key, *verdicts])


def test_a_claim_counts_right_only_when_both_readers_say_so_and_a_later_reading_wins(tmp_path):
    sent, doubted, unread = (
        claim("China sent drones to Russia."),
        claim("China may send shells to Russia.", modality="hedged"),
        claim("x"),
    )
    first, second = tmp_path / "census.csv", tmp_path / "recheck.csv"
    write(first, [(claim_key(sent), ["yes", "yes", "yes", "no"]), (claim_key(doubted), ["no", "yes", "no", "yes"])])
    # Read again after a fix: now both readers find the modality right too.
    write(second, [(claim_key(sent), ["yes", "yes", "yes", "yes"])])
    readings = load_readings([first, second, tmp_path / "absent.csv"])
    figures = score_readings({"dev": {claim_key(sent), claim_key(doubted), claim_key(unread)}}, readings)
    assert figures == {"dev": {"claims": 3, "read": 2, "triple_right": 1, "modality_right": 2}}


def test_the_same_sentence_in_two_copies_of_an_article_is_one_reading():
    assert claim_key(claim("China sent drones to Russia.")) == claim_key(claim("China sent  drones to Russia."))
