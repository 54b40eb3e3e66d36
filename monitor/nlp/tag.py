"""Tagging: spaCy finds entities, the watchlist links them to actors, triggers mark topics.

This is the CPU-bound stage. It works on micro-batches with ``nlp.pipe`` and is run off
the event loop by ``monitor.nlp.pool``. Everything after it works on the small records it
emits, never on a spaCy ``Doc``.
"""

from __future__ import annotations

import bisect
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence

from spacy.language import Language
from spacy.matcher import PhraseMatcher
from spacy.tokens import Doc, Span

from monitor.models import Article, Claim, Evidence, Mention, TaggedArticle, utcnow
from monitor.nlp.cascade import FirstPass, Reading
from monitor.nlp.pipeline import Passages, compose_text
from monitor.nlp.windows import WindowReader
from monitor.text import squash
from monitor.watchlist import Watchlist

#: Entity labels worth keeping as mentions (key terms for story matching).
MENTION_LABELS = frozenset({"PERSON", "ORG", "GPE", "NORP", "LOC", "FAC", "EVENT", "PRODUCT", "LAW"})
MAX_MENTIONS = 300
#: Tokens handed to ``nlp.pipe`` at once. The parser's activations grow with a batch's tokens:
#: 32 long articles (4,000 tokens each) took the spaCy process from 180 to 840 MiB for a moment;
#: 8,000 tokens keep it under 360 MiB, no slower, with the same output for every doc.
BATCH_TOKENS = 8_000

#: Called per sentence that carries evidence with (sentence, token index → actor, evidence);
#: returns the claims it finds (see monitor.nlp.claims). The trigger positions the tagger found
#: are on the sentence as ``sentence._.trigger_topics`` (token index → topic).
FindClaims = Callable[[Span, dict[int, str], Evidence], list[Claim]]
TRIGGER_EXTENSION = "trigger_topics"


class Tagger:
    """Turns articles into tagged articles with one shared, preloaded spaCy pipeline."""

    def __init__(
        self,
        nlp: Language,
        watchlist: Watchlist,
        *,
        max_chars: int = 20_000,
        batch_size: int = 32,
        claim_extractor: FindClaims | None = None,
        first_pass: FirstPass | None = None,
        batch_tokens: int = BATCH_TOKENS,
        focus: bool = True,
    ):
        self.nlp = nlp
        self.watchlist = watchlist
        self.max_chars = max_chars
        self.batch_size = batch_size
        self.claim_extractor = claim_extractor
        self.first_pass = first_pass
        self.batch_tokens = batch_tokens
        self.focus = focus
        if not Span.has_extension(TRIGGER_EXTENSION):
            Span.set_extension(TRIGGER_EXTENSION, default=None)
        self._aliases = {
            _key(phrase): actor_id for actor_id, actor in watchlist.actors.items() for phrase, _kind in actor.surface_forms()
        }
        self._not_actors = {_key(phrase) for phrase in watchlist.not_actors}
        self._pairs = [frozenset(pair) for pair in watchlist.watch_pairs]
        self._triggers = PhraseMatcher(nlp.vocab, attr="LEMMA")
        self._triggers_lower = PhraseMatcher(nlp.vocab, attr="LOWER")
        self._context_terms = PhraseMatcher(nlp.vocab, attr="LEMMA")
        self._context_requires: dict[str, tuple[str, frozenset[str]]] = {}
        self._context_unless: dict[str, frozenset[str]] = {}
        self._context_with: dict[str, frozenset[str]] = {}
        self._verbs: dict[str, list[str]] = {}
        for topic_id, topic in watchlist.topics.items():
            for verb in topic.verbs:
                self._verbs.setdefault(verb.lower(), []).append(topic_id)
        self._modifiers: list[tuple[str, frozenset[str], frozenset[str]]] = [
            (topic_id, frozenset(m.lower() for m in rule.modifiers), frozenset(h.lower() for h in rule.heads))
            for topic_id, topic in watchlist.topics.items()
            for rule in topic.modifier_triggers
        ]
        self._windows = WindowReader(watchlist)
        self.passages = Passages(watchlist)
        for topic_id, topic in watchlist.topics.items():
            # Both lemma and lower-case forms: a phrase lemmatised out of context may differ
            # from the same words lemmatised inside a sentence ("arms" vs "arm").
            self._triggers.add(topic_id, list(nlp.pipe(topic.triggers)))
            self._triggers_lower.add(topic_id, [nlp.make_doc(p.lower()) for p in topic.triggers])
            for i, context in enumerate(topic.context_triggers):
                key = f"{topic_id}#{i}"
                self._context_terms.add(key, list(nlp.pipe(context.terms)))
                requires = frozenset(_lemma_set(nlp, context.requires))
                self._context_requires[key] = (topic_id, requires)
                self._context_unless[key] = frozenset(word.lower() for word in context.unless)
                self._context_with[key] = frozenset(word.lower() for word in context.with_any)

    # --- public -------------------------------------------------------------------------
    def tag(self, articles: Sequence[Article]) -> list[TaggedArticle]:
        """Tag a micro-batch with one ``nlp.pipe`` call over the articles the first pass lets
        through, each focused on the lines that can hold evidence."""
        # Tokenized once: nlp.pipe takes a Doc as it is and runs only the components on it.
        tokens = [self.nlp.make_doc(compose_text(article, self.max_chars, self.passages)) for article in articles]
        if self.first_pass is None:
            return [self.tag_doc(article, doc) for article, doc in zip(articles, self.parse(tokens))]
        read = [self.first_pass.read_doc(doc) for doc in tokens]
        full = [i for i, reading in enumerate(read) if reading.passes]
        focused = [self._focused(read[i]) for i in full]
        parsed = dict(zip(full, self.parse([doc for doc, _left_out in focused])))
        left_out = dict(zip(full, (names for _doc, names in focused)))
        # The lines left out can still decide the route (which story book the article goes to):
        # where the matcher's names there would change it, only the whole text tells.
        unsure = [i for i in full if left_out[i] and self._route_hangs_on(parsed[i], left_out[i])]
        for i, doc in zip(unsure, self.parse([tokens[i] for i in unsure])):
            parsed[i], left_out[i] = doc, set()
        return [
            self.tag_doc(article, parsed[i], left_out[i]) if i in parsed else self.stopped(article, read[i].actors)
            for i, article in enumerate(articles)
        ]

    def _route_hangs_on(self, doc: Doc, left_out: set[str]) -> bool:
        """Would the matcher's names in the lines left out change the route the parsed lines
        give? (NER may not take a name the matcher counts: "the 2008 Beijing Games".)"""
        linked = {actor for actor in map(self.link, doc.ents) if actor}
        return self.watchlist.route_for(linked) != self.watchlist.route_for(linked | left_out)

    def _focused(self, reading: Reading) -> tuple[Doc, set[str]]:
        """(the doc the statistical pipeline gets for an article the first pass let through,
        the actors named only in what it leaves out): only the lines that can hold evidence
        (``FirstPass.focus``), unless focusing is off."""
        if not self.focus or self.first_pass is None:
            return reading.doc, set()
        text, left_out = self.first_pass.focus(reading)
        return (reading.doc if text == reading.doc.text else self.nlp.make_doc(text)), left_out

    def parse(self, docs: list[Doc]) -> Iterable[Doc]:
        """The statistical pipeline over tokenized docs, in order, ``batch_tokens`` at a time (a
        doc longer than that alone): spaCy's output for a doc does not depend on its batch."""
        group: list[Doc] = []
        size = 0
        for doc in docs:
            if group and size + len(doc) > self.batch_tokens:
                yield from self.nlp.pipe(group, batch_size=self.batch_size)
                group, size = [], 0
            group.append(doc)
            size += len(doc)
        if group:
            yield from self.nlp.pipe(group, batch_size=self.batch_size)

    def stopped(self, article: Article, actors: set[str]) -> TaggedArticle:
        """An article the first pass stopped: it names no watched pair, so nothing more is read."""
        return TaggedArticle(article=article, actors=sorted(actors), route="", tagged_at=utcnow())

    def tag_doc(self, article: Article, doc: Doc, left_out: Iterable[str] = ()) -> TaggedArticle:
        """The tagged article of a parsed doc; ``left_out``: actors named in lines the doc
        leaves out (``FirstPass.focus``), which count among the article's actors."""
        sentences = list(doc.sents)
        starts = [sent.start for sent in sentences]

        def sentence_of(token_index: int) -> int:
            return bisect.bisect_right(starts, token_index) - 1

        mentions: list[Mention] = []
        actors: set[str] = set()
        sentence_actors: dict[int, dict[int, str]] = defaultdict(dict)  # sentence -> token -> actor
        for ent in doc.ents:
            actor = self.link(ent)
            index = sentence_of(ent.start)
            if actor:
                actors.add(actor)
                for token in ent:
                    sentence_actors[index][token.i] = actor
            if (actor or ent.label_ in MENTION_LABELS) and len(mentions) < MAX_MENTIONS:
                mentions.append(Mention(text=squash(ent.text, lines=False), label=ent.label_, actor=actor, sentence=index))

        sentence_triggers, objects = self._find_triggers(doc, sentence_of)
        evidence: list[Evidence] = []
        claims: list[Claim] = []
        for index, triggers in sorted(sentence_triggers.items()):
            named = set(sentence_actors.get(index, {}).values())
            if not any(pair <= named for pair in self._pairs):
                continue
            item = Evidence(
                sentence=squash(sentences[index].text, lines=False),
                index=index,
                actors=sorted(named),
                topics=sorted({topic for topic, _text, _start, _end in triggers}),
                triggers=sorted({text for _topic, text, _start, _end in triggers}),
            )
            evidence.append(item)
            if self.claim_extractor is not None:
                sentence = sentences[index]
                sentence._.set(TRIGGER_EXTENSION, {i: topic for topic, _text, start, end in triggers for i in range(start, end)})
                claims.extend(self.claim_extractor(sentence, sentence_actors[index], item))

        topics_of = {index: {topic for topic, _text, _start, _end in found} for index, found in sentence_triggers.items()}
        # Sorted, so the topic kept for a token two triggers share is the same on every run.
        trigger_tokens = {
            index: {start: topic for topic, _x, start, _e in sorted(found, reverse=True)}
            for index, found in sentence_triggers.items()
        }
        windows, lede_actors = self._windows.read(sentences, sentence_actors, topics_of, objects, trigger_tokens)
        actors.update(left_out)
        return TaggedArticle(
            article=article,
            mentions=mentions,
            actors=sorted(actors),
            topics=sorted({topic for item in evidence for topic in item.topics}),
            evidence=evidence,
            claims=claims,
            windows=windows,
            lede_actors=lede_actors,
            title_actors=sorted(set(sentence_actors.get(0, {}).values())) if article.title.strip() else [],
            route=self.watchlist.route_for(set(actors)),
            tagged_at=utcnow(),
        )

    def link(self, ent: Span) -> str | None:
        """The canonical actor an entity refers to, or None."""
        if ent.ent_id_ and ent.ent_id_ in self.watchlist.actors:
            return ent.ent_id_
        key = _key(ent.text)
        if key in self._not_actors:
            return None
        if key in self._aliases:
            return self._aliases[key]
        if ent.label_ in ("ORG", "NORP", "GPE", "FAC"):
            # "Chinese Foreign Ministry", "Russian Defence Ministry": the leading modifier
            # names the state. Only the first token, so "Ministry of X" is not guessed at.
            first = _key(ent[0].text)
            if first in self._aliases and ent[0].pos_ in ("PROPN", "ADJ"):
                return self._aliases[first]
        return None

    # --- internals ----------------------------------------------------------------------
    def _find_triggers(
        self, doc: Doc, sentence_of: Callable[[int], int]
    ) -> tuple[dict[int, set[tuple[str, str, int, int]]], dict[int, int]]:
        """(sentence index → {(topic, trigger text, start token, end token)}, sentence index →
        context terms named there, governed by a required word or not)."""
        found: dict[int, set[tuple[str, str, int, int]]] = defaultdict(set)
        objects: dict[int, int] = defaultdict(int)
        vocab = self.nlp.vocab.strings
        for match_id, start, end in list(self._triggers(doc)) + list(self._triggers_lower(doc)):
            found[sentence_of(start)].add((vocab[match_id], doc[start:end].text.lower(), start, end))
        for match_id, start, end in self._context_terms(doc):
            topic_id, requires = self._context_requires[vocab[match_id]]
            unless = self._context_unless[vocab[match_id]]
            if unless and any(child.lower_ in unless for token in doc[start:end] for child in token.children):
                continue
            beside = self._context_with[vocab[match_id]]
            if beside and not any(t.lower_ in beside or t.lemma_.lower() in beside for t in doc[start].sent):
                continue
            objects[sentence_of(start)] += 1
            if any(_governed_by(token, requires) for token in doc[start:end]):
                found[sentence_of(start)].add((topic_id, doc[start:end].text.lower(), start, end))
        for token in doc:
            for topic_id in self._verbs.get(token.lemma_.lower(), ()):
                if token.pos_ == "VERB":
                    found[sentence_of(token.i)].add((topic_id, token.lower_, token.i, token.i + 1))
        if self._modifiers:
            for token in doc:
                for topic_id, modifiers, heads in self._modifiers:
                    if token.lower_ in modifiers and token.dep_ in ("amod", "compound") and token.head.lemma_.lower() in heads:
                        found[sentence_of(token.i)].add((topic_id, f"{token.lower_} {token.head.lower_}", token.i, token.i + 1))
        return found, objects


#: Verbs a governing act can reach through: "helped Russia build drones" is help with drones;
#: "enables China to cover the war" is not help with the war.
THROUGH_VERBS = frozenset(
    {"build", "make", "produce", "manufacture", "develop", "repair", "replenish", "restock", "wage", "fight"}
    | {"continue", "keep", "begin", "start"}
)


def _governed_by(token, lemmas: frozenset[str], hops: int = 4) -> bool:
    """True when a head within ``hops`` steps up the parse has one of ``lemmas``, and no other
    verb stands between them but one of ``THROUGH_VERBS``.

    "asked China to send weapons" (weapons <- send) counts; "use the threat of nuclear
    weapons ... and seek advantages" does not, although "seek" is in the sentence.
    """
    for _ in range(hops):
        if token.head is token:
            return False
        token = token.head
        if token.lemma_.lower() in lemmas or token.lower_ in lemmas:
            return True
        if token.pos_ == "VERB" and token.lemma_.lower() not in THROUGH_VERBS:
            return False
    return False


def _key(phrase: str) -> str:
    phrase = squash(phrase.replace("’", "'"), lines=False)
    if phrase.lower().startswith("the "):
        phrase = phrase[4:]
    if phrase.endswith("'s"):
        phrase = phrase[:-2]
    return phrase.casefold()


def _lemma_set(nlp: Language, words: Iterable[str]) -> set[str]:
    lemmas: set[str] = set()
    for doc in nlp.pipe(words):
        lemmas.update(token.lemma_.lower() for token in doc)
        lemmas.update(token.lower_ for token in doc)
    return lemmas
