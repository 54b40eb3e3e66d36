"""A real headless Chromium (Debian's ``chromium`` and ``chromium-driver``) driven by selenium.

Nothing is downloaded: the driver and browser paths are given, so selenium's manager never
runs. The profile is fresh per browser, and background networking is off, so the browser
talks to nothing but the page under test.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from selenium import webdriver
from selenium.webdriver.chrome.service import Service

INSTALL_HINT = "install the Debian packages `chromium` and `chromium-driver` (`make test` does: see the test-tools target)"
FLAGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--window-size=1280,900",
)


def _binary(*names: str) -> str:
    for name in names:
        path = shutil.which(name)
        if path:
            return path
    raise AssertionError(f"none of {', '.join(names)} on PATH: {INSTALL_HINT}")


def chromium(profile: Path) -> webdriver.Chrome:
    """A headless Chromium with a fresh profile in ``profile``, keeping the page's console log."""
    options = webdriver.ChromeOptions()
    options.binary_location = _binary("chromium", "chromium-browser")
    for flag in FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={profile}")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(service=Service(executable_path=_binary("chromedriver")), options=options)
