"""The console's templates and static files ship in the package (``pip install .``, the image)."""

from __future__ import annotations

import tomllib
from fnmatch import fnmatch

from tests.support.paths import PROJECT

CONSOLE = PROJECT / "monitor" / "console"


def test_every_template_and_static_file_is_package_data():
    globs = tomllib.loads((PROJECT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]["monitor.console"]
    files = [p.relative_to(CONSOLE).as_posix() for folder in ("templates", "static") for p in (CONSOLE / folder).iterdir()]
    assert len(files) >= 10
    assert [f for f in files if not any(fnmatch(f, g) for g in globs)] == []
