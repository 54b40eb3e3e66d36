"""The relevance score: how surely an article reports on a watched link and topic, in [0, 1].

Built from the evidence the tagger kept, not from one complete claim: each evidence window
(``monitor.nlp.windows``) gives features — are both sides named in the sentence, in its
neighbours, or one side only with the other in the title or lede; is there a military-aid or a
sanctions trigger in the sentence or beside it; a stance on sanctions, a military verb, a
transfer word with a military object, energy framed by sanctions; a negative cue (a list of
countries, joint exercises, nuclear threats). Article features take the strongest window; a claim
that matches a watchlist rule adds its own. A logistic model over them gives the score; its
weights are learned by ``newsmon train-relevance`` from the development split of the labelled set
and shipped as ``weights.json`` beside this module (a plain file, reviewed like code).
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from monitor.models import Claim, TaggedArticle, Window

TOPICS = ("military_aid", "sanctions")
#: The features in the order of the weight vector (``bias`` first).
FEATURES = (
    "bias",
    "aid_in_sentence",
    "sanctions_in_sentence",
    "tight_link",
    "clean_sentence",
    "clean_window",
    "aid_in_window",
    "sanctions_in_window",
    "aid_by_context",
    "sanctions_by_context",
    "by_title",
    "stance_on_sanctions",
    "energy_and_sanctions",
    "third_party_on_link",
    "claim_firm",
    "claim_soft",
    "in_lede",
    "supporting_windows",
    "only_lists",
    "only_coordinated",
    "only_exercises",
    "only_nuclear",
    "only_third_targets",
    "side_target",
)
WEIGHTS_FILE = "weights.json"
#: Window features that say how a window is worded, not on their own that it supports relevance.
MODIFIERS = frozenset(
    {
        "by_title",
        "list",
        "coordinated",
        "exercise",
        "nuclear",
        "third_party_on_link",
        "third_target",
        "side_target",
        "tight_link",
        "clean_sentence",
        "clean_window",
    }
)


@dataclass(frozen=True)
class WindowSupport:
    """What one window says for relevance: its topics and how strongly."""

    window: Window
    topics: frozenset[str]
    features: frozenset[str]


def window_support(
    window: Window, sides: frozenset[str], lede_actors: frozenset[str], title_actors: frozenset[str] = frozenset()
) -> WindowSupport | None:
    """The features one window supports, or None when it links no watched pair to a topic."""
    here, near = set(window.actors), set(window.near)
    in_sentence = sides <= here
    in_window = not in_sentence and sides <= here | near
    by_context = not (in_sentence or in_window) and bool(sides & (here | near)) and sides <= here | near | lede_actors
    if not (in_sentence or in_window or by_context):
        return None
    cues = set(window.cues)
    topics_here, topics_near = set(window.topics), set(window.near_topics)
    aid_here = "military_aid" in topics_here or {"military_object", "transfer"} <= cues
    sanctions_here = "sanctions" in topics_here
    features: set[str] = set()
    topics: set[str] = set()
    if in_sentence and "tight" in cues:
        features.add("tight_link")
    if in_sentence:
        if aid_here:
            features.add("aid_in_sentence")
            topics.add("military_aid")
        if sanctions_here:
            features.add("sanctions_in_sentence")
            topics.add("sanctions")
    aid_any = aid_here or "military_aid" in topics_near
    sanctions_any = sanctions_here or "sanctions" in topics_near
    if in_sentence or in_window:
        if aid_any and "aid_in_sentence" not in features:
            features.add("aid_in_window")
            topics.add("military_aid")
        if sanctions_any and "sanctions_in_sentence" not in features:
            features.add("sanctions_in_window")
            topics.add("sanctions")
    if by_context and sides <= here | near | title_actors and window.index > 0:
        features.add("by_title")
    if by_context:
        if aid_here:
            features.add("aid_by_context")
            topics.add("military_aid")
        if sanctions_here:
            features.add("sanctions_by_context")
            topics.add("sanctions")
    if "stance" in cues and sanctions_any:
        features.add("stance_on_sanctions")
        topics.add("sanctions")
    if "energy" in cues and sanctions_any:
        features.add("energy_and_sanctions")
        topics.add("sanctions")
    if not topics:
        return None
    if "third_party" in cues:
        features.add("third_party_on_link")
    if "list" in cues:
        features.add("list")
    if "coordinated" in cues:
        features.add("coordinated")
    if "third_target" in cues:
        features.add("third_target")
    if "side_target" in cues and in_sentence:
        features.add("side_target")
    # Both sides named for one reason: not a shared fate ("Russia and China face sanctions"), not
    # items of a list, not bystanders to an act aimed at a third country.
    clean = not cues & {"coordinated", "list", "third_target"}
    if clean and in_sentence:
        features.add("clean_sentence")
    if clean and (in_sentence or in_window):
        features.add("clean_window")
    if "exercise" in cues and "military_aid" not in topics_here:
        features.add("exercise")
    if "nuclear" in cues and not {"military_object", "transfer"} <= cues:
        features.add("nuclear")
    return WindowSupport(window, frozenset(topics), frozenset(features))


def article_features(
    tagged: TaggedArticle, sides: frozenset[str], firm: Iterable[Claim], soft: Iterable[Claim], lede_sentences: int
) -> tuple[dict[str, float], list[WindowSupport]]:
    """The feature values of an article and the windows that support it, strongest first.

    ``firm`` and ``soft`` are the article's claims that match a rule, with a firm (asserted,
    attributed, hedged) or a soft (denied, conditional) modality.
    """
    lede, title = frozenset(tagged.lede_actors), frozenset(tagged.title_actors)
    supports = [s for s in (window_support(w, sides, lede, title) for w in tagged.windows) if s is not None]
    values = {name: 0.0 for name in FEATURES}
    values["bias"] = 1.0
    for support in supports:
        for name in support.features:
            if name in values:
                values[name] = 1.0
    values["claim_firm"] = 1.0 if any(True for _ in firm) else 0.0
    values["claim_soft"] = 1.0 if any(True for _ in soft) else 0.0
    positive = [s for s in supports if s.features - MODIFIERS]
    values["in_lede"] = 1.0 if any(s.window.index < lede_sentences for s in positive) else 0.0
    values["supporting_windows"] = math.log1p(len(positive))
    if positive:
        values["only_lists"] = 1.0 if all("list" in s.features for s in positive) else 0.0
        values["only_coordinated"] = 1.0 if all("coordinated" in s.features for s in positive) else 0.0
        values["only_exercises"] = 1.0 if all("exercise" in s.features for s in positive) else 0.0
        values["only_nuclear"] = 1.0 if all("nuclear" in s.features for s in positive) else 0.0
        values["only_third_targets"] = 1.0 if all("third_target" in s.features for s in positive) else 0.0
    positive.sort(key=lambda s: (-len(s.features), s.window.index))
    return values, positive


class Scorer:
    """A logistic model over ``FEATURES``."""

    def __init__(self, weights: Mapping[str, float]):
        unknown = set(weights) - set(FEATURES)
        if unknown:
            raise ValueError(f"relevance weights name unknown features: {', '.join(sorted(unknown))}")
        self.weights = {name: float(weights.get(name, 0.0)) for name in FEATURES}

    @classmethod
    def shipped(cls) -> Scorer:
        """The weights learned by ``newsmon train-relevance`` and shipped with the package."""
        text = resources.files("monitor.relevance").joinpath(WEIGHTS_FILE).read_text(encoding="utf-8")
        return cls(json.loads(text)["weights"])

    @classmethod
    def from_file(cls, path: Path) -> Scorer:
        return cls(json.loads(path.read_text(encoding="utf-8"))["weights"])

    def score(self, values: Mapping[str, float]) -> float:
        z = sum(self.weights[name] * values.get(name, 0.0) for name in FEATURES)
        return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))
