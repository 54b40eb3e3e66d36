"""Every PromQL expression newsmon ships: dashboard panel targets and alert rules."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from tests.support.paths import PROJECT

DEPLOY = PROJECT / "deploy"
DASHBOARDS = sorted((DEPLOY / "grafana" / "dashboards").glob("*.json"))
RULE_FILES = sorted((DEPLOY / "prometheus" / "rules").glob("*.yml"))

#: Grafana's interval macros as Grafana would expand them for a Prometheus scraped every
#: second and a dashboard showing the last ten minutes.
GRAFANA_MACROS = {"$__rate_interval": "20s", "$__interval": "2s", "$__range": "10m"}


@dataclass(frozen=True)
class Query:
    where: str  # "pipeline-health.json panel 7 'Articles by outcome' A"
    expr: str


def load_dashboard(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def panel_queries() -> list[Query]:
    queries = []
    for path in DASHBOARDS:
        for panel in load_dashboard(path)["panels"]:
            for target in panel.get("targets", []):
                where = f"{path.name} panel {panel['id']} {panel['title']!r} {target['refId']}"
                queries.append(Query(where, target["expr"]))
    return queries


def rule_queries() -> list[Query]:
    queries = []
    for path in RULE_FILES:
        for group in yaml.safe_load(path.read_text())["groups"]:
            for rule in group["rules"]:
                name = rule.get("alert") or rule.get("record")
                queries.append(Query(f"{path.name} {name}", rule["expr"]))
    return queries


def expand_macros(expr: str) -> str:
    """The expression as Grafana sends it; an unknown ``$variable`` is an error."""
    for macro, value in GRAFANA_MACROS.items():
        expr = expr.replace(macro, value)
    leftover = re.findall(r"\$\w+", expr)
    if leftover:
        raise ValueError(f"unexpanded Grafana variables {leftover} in {expr}")
    return expr
