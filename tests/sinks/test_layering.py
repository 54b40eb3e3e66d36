"""The layering holds: importing the sinks loads no spaCy, and every import-linter
contract in pyproject.toml is kept. Each check runs in a fresh interpreter, because this
test process may already have imported spaCy for other tests."""

import subprocess
import sys
from pathlib import Path

from tests.support.paths import PROJECT


def test_importing_the_sinks_does_not_load_spacy():
    done = subprocess.run(
        [sys.executable, "-c", "import monitor.sinks, sys; print('spacy' in sys.modules)"],
        cwd=PROJECT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "False"


def test_every_import_contract_is_kept():
    # The venv's own script, beside the interpreter running the tests.
    lint_imports = Path(sys.executable).parent / "lint-imports"
    done = subprocess.run([str(lint_imports)], cwd=PROJECT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "0 broken" in done.stdout
