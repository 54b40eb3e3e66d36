"""Fingerprints of an article for story matching: a MinHash signature and its key terms.

* **Near-duplicates** (wire copies, an outlet's updated version): MinHash over word
  5-shingles of the text, estimated Jaccard ≥ ``NEAR_DUPLICATE``. Signatures are banded
  (LSH: 16 bands of 4 rows) so a story is only compared with articles that share a band.
  Signatures travel as short base64 strings: story state is plain data in a Faust table.
* **Same development** across wordings: the key terms of the headline and lede (content
  words and named entities, minus the watched pair's own names, which every article of
  the route shares) overlap; for an article whose lede does not name both sides, the
  terms of its evidence sentences instead.

Pure functions of the article's text and mentions; cheap (a few milliseconds), so they run
in the detect stage and ``newsmon replay`` computes exactly what the daemon does.
"""

from __future__ import annotations

import base64
import re
from collections import Counter
from functools import lru_cache
from hashlib import sha1

import numpy as np

from monitor.models import TaggedArticle

NUM_PERM = 64
BANDS = 16
ROWS = NUM_PERM // BANDS
SHINGLE = 5
SEED = 20220314
#: datasketch's name for the permutation scheme computed here. Fixed: signatures are persisted
#: in story state and must stay comparable (``tests/relevance/test_similarity.py`` compares them
#: with datasketch's own).
SCHEME = "affine32"
#: Estimated Jaccard of the shingle sets above which two texts are one article.
NEAR_DUPLICATE = 0.5
LEDE_WORDS = 90
#: Sentences (the title is sentence 0) that make the lede: what the article is *about*.
LEDE_SENTENCES = 5
MAX_TERMS = 40
POSSESSIVE = re.compile(r"['’]s?$")
ENTITY_LABELS = frozenset({"PERSON", "ORG", "GPE", "FAC", "EVENT", "LOC"})
WORD = re.compile(r"[A-Za-z][A-Za-z'’\-]+")

STOPWORDS = frozenset(
    """a about above after again against all also am an and any are as at be because been before
    being below between both but by can could did do does doing down during each few for from further
    had has have having he her here hers herself him himself his how i if in into is it its itself
    just me more most my no nor not now of off on once only or other our ours out over own same she
    should so some such than that the their theirs them then there these they this those through to
    too under until up very was we were what when where which while who whom why will with would
    you your said says say told tell according new year years week day time one two three first last
    amid after ahead including since still even may might must could would shall will per cent percent
    mr ms mrs monday tuesday wednesday thursday friday saturday sunday today yesterday tomorrow
    president minister foreign official officials country countries state states government leader
    leaders news report reported reports people world war ukraine ukrainian invasion""".split()
)
#: Words of the beat itself: nearly every article about the watched link uses them, so they say
#: nothing about *which* development it reports.
BEAT_WORDS = frozenset(
    """military support use discuss discus meet meeting relation relations international cooperation
    tension tensions west western unit united nato security talk talks sanction sanctions aid help
    weapon weapon arm arms economic economy trade global power powers partner partnership tie ties
    conflict ongoing invade invasion attack force forces troops army defense defence strategic""".split()
)


@lru_cache(maxsize=1)
def _permutations() -> tuple[np.ndarray, np.ndarray]:
    """The affine permutations (a odd, b) that datasketch 2's ``MinHash(num_perm=64, seed=SEED,
    scheme="affine32")`` draws, drawn the same way. Not imported from datasketch: it imports
    scipy, 55 MiB in every worker for two arrays of 64 numbers."""
    gen = np.random.RandomState(SEED)
    a = gen.randint(0, 1 << 31, NUM_PERM, dtype=np.uint32) * np.uint32(2) + np.uint32(1)
    b = gen.randint(0, 1 << 32, NUM_PERM, dtype=np.uint32)
    return a, b


def shingles(text: str) -> set[bytes]:
    """The text's word 5-shingles (lower-cased words joined by one space), as UTF-8 bytes.

    Sliced out of the words joined and encoded once rather than joined shingle by shingle: the
    same bytes as ``" ".join(words[i : i + 5]).encode()`` (a word holds no space, and lower-casing
    its letters keeps its length), at a third of the cost on a long article."""
    joined = " ".join(WORD.findall(text)).lower().encode()
    spaces = np.flatnonzero(np.frombuffer(joined, dtype=np.uint8) == ord(" "))
    if len(spaces) < SHINGLE:
        return {joined}
    # Where each word starts, and one past the end; a shingle stops at the space before its sixth word.
    starts = [0, *(spaces + 1).tolist(), len(joined) + 1]
    return {joined[starts[i] : starts[i + SHINGLE] - 1] for i in range(len(starts) - SHINGLE)}


def signature(text: str) -> np.ndarray:
    """MinHash signature of the text's word 5-shingles (lower-cased words).

    The values of datasketch's ``MinHash(num_perm=64, seed=SEED, scheme="affine32")`` fed the
    same shingles (``tests/relevance/test_similarity.py`` holds it to that on real articles),
    computed in a few numpy operations: datasketch hashes each shingle through a Python
    function and ``struct``, which cost 5 ms of the worker's main loop per long article.
    """
    digests = b"".join([sha1(item).digest() for item in shingles(text)])
    # sha1_hash32: the digest's first four bytes, little-endian (a digest is five words).
    hv = np.frombuffer(digests, dtype="<u4").reshape(-1, 5)[:, 0].astype(np.uint32).reshape(-1, 1)
    # datasketch's affine32 scheme: the MurmurHash3 finalizer, then a*h + b wrapping in uint32.
    hv ^= hv >> np.uint32(16)
    hv *= np.uint32(0x85EBCA6B)
    hv ^= hv >> np.uint32(13)
    hv *= np.uint32(0xC2B2AE35)
    hv ^= hv >> np.uint32(16)
    a, b = _permutations()
    return (hv * a + b).min(axis=0)


def encode(sig: np.ndarray) -> str:
    return base64.b64encode(sig.astype("<u4").tobytes()).decode("ascii")


def decode(text: str) -> np.ndarray:
    return np.frombuffer(base64.b64decode(text), dtype="<u4")


def bands(sig: np.ndarray) -> list[str]:
    """LSH band keys: two signatures sharing one are near-duplicate candidates."""
    raw = sig.astype("<u4").tobytes()
    step = ROWS * 4
    return [f"{b}:{raw[b * step : (b + 1) * step].hex()}" for b in range(BANDS)]


def share_a_band(a: np.ndarray, b: np.ndarray) -> bool:
    """Whether two signatures have one of their ``bands`` in common, without building the keys:
    story matching asks it of every stored signature for every article."""
    return bool((a.reshape(BANDS, ROWS) == b.reshape(BANDS, ROWS)).all(axis=1).any())


def jaccard(a: np.ndarray, b: np.ndarray) -> float:
    """Estimated Jaccard similarity of the two shingle sets."""
    return float(np.count_nonzero(a == b)) / len(a)


def _stem(word: str) -> str:
    for suffix in ("ings", "ing", "ied", "ies", "ed", "es", "s"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)]
    return word


def key_terms(tagged: TaggedArticle, route_names: frozenset[str]) -> dict[str, int]:
    """Weighted key terms of what the article reports: content words and named entities.

    Of the headline and lede, when the lede names both sides of the route. Otherwise the
    headline and lede are about something else (a recap or newsletter leading with the day's
    war news, a piece naming Beijing only far down), and shared lede words would join two
    different developments, so the terms come from the evidence sentences, where the article
    says what it says about the pair (measured on the development set: story pairs placed
    together wrongly 2 → 0, rightly 18 → 18). "The lede" for that test is the tagger's
    (``lede_actors``: the watchlist's ``lede_sentences``, the span evidence windows draw their
    sides from), a little shorter than the lede whose terms are counted here.

    ``route_names`` are the lower-cased names of the route's actors (every article of the
    route mentions Russia and China; they say nothing about which development it is).
    """
    article = tagged.article
    counts: Counter[str] = Counter()
    sides = set(tagged.route.split("|")) if tagged.route else set()
    # The route's own evidence: with several watched pairs, another pair's sentences say
    # nothing about this route's development.
    evidence = [item for item in tagged.evidence if sides <= set(item.actors)] if sides else []
    if evidence and not sides <= set(tagged.lede_actors):
        for item in evidence:
            _count_words(item.sentence, 1, route_names, counts)
        _count_entities(tagged, {item.index for item in evidence}, route_names, counts)
    else:
        _count_words(article.title, 2, route_names, counts)
        _count_words(" ".join(article.body.split()[:LEDE_WORDS]), 1, route_names, counts)
        _count_entities(tagged, set(range(LEDE_SENTENCES + 1)), route_names, counts)
    return dict(counts.most_common(MAX_TERMS))


def _count_words(text: str, weight: int, route_names: frozenset[str], counts: Counter[str]) -> None:
    for word in WORD.findall(text):
        lowered = POSSESSIVE.sub("", word.lower()).strip("'’-")
        if len(lowered) < 3 or lowered in STOPWORDS or lowered in route_names:
            continue
        stem = _stem(lowered)
        if lowered in BEAT_WORDS or stem in BEAT_WORDS:
            continue
        counts[stem] += weight


def _count_entities(tagged: TaggedArticle, sentences: set[int], route_names: frozenset[str], counts: Counter[str]) -> None:
    for mention in tagged.mentions:
        if mention.sentence not in sentences or mention.label not in ENTITY_LABELS:
            continue
        name = POSSESSIVE.sub("", " ".join(mention.text.lower().split()))
        # States and their capitals recur in every article of the beat; people, places and
        # organisations say which development it is. A name can be empty: spaCy tags a bare
        # "'s" or a run of spaces as an entity now and then, and the possessive strip leaves
        # nothing of it.
        words = name.split()
        if not words or name in route_names or (mention.actor and mention.label != "PERSON"):
            continue
        # Nothing left that names anyone (a lone possessive or dash tagged as an entity).
        if not any(char.isalnum() for char in name):
            continue
        counts["@" + words[-1]] += 1


def shared_terms(a: dict[str, int], b: dict[str, int], common: frozenset[str] = frozenset()) -> int:
    """How many distinctive terms two profiles share, leaving out the ``common`` ones."""
    return len((a.keys() & b.keys()) - common)
