"""Write config.yaml, the newsmon-config ConfigMap, from the repository's config/*.yaml.

    python deploy/k8s/configmap.py      (or: make k8s-config)

Kustomize may not read files outside deploy/k8s, so the ConfigMap carries a copy;
tests/deploy/test_k8s.py fails when the copy and config/ differ.
"""

from __future__ import annotations

from pathlib import Path

HERE = Path(__file__).resolve().parent
CONFIG = HERE.parents[1] / "config"
HEADER = """\
# config/ as a ConfigMap, mounted at MONITOR_CONFIG_DIR (/etc/newsmon). Generated from
# config/*.yaml by deploy/k8s/configmap.py (`make k8s-config`): edit config/, not this file.
apiVersion: v1
kind: ConfigMap
metadata:
  name: newsmon-config
  labels:
    app.kubernetes.io/part-of: newsmon
data:
"""


def render(config_dir: Path = CONFIG) -> str:
    parts = [HEADER]
    for path in sorted(config_dir.glob("*.yaml")):
        text = path.read_text(encoding="utf-8")
        body = "".join(f"    {line}" if line.strip() else "\n" for line in text.splitlines(keepends=True))
        parts.append(f"  {path.name}: |\n{body}")
        if not body.endswith("\n"):
            parts.append("\n")
    return "".join(parts)


if __name__ == "__main__":
    (HERE / "config.yaml").write_text(render(), encoding="utf-8")
    print(f"wrote {HERE / 'config.yaml'}")
