"""The Grafana dashboards and provisioning files are consistent with each other."""

from __future__ import annotations

import re

import pytest
import yaml

from tests.deploy.queries import (
    DASHBOARDS,
    DEPLOY,
    expand_macros,
    load_dashboard,
    panel_queries,
)

GRAFANA = DEPLOY / "grafana"
PANEL_TYPES = {"timeseries", "stat", "bargauge", "table", "gauge"}


def _datasource_uids() -> set[str]:
    provisioned = yaml.safe_load((GRAFANA / "provisioning" / "datasources" / "prometheus.yml").read_text())
    return {ds["uid"] for ds in provisioned["datasources"]}


def test_the_two_dashboards_are_shipped_with_fixed_unique_uids():
    titles = {load_dashboard(path)["title"] for path in DASHBOARDS}
    assert titles == {"newsmon · Pipeline health", "newsmon · Russia–China watch"}
    uids = [load_dashboard(path)["uid"] for path in DASHBOARDS]
    assert len(set(uids)) == len(uids) and all(uids)


@pytest.mark.parametrize("path", DASHBOARDS, ids=lambda p: p.name)
def test_every_panel_has_a_unique_id_targets_and_the_provisioned_datasource(path):
    uids = _datasource_uids()
    dashboard = load_dashboard(path)
    ids = [panel["id"] for panel in dashboard["panels"]]
    assert len(ids) == len(set(ids)), f"duplicate panel ids in {path.name}"
    for panel in dashboard["panels"]:
        where = f"{path.name} panel {panel['id']} {panel['title']!r}"
        assert panel["type"] in PANEL_TYPES, where
        assert panel.get("description"), f"{where} has no description"
        assert panel["datasource"]["uid"] in uids, where
        assert panel["targets"], f"{where} has no targets"
        ref_ids = [target["refId"] for target in panel["targets"]]
        assert len(ref_ids) == len(set(ref_ids)), where
        for target in panel["targets"]:
            assert target["datasource"]["uid"] in uids, where
            assert target["expr"].strip(), where
        pos = panel["gridPos"]
        assert 0 <= pos["x"] and pos["x"] + pos["w"] <= 24 and pos["h"] > 0, f"{where} lies outside the 24-column grid"


@pytest.mark.parametrize("path", DASHBOARDS, ids=lambda p: p.name)
def test_panels_do_not_overlap(path):
    cells: dict[tuple[int, int], int] = {}
    for panel in load_dashboard(path)["panels"]:
        pos = panel["gridPos"]
        for x in range(pos["x"], pos["x"] + pos["w"]):
            for y in range(pos["y"], pos["y"] + pos["h"]):
                assert (x, y) not in cells, f"panels {cells[(x, y)]} and {panel['id']} overlap in {path.name}"
                cells[(x, y)] = panel["id"]


def test_every_query_names_a_metric_newsmon_exports_and_expands_every_grafana_variable():
    for query in panel_queries():
        expand_macros(query.expr)  # raises on an unknown $variable
        names = set(re.findall(r"\b(newsmon_\w+|process_\w+|up)\b", query.expr))
        assert names, f"{query.where} queries no newsmon metric: {query.expr}"
        if any(name.startswith("process_") or name == "up" for name in names):
            assert 'job=~"newsmon-.*"' in query.expr, f"{query.where} must keep to newsmon's jobs"


def test_dashboard_provider_points_where_compose_mounts_the_dashboards():
    provider = yaml.safe_load((GRAFANA / "provisioning" / "dashboards" / "newsmon.yml").read_text())["providers"][0]
    compose = yaml.safe_load((DEPLOY.parent / "docker-compose.yml").read_text())
    mounts = compose["services"]["grafana"]["volumes"]
    assert any(m.startswith("./deploy/grafana/dashboards:") and m.split(":")[1] == provider["options"]["path"] for m in mounts), (
        mounts
    )


def test_readme_describes_every_panel():
    readme = (DEPLOY.parent / "README.md").read_text(encoding="utf-8")
    for path in DASHBOARDS:
        for panel in load_dashboard(path)["panels"]:
            assert f"**{panel['title']}**" in readme, f"README does not describe panel {panel['title']!r} of {path.name}"
