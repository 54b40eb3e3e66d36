"""Records: ``trusted_loads`` decodes what our own stages wrote exactly as ``loads`` does, without
the second validation, and validation everywhere else is untouched."""

import json
from datetime import UTC, datetime

import pytest
from faust.exceptions import ValidationError

from monitor.models import Article, Claim, Evidence, Mention, TaggedArticle, Window, trusted_loads


def tagged() -> TaggedArticle:
    return TaggedArticle(
        article=Article(id="m-1", title="Beijing and Moscow", text="Body.", published=datetime(2024, 5, 1, 8, tzinfo=UTC)),
        mentions=[Mention(text="Beijing", label="GPE", actor="CHN", sentence=0)],
        actors=["CHN", "RUS"],
        evidence=[Evidence(sentence="Beijing sent arms to Moscow.", index=1, actors=["CHN", "RUS"], topics=["arms"])],
        claims=[Claim(subject="CHN", action="provide", object="RUS", topic="arms")],
        windows=[Window(index=1, sentence="Beijing sent arms to Moscow.", actors=["CHN", "RUS"])],
        route="CHN|RUS",
        tagged_at=datetime(2024, 5, 1, 9, tzinfo=UTC),
    )


def test_trusted_loads_gives_the_record_loads_gives():
    payload = tagged().dumps(serializer="json")
    checked, trusted = TaggedArticle.loads(payload, serializer="json"), trusted_loads(TaggedArticle, payload)
    assert trusted == checked
    assert trusted.dumps(serializer="json") == payload
    # Coercion still runs: nested records and ISO dates come back typed.
    assert isinstance(trusted.mentions[0], Mention) and isinstance(trusted.claims[0], Claim)
    assert trusted.article.published == datetime(2024, 5, 1, 8, tzinfo=UTC)


def test_trusted_loads_still_rejects_bytes_that_are_not_a_record():
    with pytest.raises(json.JSONDecodeError):
        trusted_loads(TaggedArticle, b"not json")
    with pytest.raises(TypeError):
        trusted_loads(TaggedArticle, b'{"mentions": []}')  # no article


def test_validation_runs_as_before_outside_trusted_loads():
    blank = json.dumps({"text": "", "label": "GPE"}).encode()
    with pytest.raises(ValidationError):
        Mention.loads(blank, serializer="json")
    assert trusted_loads(Mention, blank).text == ""
    # Decoding trusted bytes switched nothing off for the records built afterwards.
    with pytest.raises(ValidationError):
        Mention(text="", label="GPE")
