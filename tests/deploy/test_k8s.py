"""deploy/k8s: every manifest is valid against Kubernetes' own schemas and every
reference between them (ConfigMaps, Secret, PVC, ports, selectors, image) resolves."""

from __future__ import annotations

import importlib.util

import pytest
import yaml
from kubernetes_validate import utils as k8s_schema

from tests.support.paths import PROJECT

K8S = PROJECT / "deploy" / "k8s"
KUBERNETES_VERSION = "1.30"


def _kustomization() -> dict:
    return yaml.safe_load((K8S / "kustomization.yaml").read_text())


def _resources() -> list[dict]:
    docs = []
    for name in _kustomization()["resources"]:
        docs += [doc for doc in yaml.safe_load_all((K8S / name).read_text()) if doc]
    return docs


def _by_kind(kind: str) -> dict[str, dict]:
    return {doc["metadata"]["name"]: doc for doc in _resources() if doc["kind"] == kind}


def _workloads() -> dict[str, dict]:
    return {**_by_kind("Deployment"), **_by_kind("Job")}


def test_kustomization_lists_every_manifest_and_only_existing_ones():
    listed = set(_kustomization()["resources"])
    on_disk = {p.name for p in K8S.glob("*.yaml")} - {"kustomization.yaml"}
    assert listed == on_disk


@pytest.mark.parametrize("doc", _resources(), ids=lambda d: f"{d['kind']}/{d['metadata']['name']}")
def test_manifest_is_valid_against_the_kubernetes_schema(doc):
    """Strict: an unknown or misplaced field (a typo) is an error, not ignored."""
    k8s_schema.validate(doc, KUBERNETES_VERSION, strict=True)


def test_the_schema_check_can_fail():
    worker = _by_kind("Deployment")["newsmon-worker"]
    broken = yaml.safe_load(yaml.safe_dump(worker))
    broken["spec"]["template"]["spec"]["containers"][0]["livenessProbe"]["httpGet"]["paht"] = "/healthz"
    with pytest.raises(k8s_schema.ValidationError):
        k8s_schema.validate(broken, KUBERNETES_VERSION, strict=True)


def test_every_reference_resolves():
    config_maps, secrets, claims = _by_kind("ConfigMap"), _by_kind("Secret"), _by_kind("PersistentVolumeClaim")
    image_names = {image["name"] for image in _kustomization()["images"]}
    for name, workload in _workloads().items():
        pod = workload["spec"]["template"]["spec"]
        for container in pod["containers"]:
            assert container["image"] in image_names, f"{name}: image {container['image']} is not set by kustomization"
            for source in container.get("envFrom", []):
                if "configMapRef" in source:
                    assert source["configMapRef"]["name"] in config_maps, name
                if "secretRef" in source:
                    assert source["secretRef"]["name"] in secrets, name
            ports = {port["name"]: port["containerPort"] for port in container.get("ports", [])}
            for probe in ("livenessProbe", "readinessProbe", "startupProbe"):
                if probe in container:
                    assert container[probe]["httpGet"]["port"] in ports, f"{name} {probe} names an unknown port"
            volumes = {volume["name"]: volume for volume in pod.get("volumes", [])}
            for mount in container.get("volumeMounts", []):
                assert mount["name"] in volumes, f"{name} mounts unknown volume {mount['name']}"
        for volume in pod.get("volumes", []):
            if "configMap" in volume:
                assert volume["configMap"]["name"] in config_maps, name
            if "persistentVolumeClaim" in volume:
                assert volume["persistentVolumeClaim"]["claimName"] in claims, name
        if workload["kind"] == "Deployment":
            selector = workload["spec"]["selector"]["matchLabels"]
            labels = workload["spec"]["template"]["metadata"]["labels"]
            assert selector.items() <= labels.items(), f"{name}: selector does not match its pods"
    for budget in _by_kind("PodDisruptionBudget").values():
        matches = [
            d
            for d in _by_kind("Deployment").values()
            if budget["spec"]["selector"]["matchLabels"].items() <= d["spec"]["template"]["metadata"]["labels"].items()
        ]
        assert matches, f"PodDisruptionBudget {budget['metadata']['name']} selects no Deployment"


def test_processes_are_probed_scraped_and_sized_on_the_ports_they_serve():
    env = _by_kind("ConfigMap")["newsmon-env"]["data"]
    expected = {"newsmon-poller": env["MONITOR_POLLER_METRICS_PORT"], "newsmon-worker": env["MONITOR_WORKER_METRICS_PORT"]}
    for name, port in expected.items():
        template = _by_kind("Deployment")[name]["spec"]["template"]
        annotations = template["metadata"]["annotations"]
        assert annotations["prometheus.io/scrape"] == "true"
        assert annotations["prometheus.io/port"] == port
        (container,) = template["spec"]["containers"]
        assert str(container["ports"][0]["containerPort"]) == port
        assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
        assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
        resources = container["resources"]
        assert {"cpu", "memory"} <= resources["requests"].keys() and "memory" in resources["limits"], name


def test_poller_is_a_single_replica_with_its_state_on_a_volume_and_workers_scale():
    poller = _by_kind("Deployment")["newsmon-poller"]
    assert poller["spec"]["replicas"] == 1 and poller["spec"]["strategy"]["type"] == "Recreate"
    mounts = poller["spec"]["template"]["spec"]["containers"][0]["volumeMounts"]
    data_dir = _by_kind("ConfigMap")["newsmon-env"]["data"]["MONITOR_DATA_DIR"]
    state = [m for m in mounts if m["mountPath"] == data_dir]
    assert state and state[0]["name"] == "state"
    worker = _by_kind("Deployment")["newsmon-worker"]
    assert worker["spec"]["replicas"] >= 2
    assert worker["spec"]["replicas"] <= int(_by_kind("ConfigMap")["newsmon-env"]["data"]["MONITOR_PARTITIONS"])


def test_config_map_carries_exactly_the_repository_config():
    """Regenerate with `make k8s-config` when this fails."""
    spec = importlib.util.spec_from_file_location("configmap", K8S / "configmap.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert (K8S / "config.yaml").read_text(encoding="utf-8") == module.render(), (
        "deploy/k8s/config.yaml is stale: run make k8s-config"
    )
    data = _by_kind("ConfigMap")["newsmon-config"]["data"]
    for name, text in data.items():
        assert text == (PROJECT / "config" / name).read_text(encoding="utf-8"), name
    mount = _by_kind("Deployment")["newsmon-worker"]["spec"]["template"]["spec"]["containers"][0]["volumeMounts"][0]
    assert mount["mountPath"] == _by_kind("ConfigMap")["newsmon-env"]["data"]["MONITOR_CONFIG_DIR"]


def test_optional_pod_monitor_selects_both_processes_and_names_jobs_as_the_rules_expect():
    (monitor,) = list(yaml.safe_load_all((K8S / "optional" / "podmonitor.yaml").read_text()))
    assert monitor["apiVersion"] == "monitoring.coreos.com/v1" and monitor["kind"] == "PodMonitor"
    label = monitor["spec"]["jobLabel"]
    (expression,) = monitor["spec"]["selector"]["matchExpressions"]
    selected = {
        name: d
        for name, d in _by_kind("Deployment").items()
        if d["spec"]["template"]["metadata"]["labels"].get(expression["key"]) in expression["values"]
    }
    assert set(selected) == {"newsmon-poller", "newsmon-worker"}
    rules = (PROJECT / "deploy" / "prometheus" / "rules" / "newsmon.yml").read_text()
    for deployment in selected.values():
        job = deployment["spec"]["template"]["metadata"]["labels"][label]
        assert f'job="{job}"' in rules
        port_names = {p["name"] for p in deployment["spec"]["template"]["spec"]["containers"][0]["ports"]}
        assert monitor["spec"]["podMetricsEndpoints"][0]["port"] in port_names
