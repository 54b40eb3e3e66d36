"""The watchlist: which actors, which topics, which links between them matter.

``config/watchlist.yaml`` names each actor by a canonical id (RUS, CHN, USA…) with the
words that refer to it — the country, its capital and seat of government as metonyms,
its leaders and officials, and its demonym. Topics are lists of trigger phrases, matched
on lemmas so "sanctioned", "sanctions" and "sanctioning" all count.
"""

from __future__ import annotations

import re
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from monitor.configfile import ConfigError, describe_errors, located, read_yaml, renamed_key

ACTOR_ID = re.compile(r"^[A-Z][A-Z0-9_]{1,15}$")
TOPIC_ID = re.compile(r"^[a-z][a-z0-9_]{1,40}$")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Actor(_Strict):
    """A canonical actor and every way the news refers to it."""

    name: str
    aliases: list[str] = Field(min_length=1)
    #: Capitals and seats of power used for the state ("Beijing said…").
    metonyms: list[str] = []
    #: Leaders and officials whose words and acts are the state's.
    people: list[str] = []
    #: Adjectives and nouns of nationality ("Chinese firms", "Russian army").
    demonyms: list[str] = []

    def surface_forms(self) -> list[tuple[str, str]]:
        """(phrase, kind) for every form, kind being alias, metonym, person or demonym."""
        forms = [(p, "alias") for p in self.aliases] + [(p, "metonym") for p in self.metonyms]
        forms += [(p, "person") for p in self.people] + [(p, "demonym") for p in self.demonyms]
        return forms


class ContextTrigger(_Strict):
    """Terms that signal the topic only beside one of ``requires`` ("send … weapons")."""

    terms: list[str] = Field(min_length=1)
    requires: list[str] = Field(min_length=1)
    #: Modifiers that make a term something else ("chemical weapons", "nuclear missiles" are
    #: not materiel anyone ships to an ally).
    unless: list[str] = []
    #: When given, the terms count only in a sentence that also names one of these words: chips,
    #: parts and machine tools are civilian trade unless the sentence ties them to the war.
    with_any: list[str] = []


class ModifierTrigger(_Strict):
    """A modifier that signals the topic where it modifies one of ``heads`` ("military ... support")."""

    modifiers: list[str] = Field(min_length=1)
    heads: list[str] = Field(min_length=1)


class Topic(_Strict):
    label: str
    #: Phrases that signal the topic on their own ("military aid", "sanctions").
    triggers: list[str] = Field(min_length=1)
    context_triggers: list[ContextTrigger] = []
    modifier_triggers: list[ModifierTrigger] = []
    #: Verbs that are the topic on their own, in any form ("arming Russia", "rearmed").
    verbs: list[str] = []

    @field_validator("triggers")
    @classmethod
    def _non_blank(cls, phrases: list[str]) -> list[str]:
        for phrase in phrases:
            if not phrase.strip():
                raise ValueError("a trigger phrase is empty")
        return phrases


ACTION_ID = re.compile(r"^[a-z][a-z_]{1,40}$")
#: The acts claim extraction reads in its own way, named by role so an action can be renamed:
#: a transfer can be a help to evade ("helped Russia evade sanctions"), an evasion under a help
#: is the helper's act, a denial is aimed at the denier's part in the link, and the clause under
#: a request or a threat has the asked or warned party as its subject, and a transfer someone is
#: only willing or ready to make is an intent.
ROLES = ("transfer", "evasion", "helped_evasion", "denial", "request", "threat", "intent")
MODALITIES = ("asserted", "attributed", "hedged", "conditional", "denied")
#: In a rule, an actor slot that any actor fills (a third party: "US sanctions Chinese firms…").
ANY_ACTOR = "*"


class Action(_Strict):
    """A kind of act a claim can report, the words that express it and its CAMEO code per topic.

    ``lemmas`` are the verbs and nouns that express the act ("supply", "provision"). Several
    actions may share a lemma when the earlier one narrows it with ``objects`` ("deny the
    charge" is a denial, "reject the request" a refusal); the first action that fits wins.
    """

    lemmas: list[str] = []
    #: Only when the predicate's object has one of these lemmas (else the next action is tried).
    objects: list[str] = []
    #: The topics the act belongs to on its own ("sanction" is always about sanctions); empty:
    #: the topic comes from the trigger in the sentence.
    topics: list[str] = []
    #: CAMEO event code per topic ("any" for every topic).
    cameo: dict[str, str] = {}
    #: Rung on its topic's escalation ladder (request 1 → promise 2 → delivery 3): a claim that
    #: climbs the ladder is an escalation of its story. 0: not on the ladder (denials, refusals).
    rung: int = 0
    #: The claims nested under this act are its content, not facts ("asked China to send
    #: weapons" is one request, not a delivery).
    governs_content: bool = False
    #: Lemmas that express the act only with something to ask for: a verb with a noun object
    #: ("sought weapons from China"), a noun with its asker ("Russia's demand for drones");
    #: not a to-infinitive alone ("sought to appear neutral", "wants to support") nor a bare
    #: noun ("market demand", "a phone call").
    needs_object: list[str] = []
    #: Lemmas that express the act only with a trigger of its topic in their own phrase: "hit
    #: Russia with sanctions", "announced new sanctions"; not "hit back at the decision to
    #: impose sanctions", "announced talks" in a sentence that names sanctions elsewhere.
    needs_trigger: list[str] = []
    #: Report as this other action with subject and object swapped ("Russia bought drones
    #: from China" is China's ``provide``); its cameo and rung are the other action's.
    reverse: str = ""
    #: What claim extraction treats specially about this act, whatever its id is (see ROLES).
    role: str = ""

    @model_validator(mode="before")
    @classmethod
    def _old_names(cls, data: object) -> object:
        # "stage" was this field's first name; "stage" now means only a pipeline stage.
        return renamed_key(data, "stage", "rung", "actions")

    def cameo_for(self, topic: str) -> str:
        return self.cameo.get(topic) or self.cameo.get("any", "")


class ModalityCues(_Strict):
    """Words that change how sure a sentence is about a claim (lemmas, lower-case)."""

    negations: list[str] = ["not", "never", "no", "n't", "neither", "nor"]
    denials: list[str] = ["deny", "refute", "dismiss", "reject"]
    #: Verbs and adjectives whose clause says the act did not happen ("avoided providing",
    #: "reluctant to provide", "refrained from sending").
    negating: list[str] = ["avoid", "refrain", "reluctant", "unwilling", "hesitant", "loath", "fail"]
    conditionals: list[str] = ["if", "unless", "whether", "should"]
    #: Hopes and expectations: an act they say will not happen is a forecast, not a denial
    #: ("hopeful that Xi will not assist Russia", "don't believe China would provide").
    forecasts: list[str] = ["hope", "hopeful", "expect", "believe", "think", "doubt", "predict", "confident", "optimistic"]
    hedges: list[str] = [
        "may",
        "might",
        "could",
        "reportedly",
        "allegedly",
        "possibly",
        "likely",
        "perhaps",
        "apparently",
        "potentially",
        "probably",
        "appear",
        "seem",
        "suspect",
        "fear",
        "speculate",
        "unlikely",
        "possible",
        "concerned",
        "worried",
    ]
    #: Verbs and nouns that report someone else's statement ("US officials said…").
    reporting: list[str] = [
        "say",
        "tell",
        "report",
        "claim",
        "accuse",
        "allege",
        "believe",
        "state",
        "announce",
        "add",
        "according",
        "note",
        "insist",
        "assert",
        "argue",
        "suggest",
        "agree",
        "accusation",
        "allegation",
        "charge",
        "report",
        "claim",
        "statement",
        "assessment",
        "intelligence",
        "show",
        "reveal",
        "cite",
        "write",
        "mention",
        "relay",
        "describe",
        "label",
        "declaration",
        "concern",
    ]


class Rule(_Strict):
    """Which claims matter and what to do: actor pairs × topics × modalities → alert, severity.

    ``actors`` is an unordered pair; ``*`` stands for any actor, in which case ``about`` names
    the actor the claim must concern (the third party sanctions China *about* Russia).
    """

    name: str
    actors: tuple[str, str]
    about: str = ""
    topics: list[str] = Field(min_length=1)
    #: Empty: every action.
    actions: list[str] = []
    modalities: list[str] = Field(min_length=1)
    alert: bool = True
    severity: str = "medium"

    @field_validator("modalities")
    @classmethod
    def _known_modalities(cls, modalities: list[str]) -> list[str]:
        for modality in modalities:
            if modality not in MODALITIES:
                raise ValueError(f"unknown modality {modality!r}; use one of {', '.join(MODALITIES)}")
        return modalities

    @field_validator("severity")
    @classmethod
    def _known_severity(cls, severity: str) -> str:
        if severity not in ("low", "medium", "high"):
            raise ValueError(f"severity {severity!r} must be low, medium or high")
        return severity


class WindowCues(_Strict):
    """Words read in evidence windows (a sentence and its neighbours in the same paragraph) to
    judge relevance when a sentence does not make a complete claim. Lemmas, lower-case."""

    #: Sentences (the title is sentence 0) that make the lede: their actors are the context
    #: for "Beijing", "the two leaders" or "it" in later windows.
    lede_sentences: int = Field(default=4, ge=1)
    #: The actions (ids of ``actions``) whose words are a transfer of goods ("shipped", "supplier").
    transfer_actions: list[str] = []
    #: Words of a stance on sanctions or of help with them ("opposes", "will not join", "cushion"),
    #: and the actions whose words count too (``oppose_sanctions``: "decried").
    stance_on_sanctions: list[str] = []
    stance_actions: list[str] = []
    #: Energy and trade words: relevant only where sanctions frame them (relief, evasion).
    energy_terms: list[str] = []
    #: Negative cues: a window about these alone is not about aid ("joint exercises", "nuclear threat").
    exercise_terms: list[str] = []
    nuclear_terms: list[str] = []


class Watchlist(_Strict):
    version: int = 1
    actors: dict[str, Actor] = Field(min_length=1)
    #: Names that contain an actor's name but are not the actor ("Washington Post").
    not_actors: list[str] = []
    #: Actor pairs whose link newsmon watches; an article naming both belongs to a story.
    watch_pairs: list[tuple[str, str]] = Field(min_length=1)
    topics: dict[str, Topic] = Field(min_length=1)
    #: The acts claims report, in matching order (see ``Action``).
    actions: dict[str, Action] = {}
    modality: ModalityCues = ModalityCues()
    windows: WindowCues = WindowCues()
    #: What makes an article relevant and what raises an alert; first matching rule wins.
    rules: list[Rule] = []

    @field_validator("actors")
    @classmethod
    def _actor_ids(cls, actors: dict[str, Actor]) -> dict[str, Actor]:
        for actor_id in actors:
            if not ACTOR_ID.match(actor_id):
                raise ValueError(f"actor id {actor_id!r} must be upper-case letters/digits, e.g. RUS")
        return actors

    @field_validator("topics")
    @classmethod
    def _topic_ids(cls, topics: dict[str, Topic]) -> dict[str, Topic]:
        for topic_id in topics:
            if not TOPIC_ID.match(topic_id):
                raise ValueError(f"topic id {topic_id!r} must be lower_snake_case, e.g. military_aid")
        return topics

    @model_validator(mode="after")
    def _references_resolve(self) -> Watchlist:
        for pair in self.watch_pairs:
            for actor_id in pair:
                if actor_id not in self.actors:
                    raise ValueError(f"watch_pairs names unknown actor {actor_id!r}")
            if pair[0] == pair[1]:
                raise ValueError(f"watch pair {list(pair)} links an actor to itself")
        owners: dict[str, str] = {}
        for actor_id, actor in self.actors.items():
            for phrase, _kind in actor.surface_forms():
                key = phrase.casefold()
                if key in owners and owners[key] != actor_id:
                    raise ValueError(f"{phrase!r} refers to both {owners[key]} and {actor_id}")
                owners[key] = actor_id
        return self

    def reference_problems(self) -> list[tuple[tuple, str]]:
        """(location, problem) for every action or rule that names something undefined.

        Checked after the model is built so each problem keeps the location of the entry
        that causes it ("rules.2.actors") and ``load_watchlist`` can name its line.
        """
        problems: list[tuple[tuple, str]] = []
        roles: dict[str, str] = {}
        for action_id, action in self.actions.items():
            if action.role and action.role not in ROLES:
                problems.append((("actions", action_id, "role"), f"unknown role {action.role!r}; use one of {', '.join(ROLES)}"))
            elif action.role in roles:
                problems.append((("actions", action_id, "role"), f"role {action.role!r} is also {roles[action.role]!r}'s"))
            elif action.role:
                roles[action.role] = action_id
            if not ACTION_ID.match(action_id):
                problems.append((("actions", action_id), f"action id {action_id!r} must be lower_snake_case"))
            for topic in list(action.topics) + [t for t in action.cameo if t != "any"]:
                if topic not in self.topics:
                    problems.append((("actions", action_id), f"unknown topic {topic!r}"))
            if action.reverse and (action.reverse not in self.actions or self.actions[action.reverse].reverse):
                problems.append((("actions", action_id, "reverse"), f"{action.reverse!r} is not a plain action"))
        for field_name in ("transfer_actions", "stance_actions"):
            for action_id in getattr(self.windows, field_name):
                if action_id not in self.actions:
                    problems.append((("windows", field_name), f"unknown action {action_id!r}"))
        seen: set[str] = set()
        for i, rule in enumerate(self.rules):
            where = ("rules", i)
            if rule.name in seen:
                problems.append(((*where, "name"), f"rule name {rule.name!r} is used twice"))
            seen.add(rule.name)
            for actor_id in rule.actors:
                if actor_id != ANY_ACTOR and actor_id not in self.actors:
                    problems.append(((*where, "actors"), f"unknown actor {actor_id!r}"))
            if rule.about and rule.about not in self.actors:
                problems.append(((*where, "about"), f"unknown actor {rule.about!r}"))
            if ANY_ACTOR in rule.actors and not rule.about:
                problems.append(((*where, "actors"), "a '*' actor needs an 'about' actor"))
            for topic in rule.topics:
                if topic not in self.topics:
                    problems.append(((*where, "topics"), f"unknown topic {topic!r}"))
            for action_id in rule.actions:
                if action_id not in self.actions:
                    problems.append(((*where, "actions"), f"unknown action {action_id!r}"))
        return problems

    def action_for(self, role: str) -> str:
        """The id of the action with ``role`` ("" when none has it: that reading is skipped)."""
        return next((action_id for action_id, action in self.actions.items() if action.role == role), "")

    def route_for(self, actors: set[str]) -> str:
        """Story partition key: the first watched pair whose actors both appear, or ""."""
        for first, second in self.watch_pairs:
            if first in actors and second in actors:
                return "|".join(sorted((first, second)))
        return ""


def load_watchlist(path: Path) -> Watchlist:
    """Read and validate ``watchlist.yaml``; ConfigError lists every bad line."""
    data, lines = read_yaml(path)
    try:
        watchlist = Watchlist.model_validate(data if data is not None else {})
    except ValidationError as exc:
        raise ConfigError(path, describe_errors(path, exc, lines)) from exc
    problems = [located(path, loc, message, lines) for loc, message in watchlist.reference_problems()]
    if problems:
        raise ConfigError(path, problems)
    return watchlist
