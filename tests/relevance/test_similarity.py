"""Article fingerprints: MinHash signatures that stay comparable across processes and
releases, their bands and Jaccard estimates, and the key terms of headline and lede.

The texts are invented for these tests. Expected values are literals computed once: a
change of seed, hash scheme or shingle size, or a salted ``hash()``, changes them and
fails here before stored story state silently stops matching.
"""

import numpy as np
import pytest
from datasketch import MinHash

from monitor.models import Article, Evidence, Mention, TaggedArticle
from monitor.offline.readers import read_articles
from monitor.relevance import similarity
from tests.support.paths import CORPUS

STRIKE = (
    "Harbour cranes stood idle on Tuesday as the ferry strike entered its third week along the northern coast, "
    "and union leaders rejected the latest offer from the port authority."
)
# The same text with two words changed: an outlet's lightly edited copy.
STRIKE_EDITED = STRIKE.replace("rejected", "turned down")
CELLO = "A violin maker in the old town restored a cello that had spent forty years in an attic above the bakery."

STRIKE_SIGNATURE = (
    "yB/oBc1PGAb4TVoB4gExC2RTIwCY4RUIQU1GAwA5gAV0sJACVHxyDIfLSArgUgUCVV1IA0m6rwgYThgBQ6yCALwq9gRIEUsE3kV+EprmMQ9+"
    "K/wr3CLZCTHiIAd3DTICCvAjAX6rUwNlz7sIQn3pAXDeXggHtjoBl7L+IowGHAakCNoDwZooAGR7/gAEdaUCq7emAgx7vyS5OaoE2T2ABf/T"
    "PRXGqRokUHt4DrQt5wC88YYDtBv+Bb+xRw3Pie0DpkxuAWBGohvkonUA1wsXALWRQQcXSRwdcMDzCKkRaxll4N4JlyeDIB+ougEEigoFF77O"
    "DQhjQR4Gv4wACif8AQ=="
)
ROUTE_NAMES = frozenset({"russia", "china"})


def tagged(title: str, text: str, mentions: list[Mention] | None = None) -> TaggedArticle:
    return TaggedArticle(article=Article(id="sim-1", title=title, text=text), mentions=mentions or [])


def test_a_signature_encodes_to_the_same_fixed_string_in_every_process():
    sig = similarity.signature(STRIKE)
    assert sig.dtype == np.uint32 and len(sig) == similarity.NUM_PERM == 64
    assert sig[:4].tolist() == [99098568, 102256589, 22695416, 187761122]
    assert similarity.encode(sig) == STRIKE_SIGNATURE


def test_decoding_an_encoded_signature_gives_back_the_same_values():
    decoded = similarity.decode(STRIKE_SIGNATURE)
    assert decoded.tolist() == similarity.signature(STRIKE).tolist()
    assert similarity.encode(decoded) == STRIKE_SIGNATURE


def test_a_text_without_words_has_the_signature_of_the_empty_text():
    assert similarity.encode(similarity.signature("--- 123 !!")) == similarity.encode(similarity.signature(""))
    assert similarity.encode(similarity.signature("")).startswith("byh7zmoNlidwoVcUmv9ELQWzO0AZy7vk")


def test_jaccard_is_one_for_identical_texts_and_zero_for_unrelated_ones():
    strike = similarity.signature(STRIKE)
    assert similarity.jaccard(strike, similarity.signature(STRIKE)) == 1.0
    assert similarity.jaccard(strike, similarity.signature(CELLO)) == 0.0


def test_a_lightly_edited_copy_is_a_near_duplicate():
    score = similarity.jaccard(similarity.signature(STRIKE), similarity.signature(STRIKE_EDITED))
    assert score == 0.65625
    assert score >= similarity.NEAR_DUPLICATE


def test_bands_are_sixteen_fixed_keys_numbered_by_band():
    keys = similarity.bands(similarity.decode(STRIKE_SIGNATURE))
    assert len(keys) == similarity.BANDS == 16
    assert keys[:2] == ["0:c81fe805cd4f1806f84d5a01e201310b", "1:6453230098e11508414d460300398005"]
    assert [key.split(":")[0] for key in keys] == [str(b) for b in range(16)]


def test_a_near_duplicate_shares_bands_and_an_unrelated_text_shares_none():
    strike = set(similarity.bands(similarity.signature(STRIKE)))
    assert len(strike & set(similarity.bands(similarity.signature(STRIKE_EDITED)))) == 3
    assert strike & set(similarity.bands(similarity.signature(CELLO))) == set()


def test_key_terms_weigh_headline_words_double_and_drop_route_names_stopwords_and_beat_words():
    article = tagged(
        "Russia's ferry strike talks stall in Vladivostok",
        "Union leaders in Vladivostok said on Tuesday that talks with China's shipping firms about the "
        "ferry strike had stalled, and the military said nothing.",
    )
    assert similarity.key_terms(article, ROUTE_NAMES) == {
        "ferry": 3,
        "strike": 3,
        "stall": 3,
        "vladivostok": 3,
        "union": 1,
        "shipp": 1,
        "firm": 1,
        "noth": 1,
    }


def test_key_terms_count_people_places_and_organisations_of_the_lede_by_last_name():
    mentions = [
        Mention(text="Vladivostok", label="GPE", sentence=0),
        # A watched state is every article's subject: not a term.
        Mention(text="Russia", label="GPE", actor="RUS", sentence=0),
        Mention(text="Anna Petrova", label="PERSON", sentence=1),
        # A watched state's leader still says which development it is.
        Mention(text="Xi Jinping", label="PERSON", actor="CHN", sentence=2),
        # Past the lede, and a label that names nobody.
        Mention(text="Harbour Union", label="ORG", sentence=9),
        Mention(text="Tuesday", label="DATE", sentence=1),
    ]
    terms = similarity.key_terms(tagged("Ferry strike", "Quiet quays.", mentions), ROUTE_NAMES)
    assert {term: weight for term, weight in terms.items() if term.startswith("@")} == {
        "@vladivostok": 1,
        "@petrova": 1,
        "@jinping": 1,
    }


def test_a_mention_whose_name_is_blank_or_only_punctuation_adds_no_term_and_does_not_raise():
    names = [" ", "\u00a0", "\u2003", "'s", "’", "--", "..."]
    mentions = [Mention(text=name, label="PERSON", sentence=0) for name in names]
    terms = similarity.key_terms(tagged("Ferry strike", "Quiet quays.", mentions), ROUTE_NAMES)
    assert terms == {"ferry": 2, "strike": 2, "quiet": 1, "quay": 1}


def test_an_article_whose_lede_does_not_name_both_sides_is_described_by_its_evidence():
    """A recap leading with the day's war news names Beijing far down: its headline and lede
    say nothing about the development it reports for the pair; its evidence sentence does."""
    evidence = "Far down the page, the report said China had quietly shipped ferry engines to Russia through Harbin."
    recap = TaggedArticle(
        article=Article(
            id="recap-1", title="Day 12 recap: shelling near the river", text=f"Shelling went on overnight. {evidence}"
        ),
        route="CHN|RUS",
        lede_actors=["RUS"],
        evidence=[Evidence(sentence=evidence, index=7, actors=["CHN", "RUS"])],
        mentions=[Mention(text="Harbin", label="GPE", sentence=7), Mention(text="Kherson", label="GPE", sentence=1)],
    )
    terms = similarity.key_terms(recap, ROUTE_NAMES)
    assert {"quietly", "shipp", "ferry", "engin", "harbin", "@harbin"} <= terms.keys()
    assert not {"recap", "shell", "river", "overnight", "@kherson"} & terms.keys(), "nothing of the lede"
    # Evidence of another watched pair says nothing about this route's development.
    other_pair = TaggedArticle(**{**recap.asdict(), "evidence": [Evidence(sentence=evidence, index=7, actors=["CHN", "IRN"])]})
    assert {"recap", "shell", "river"} <= similarity.key_terms(other_pair, ROUTE_NAMES).keys()
    # Both sides in the lede: the headline and lede describe it, as for any article.
    lead = TaggedArticle(**{**recap.asdict(), "lede_actors": ["CHN", "RUS"]})
    assert {"recap", "shell", "river"} <= similarity.key_terms(lead, ROUTE_NAMES).keys()


def test_shared_terms_counts_the_terms_two_profiles_have_in_common():
    assert similarity.shared_terms({"ferry": 3, "strike": 1, "@petrova": 1}, {"strike": 5, "@petrova": 2, "quay": 1}) == 2
    assert similarity.shared_terms({"ferry": 3}, {}) == 0


def datasketch_signature(text: str) -> np.ndarray:
    """The signature as datasketch computes it, shingle by shingle: what story state holds."""
    words = [w.lower() for w in similarity.WORD.findall(text)]
    shingles = {" ".join(words[i : i + similarity.SHINGLE]).encode() for i in range(max(1, len(words) - similarity.SHINGLE + 1))}
    minhash = MinHash(num_perm=similarity.NUM_PERM, seed=similarity.SEED, scheme=similarity.SCHEME)
    minhash.update_batch(list(shingles))
    return minhash.hashvalues.astype(np.uint32)


@pytest.mark.parametrize(
    "text",
    ["", "--- 123", "one two three four", "one two three four five", "one two three four five six", "Xi’s visit, Moscow’s"],
)
def test_short_texts_get_the_signature_datasketch_gives_them(text):
    assert similarity.signature(text).tolist() == datasketch_signature(text).tolist()


@pytest.mark.shared
def test_real_articles_get_the_signature_datasketch_gives_them():
    """The vectorised signature is datasketch's to the bit, on every Guardian article (188, short
    letters to long reads) and 200 long multi-topic ones."""
    articles = list(read_articles([CORPUS / "subina-maharjan_Guardians_Russia_Ukraine.csv"]))
    articles += list(read_articles([CORPUS / "article-bias-prediction_2012-2020_russia_china.jsonl"]))[:200]
    assert len(articles) == 388
    for article in articles:
        text = f"{article.title}\n{article.body}"
        assert similarity.signature(text).tolist() == datasketch_signature(text).tolist(), article.id


def test_share_a_band_agrees_with_the_band_keys():
    signatures = [similarity.signature(text) for text in (STRIKE, STRIKE_EDITED, CELLO)]
    for a in signatures:
        for b in signatures:
            assert similarity.share_a_band(a, b) == bool(set(similarity.bands(a)) & set(similarity.bands(b)))
