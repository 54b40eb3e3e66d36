"""The watchlist: which actors, which topics, which links between them matter.

``config/watchlist.yaml`` names each actor by a canonical id (RUS, CHN, USA…) with the
words that refer to it — the country, its capital and seat of government as metonyms,
its leaders and officials, and its demonym. Topics are lists of trigger phrases, matched
on lemmas so "sanctioned", "sanctions" and "sanctioning" all count.
"""

from __future__ import annotations

import re
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from monitor.configfile import load_model

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


class Topic(_Strict):
    label: str
    #: Phrases that signal the topic on their own ("military aid", "sanctions").
    triggers: list[str] = Field(min_length=1)
    context_triggers: list[ContextTrigger] = []

    @field_validator("triggers")
    @classmethod
    def _non_blank(cls, phrases: list[str]) -> list[str]:
        for phrase in phrases:
            if not phrase.strip():
                raise ValueError("a trigger phrase is empty")
        return phrases


class Watchlist(_Strict):
    version: int = 1
    actors: dict[str, Actor] = Field(min_length=1)
    #: Names that contain an actor's name but are not the actor ("Washington Post").
    not_actors: list[str] = []
    #: Actor pairs whose link newsmon watches; an article naming both belongs to a story.
    watch_pairs: list[tuple[str, str]] = Field(min_length=1)
    topics: dict[str, Topic] = Field(min_length=1)

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
    def _references_resolve(self) -> "Watchlist":
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

    def route_for(self, actors: set[str]) -> str:
        """Story partition key: the first watched pair whose actors both appear, or ""."""
        for first, second in self.watch_pairs:
            if first in actors and second in actors:
                return "|".join(sorted((first, second)))
        return ""


def load_watchlist(path: Path) -> Watchlist:
    """Read and validate ``watchlist.yaml``; ConfigError lists every bad line."""
    return load_model(path, Watchlist)
