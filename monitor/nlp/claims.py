"""Claims: who does what to whom in an evidence sentence, and how sure the text is.

Runs inside the tag stage on the sentence's dependency parse (the Doc never leaves the NLP
process, and no second parse is made). For each verb or noun of the sentence that the
watchlist's action lexicon knows ("asked", "supplying", "sanctioned", "provision"), we find

* the **subject**: the actor of its grammatical subject, or of the clause that controls it
  ("Russia asked China *to send*" — China sends; "sanctioned firms *for supplying*" — the
  firms supply; "Chinese firms *supplying* Russia" — the firms supply);
* the **object**: the actor it is directed at (object, "to/for/from/on/against" phrase,
  possessor: "Russia's army");
* the **topic**: the trigger under it ("send *weapons*"), else the sentence's topic;
* the **modality** (``monitor.nlp.modality``): denied, conditional, hedged, attributed or
  asserted.

A clause nested under a request, promise, warning or refusal is that act's content, not a
fact, so it makes no claim of its own ("asked China to send weapons" is one request).
Third parties count: "US sanctions Chinese firms for supplying Russia's army" gives
USA→CHN impose_sanctions about RUS (and the firms' supply, CHN→RUS).
"""

from __future__ import annotations

from collections.abc import Iterable

from spacy.tokens import Span, Token

from monitor.models import Claim, Evidence
from monitor.nlp import grammar
from monitor.nlp.marking import mark
from monitor.nlp.modality import ModalityReader
from monitor.nlp.objects import ObjectFinder
from monitor.text import squash
from monitor.watchlist import ROLES, Action, Watchlist

PRONOUNS_FIRST_PERSON = frozenset({"we", "i", "us", "our", "my"})
MAX_CLAIMS_PER_SENTENCE = 8


class ClaimExtractor:
    """Callable the Tagger runs on each evidence sentence (see ``monitor.nlp.tag.FindClaims``)."""

    def __init__(self, watchlist: Watchlist):
        self.watchlist = watchlist
        self.actions = watchlist.actions
        #: Role → action id ("" when no action has the role: that reading is skipped).
        self.roles = {role: watchlist.action_for(role) for role in ROLES}
        self._by_lemma: dict[str, list[str]] = {}
        for action_id, action in watchlist.actions.items():
            for lemma in action.lemmas:
                self._by_lemma.setdefault(lemma.lower(), []).append(action_id)
        #: What a denial denies ("charge", "accusation"): the denial action's objects.
        denial = self.roles["denial"]
        charge_nouns = frozenset(o.lower() for o in self.actions[denial].objects) if denial else frozenset()
        self.modality = ModalityReader(watchlist.modality, charge_nouns)
        self._content_actions = frozenset(a for a, act in watchlist.actions.items() if act.governs_content)
        #: Words of the topics, governed or not ("weapons", "sanctions"): what a promise or a
        #: request can be of.
        self._topic_words = frozenset(
            phrase.lower().split()[-1]
            for topic in watchlist.topics.values()
            for phrase in [*topic.triggers, *(t for c in topic.context_triggers for t in c.terms), *topic.verbs]
        )
        #: Stances on sanctions ("oppose"): aimed at the sanctions' target.
        self._stances = frozenset(watchlist.windows.stance_actions) - {self.roles["evasion"], self.roles["helped_evasion"]}
        self._pair_partners: dict[str, set[str]] = {}
        for first, second in watchlist.watch_pairs:
            self._pair_partners.setdefault(first, set()).add(second)
            self._pair_partners.setdefault(second, set()).add(first)
        self.objects = ObjectFinder(self.action_of, self.roles["request"], self._content_actions, self._pair_partners)

    # --- public -------------------------------------------------------------------------
    def __call__(self, sentence: Span, actors: dict[int, str], evidence: Evidence) -> list[Claim]:
        """Claims of one evidence sentence (trigger positions from the Tagger, else re-found)."""
        triggers = None
        if Span.has_extension("trigger_topics"):
            triggers = sentence._.get("trigger_topics")
        if triggers is None:
            triggers = grammar.trigger_tokens(sentence, evidence)
        found: list[Claim] = []
        seen: set[tuple[str, str, str, str]] = set()
        for token in sentence:
            action_id = self.action_of(token)
            if action_id is None or self._is_content(token) or self._helps_evasion(token):
                continue
            if action_id in self._content_actions and self._content_is_elsewhere(token, triggers):
                continue
            for claim in self._claims_at(token, action_id, sentence, actors, evidence, triggers):
                key = (claim.subject, claim.action, claim.object, claim.topic)
                if key not in seen:
                    seen.add(key)
                    found.append(claim)
        return found[:MAX_CLAIMS_PER_SENTENCE]

    def action_of(self, token: Token) -> str | None:
        """The action a verb or noun expresses here, or None."""
        if token.pos_ not in ("VERB", "NOUN", "PROPN") and token.dep_ != "ROOT":
            return None
        candidates = self._by_lemma.get(token.lemma_.lower()) or self._by_lemma.get(token.lower_)
        if not candidates:
            return None
        objects = {child.lemma_.lower() for child in token.children if child.dep_ in ("dobj", "nsubjpass", "attr")}
        objects |= {t.lemma_.lower() for t in grammar.prep_objects(token)}
        if token.pos_ == "NOUN" and token.dep_ in ("dobj", "nsubjpass"):
            # "a charge Beijing denies": the noun is the object of the denial, not an act.
            objects.add(token.lemma_.lower())
        for action_id in candidates:
            action = self.actions[action_id]
            if action.objects and not (objects & {o.lower() for o in action.objects}):
                continue
            if token.lemma_.lower() in action.needs_object and not grammar.asks_for_something(token):
                continue
            return action_id
        return None

    # --- one predicate -------------------------------------------------------------------
    def _claims_at(
        self,
        token: Token,
        action_id: str,
        sentence: Span,
        actors: dict[int, str],
        evidence: Evidence,
        triggers: dict[int, str],
    ) -> Iterable[Claim]:
        action = self.actions[action_id]
        topic = self._topic(token, action, evidence, triggers)
        if topic is None:
            return []
        subjects = self._subjects(token, actors)
        #: Where the act's modality is read: the helper's, for a help to evade.
        predicate = token
        if action_id == self.roles["evasion"]:
            helper = grammar.helper_of(token)
            if helper is not None:
                predicate = helper
                # "China helps Russia evade sanctions": the helper's act, aimed at the evader.
                helped = self.roles["helped_evasion"] or action_id
                action_id, action = helped, self.actions[helped]
                helpers = self._subjects(helper, actors)
                objects = subjects or self.objects.sanctions_target(token, actors, helpers)
                subjects = helpers
            else:
                objects = self.objects.sanctions_target(token, actors, subjects)
        elif action_id in self._stances:
            # "resist US sanctions", "decried Western sanctions": whose sanctions they are is
            # not whom the stance is about.
            objects = self.objects.sanctions_target(token, actors, subjects)
        else:
            objects = self.objects.of(token, actors, set(subjects)) or self.objects.answerer(token, action_id, actors, subjects)
        if action_id == self.roles["transfer"] and self.roles["intent"] and grammar.willing_to(token):
            # "more willing to transfer weaponry to Beijing": an intent, not a transfer.
            action_id, action = self.roles["intent"], self.actions[self.roles["intent"]]
        if action.reverse:
            # "Russia bought drones from China": the seller provides to the buyer.
            action_id, action = action.reverse, self.actions[action.reverse]
            subjects, objects = objects, subjects
        if action_id == self.roles["denial"]:
            # What is denied is the subject's part in the watched link, whoever else is named.
            partners = [a for s in subjects for a in sorted(self._pair_partners.get(s, ())) if a in actors.values()]
            objects = partners or objects
        modality = self.modality.read(predicate, subjects, actors)
        claims = []
        text = squash(sentence.text, lines=False)
        for subject in subjects:
            for obj in objects:
                if obj == subject:
                    continue
                claims.append(
                    Claim(
                        subject=subject,
                        action=action_id,
                        object=obj,
                        topic=topic,
                        modality=modality,
                        cameo=action.cameo_for(topic),
                        sentence=text,
                        index=evidence.index,
                        about=self._about(subject, obj, token, actors),
                        marked=mark(sentence, actors, {subject, obj}, token, action_id),
                    )
                )
        return claims

    def _topic(self, token: Token, action: Action, evidence: Evidence, triggers: dict[int, str]) -> str | None:
        topics = [t for t in evidence.topics]
        if action.topics:
            allowed = [t for t in action.topics if t in topics]
            if not allowed:
                return None
            if token.lemma_.lower() in action.needs_trigger:
                # "hit Russia with sanctions", not "hit back at the decision to impose them".
                own = any(t.i in triggers for t in grammar.own_phrase(token))
                return allowed[0] if own else None
            if token.i in triggers or any(t.i in triggers for t in grammar.act_subtree(token)) or len(allowed) == 1:
                return allowed[0]
        under = [triggers[t.i] for t in grammar.act_subtree(token) if t.i in triggers]
        if under:
            return under[0]
        if token.i in triggers:
            return triggers[token.i]
        if not action.governs_content and (action.rung or action.reverse):
            # A delivery is of something: "supplied drones" is military aid, "purchases of
            # oil" in a sentence that mentions sanctions elsewhere is not a sanctions act.
            return None
        return topics[0] if len(topics) == 1 else None

    def _helps_evasion(self, token: Token) -> bool:
        """ "helped Russia evade sanctions" is one claim, made at the evasion verb."""
        evasion = self.roles["evasion"]
        return (
            bool(evasion)
            and self.action_of(token) == self.roles["transfer"]
            and any(child.dep_ in ("ccomp", "xcomp") and self.action_of(child) == evasion for child in token.children)
        )

    def _content_is_elsewhere(self, token: Token, triggers: dict[int, str]) -> bool:
        """A request, promise, warning or refusal whose content — its clause, what it is "for"
        or "from", or a thing it names — holds no act of the lexicon and no topic word
        ("refused to condemn the invasion", "called for a peaceful settlement", "sought closer
        ties"): it is about something else, whatever else the sentence says. Its addressee
        ("asked China") is not its content."""
        content = [c for c in token.children if c.dep_ in ("xcomp", "ccomp") and c.pos_ in ("VERB", "AUX")]
        content += [c for c in token.children if c.dep_ == "dobj" and c.ent_type_ not in ACTOR_LABELS]
        content += [
            o for p in grammar.preps(token) for o in p.children if o.dep_ == "pcomp" or (p.lower_ == "for" and o.dep_ == "pobj")
        ]
        return bool(content) and not any(
            t.i in triggers or t.lemma_.lower() in self._topic_words or (t is not token and self.action_of(t))
            for c in content
            for t in c.subtree
        )

    def _is_content(self, token: Token) -> bool:
        """True when a request, promise, warning or refusal above makes this its content."""
        node = token
        for ancestor in grammar.clause_ancestors(token):
            # Only a complement is content. "refused to condemn…, and opposed the sanctions": a
            # coordinated act is its own act; "refusing to denounce…, while stressing its aid and
            # denying it considered…": nor is a side clause what the refusal refused.
            if not grammar.side_clause(node) and self.action_of(ancestor) in self._content_actions:
                return True
            node = ancestor
        return False

    # --- arguments -----------------------------------------------------------------------
    def _subjects(self, token: Token, actors: dict[int, str]) -> list[str]:
        """Actors that perform the act at ``token`` (several for "the US and the EU")."""
        for _ in range(6):
            direct = [c for c in token.children if c.dep_ in grammar.SUBJECT_DEPS]
            if not direct and token.pos_ == "AUX" and grammar.inverted_condition(token):
                direct = [c for c in token.children if c.dep_ == "attr"]  # "Were Beijing to ship"
            if direct:
                found = grammar.np_actors(direct[0], actors)
                if found:
                    return found
                if direct[0].lower_ in PRONOUNS_FIRST_PERSON:
                    speaker = grammar.speaker(token, actors)
                    return [speaker] if speaker else []
                if direct[0].lower_ in ("it", "they"):
                    antecedent = grammar.antecedent(direct[0], actors)
                    return [antecedent] if antecedent else []
                return []
            agents = [g for c in token.children if c.dep_ == "agent" for g in c.children if g.dep_ == "pobj"]
            if agents:
                return grammar.np_actors(agents[0], actors)
            if token.pos_ == "NOUN" or (token.dep_ in ("nmod", "compound") and token.head.pos_ in ("NOUN", "PROPN")):
                # "China's supply", "US sanctions", "Russian request": the noun's own modifiers.
                own = [
                    a
                    for c in token.children
                    if c.dep_ in ("poss", "compound", "amod", "nmod")
                    for a in grammar.np_actors(c, actors)
                ]
                if own:
                    return own
                pronoun = [c for c in token.children if c.dep_ == "poss" and c.lower_ in ("its", "their")]
                if pronoun:
                    antecedent = grammar.antecedent(pronoun[0], actors)
                    return [antecedent] if antecedent else []
            if any(c.dep_ == "nsubjpass" for c in token.children):
                return []  # "sanctions were imposed on China": no agent named
            dep, head = token.dep_, token.head
            if head is token:
                return []
            if dep in ("xcomp", "ccomp"):
                # Object control: "asked China to send", "warned China to avoid" — China acts.
                controller = [c for c in head.children if c.dep_ in ("dobj", "dative")]
                asking = self.action_of(head) in (self.roles["request"], self.roles["threat"])
                if controller and (dep == "xcomp" or asking):
                    found = grammar.np_actors(controller[0], actors)
                    if found or asking:
                        return found
                    # "used the call to dissuade Xi": no actor to control it, so a purpose
                    # clause, and the subject acts.
                token = head  # subject control: "China promised to supply"
                continue
            if dep == "pcomp":
                # "sanctioned firms for supplying", "accused Beijing of enabling", "firms for supplying".
                governor = head.head
                if governor.pos_ in ("NOUN", "PROPN"):
                    return grammar.np_actors(governor, actors)
                controller = [c for c in governor.children if c.dep_ == "dobj"]
                if controller:
                    return grammar.np_actors(controller[0], actors)
                token = governor
                continue
            if dep in ("acl", "relcl"):
                return grammar.np_actors(head, actors)  # "Chinese firms supplying Russia"
            if self.objects.light_verb_object(token):
                token = head  # "Russia made a request", "Beijing issued a warning": the verb's subject
                continue
            if dep in ("conj", "advcl", "acomp"):
                token = head  # "China has been reluctant to provide": the copula's subject
                continue
            return []
        return []

    def _about(self, subject: str, obj: str, token: Token, actors: dict[int, str]) -> str:
        """For a third party's act on one side of a watched link: the other side, if the act
        itself names it ("sanctioned Chinese firms *for supplying Russia*"), not merely the
        sentence ("sanctioned Russia, *while China* bought oil")."""
        if obj in self._pair_partners.get(subject, ()):
            return ""
        partners = self._pair_partners.get(obj, set()) | self._pair_partners.get(subject, set())
        partners -= {subject, obj}
        head = token.head if token.dep_ in ("nmod", "compound") and token.head.pos_ in ("NOUN", "PROPN") else token
        present = [actors[t.i] for t in grammar.own_clause(head) if t.i in actors and actors[t.i] in partners]
        return present[0] if present else ""


#: Entity labels of a named party: a request's object with one is its addressee.
ACTOR_LABELS = frozenset({"GPE", "NORP", "ORG", "PERSON"})
