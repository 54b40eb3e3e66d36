"""Sentence boundaries before and after text normalisation, against hand-read gold starts.

    .venv/bin/python -m bench.sentences            # score raw and normalised passages
    .venv/bin/python -m bench.sentences --sample   # print the sampled passages (to annotate)

The sample (seed 20261201): 40 passages of real text, 14 from the RealTimeQA extract, 14
from the CNN extract and 12 from the item texts of the shared feed captures. Within each
source, passages around a *suspect* (a full stop glued to a capitalised word, an HTML
entity or tag, or a boilerplate or timestamp line as ``monitor.text`` knows them) are drawn
first, so the sample is informative; the rest are drawn at random. A passage starts at a
line start (or after a sentence end on a long line) and runs about 600 characters to the
next line or sentence end. "Raw" is what NLP was given before ``monitor.text.normalise``:
the dataset's text field, or for feeds the item's HTML through ``html_to_text``.

The scorer reads the passages from the CSV (file, id, start, length), never from a new draw:
``--sample`` depends on ``monitor.text``'s rules, so its draw changes when they do (the CSV
was drawn before "Continue reading" joined the boilerplate lines).

``eval/sentence_boundaries.csv`` holds, for each passage, the true sentence starts as read
by a person: sha1[:12] of the first four whitespace words, lower-cased (so no article text
is in the repository). Boilerplate and timestamp lines are not sentences; a headline, byline
or caption on a line of its own is one. Every sentence counts, the passage's first too.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import random
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from monitor.ingest.htmltext import html_to_text
from monitor.ingest.parse import entry_to_article, parse_feed
from monitor.models import utcnow
from monitor.nlp.pipeline import build_nlp
from monitor.offline.readers import TEXT_FIELDS
from monitor.settings import Settings
from monitor.text import BOILERPLATE_LINE, ENTITY, GLUED, INLINE_TAG, TIMESTAMP_LINE, normalise, squash
from monitor.watchlist import load_watchlist
from tests.support.paths import CONFIG, CORPUS

SEED = 20261201
FEEDS = CORPUS.parent / "feeds" / "news"
SOURCES = (
    ("realtimeqa_2012-2022_russia_china.jsonl", 14),
    ("mmdrzaco_latest_cnn_2024-07-16_to_2024-08-01_dedup.jsonl", 14),
    ("feeds/news/*.xml", 12),
)
GOLD = Path(__file__).resolve().parent.parent / "eval" / "sentence_boundaries.csv"
PASSAGE_CHARS = 600


@dataclass(frozen=True)
class Passage:
    file: str
    id: str
    start: int
    length: int
    text: str


def sentence_key(sentence: str) -> str:
    """sha1[:12] of a sentence's first four whitespace words, lower-cased."""
    return hashlib.sha1(" ".join(squash(sentence, lines=False).lower().split()[:4]).encode()).hexdigest()[:12]


def raw_bodies(source: str) -> Iterator[tuple[str, str, str]]:
    """(file, id, raw text) of every article of one source, as NLP got it before normalise."""
    if source.startswith("feeds/"):
        for path in sorted(FEEDS.glob("*.xml")):
            parsed = parse_feed(path.read_bytes(), feed_name=path.stem, source=path.stem)
            for entry in (parsed.raw or {}).get("entries", []):
                article = entry_to_article(entry, feed_name=path.stem, source=path.stem, fetched_at=utcnow())
                if article is None:
                    continue
                summary = html_to_text(entry.get("summary", "") or "")
                contents = [html_to_text(c.get("value", "") or "") for c in entry.get("content") or []]
                yield path.name, article.id, max(contents, key=len, default="") or summary
        return
    path = CORPUS / source
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            if line.strip():
                record = json.loads(line)
                text = next((str(record[f]) for f in TEXT_FIELDS if record.get(f)), "")
                yield path.name, str(record.get("id") or f"{path.stem}:{number}"), text


def suspects(text: str) -> list[int]:
    """Offsets where the raw text has something normalise is for."""
    found = [m.start() for m in GLUED.finditer(text)]
    found += [m.start() for m in ENTITY.finditer(text)] + [m.start() for m in INLINE_TAG.finditer(text)]
    offset = 0
    for line in text.splitlines(keepends=True):
        if line.strip() and (BOILERPLATE_LINE.fullmatch(line.strip()) or TIMESTAMP_LINE.fullmatch(line.strip())):
            found.append(offset)
        offset += len(line)
    return sorted(found)


def passage_at(file: str, ident: str, text: str, anchor: int) -> Passage:
    line_start = text.rfind("\n", 0, anchor) + 1
    start = line_start
    if anchor - line_start > 300:  # a long line: begin after a sentence end shortly before
        cut = text.rfind(". ", line_start, anchor - 150)
        start = cut + 2 if cut > 0 else line_start
    elif line_start > 0:  # begin a line earlier, so what precedes the suspect is in view
        start = text.rfind("\n", 0, max(0, line_start - 1)) + 1
        if line_start - start > 400:
            start = line_start
    end = start + PASSAGE_CHARS
    stops = [i for i in (text.find("\n", end), text.find(". ", end)) if i >= 0]
    end = min(stops) + 1 if stops else len(text)
    end = min(end, len(text))
    return Passage(file, ident, start, end - start, text[start:end])


def sample() -> list[Passage]:
    rng = random.Random(SEED)
    picked: list[Passage] = []
    for source, count in SOURCES:
        texts: set[str] = set()  # the CNN extract repeats some texts under other records
        bodies = [(f, i, t) for f, i, t in raw_bodies(source) if len(t) >= 200 and not (t in texts or texts.add(t))]
        rng.shuffle(bodies)
        with_suspect = [(f, i, t, s) for f, i, t in bodies if (s := suspects(t))]
        chosen = [passage_at(f, i, t, rng.choice(s)) for f, i, t, s in with_suspect[:count]]
        for f, i, t in bodies:
            if len(chosen) >= count:
                break
            if all(p.id != i for p in chosen):
                chosen.append(passage_at(f, i, t, rng.randrange(0, max(1, len(t) - PASSAGE_CHARS))))
        picked.extend(chosen)
    return picked


def gold_passages() -> tuple[list[Passage], list[list[str]]]:
    """The annotated passages (cut again from the raw texts) and their true sentence keys."""
    with GOLD.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    wanted = {(row["file"], row["id"]) for row in rows}
    texts: dict[tuple[str, str], str] = {}
    for source, _count in SOURCES:
        texts.update(((f, i), t) for f, i, t in raw_bodies(source) if (f, i) in wanted and (f, i) not in texts)
    passages, gold = [], []
    for row in rows:
        start, length = int(row["passage_start_char"]), int(row["passage_len"])
        text = texts[(row["file"], row["id"])]
        passages.append(Passage(row["file"], row["id"], start, length, text[start : start + length]))
        gold.append(row["sentence_keys"].split())
    return passages, gold


def predicted(nlp, texts: list[str]) -> list[list[str]]:
    return [[sentence_key(s.text) for s in doc.sents if s.text.strip()] for doc in nlp.pipe(texts)]


def score(gold: list[list[str]], pred: list[list[str]]) -> tuple[int, int, int, float, float, float]:
    hit = sum(sum((Counter(g) & Counter(p)).values()) for g, p in zip(gold, pred, strict=True))
    n_pred, n_gold = sum(map(len, pred)), sum(map(len, gold))
    precision, recall = hit / max(1, n_pred), hit / max(1, n_gold)
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return hit, n_pred, n_gold, precision, recall, f1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sample", action="store_true", help="print the sampled passages and exit")
    args = parser.parse_args()
    if args.sample:
        for number, p in enumerate(sample()):
            print(f"=== {number} {p.file} {p.id} {p.start} {p.length}\n{p.text}\n")
        return
    passages, gold = gold_passages()
    settings = Settings()
    nlp = build_nlp(settings.spacy_model, load_watchlist(CONFIG / "watchlist.yaml"))
    raw = predicted(nlp, [p.text for p in passages])
    normalised = predicted(nlp, [normalise(p.text) for p in passages])
    print(f"{len(passages)} passages, {sum(map(len, gold))} true sentence starts (eval/sentence_boundaries.csv)")
    print(f"{'text':<11}{'hits':>6}{'pred':>6}{'gold':>6}{'P':>8}{'R':>8}{'F1':>8}{'passages wrong':>16}")
    for name, pred in (("raw", raw), ("normalised", normalised)):
        hit, n_pred, n_gold, p, r, f = score(gold, pred)
        wrong = sum(Counter(g) != Counter(q) for g, q in zip(gold, pred, strict=True))
        print(f"{name:<11}{hit:>6}{n_pred:>6}{n_gold:>6}{p:>8.3f}{r:>8.3f}{f:>8.3f}{wrong:>10} of {len(passages)}")


if __name__ == "__main__":
    main()
