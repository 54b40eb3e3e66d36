"""Runs one fetch-and-parse of a hostile URL in a fresh process and reports what it cost.

``python -m tests.support.hostile_child URL DATA_DIR ALLOWLIST TIMEOUT_S [CONTROL]`` prints one JSON
object: the fetch outcome, seconds spent parsing, how far the peak RSS rose above the
warmed-up process (VmHWM after a clear_refs reset), and every file the process opened outside the data directory and the
code it runs (seen by an audit hook on ``open``, installed after imports and warm-up).
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from pathlib import Path

from monitor.ingest.fetch import fetch, make_session
from monitor.ingest.parse import parse_feed
from monitor.settings import Settings

WARM_UP = b'<rss version="2.0"><channel><title>w</title><item><title>x</title><link>https://e.org/x</link></item></channel></rss>'


def rss_kb(field: str) -> int:
    """VmRSS (now) or VmHWM (peak since the last reset) of this process, in kB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"{field} not in /proc/self/status")


def reset_peak() -> None:
    """Restart the peak-RSS count from the current RSS (Linux clear_refs, value 5)."""
    Path("/proc/self/clear_refs").write_text("5")


def code_roots() -> list[str]:
    roots = {sys.prefix, sys.base_prefix, sys.exec_prefix, str(Path(__file__).resolve().parents[2])}
    return sorted(str(Path(root).resolve()) for root in roots)


def main(url: str, data_dir: str, allow: str, timeout_s: float, control: str = "") -> dict:
    settings = Settings(data_dir=Path(data_dir), fetch_allowlist=allow, http_timeout_s=timeout_s)
    parse_feed(WARM_UP, feed_name="warm-up", url="https://e.org/feed")
    allowed = [str(Path(data_dir).resolve())] + code_roots()
    opened: list[str] = []
    watching = [True]  # audit hooks cannot be removed; this one stops recording after the case

    def audit(event: str, args: tuple) -> None:
        if watching[0] and event == "open" and args and isinstance(args[0], (str, bytes)):
            path = args[0].decode() if isinstance(args[0], bytes) else args[0]
            resolved = str(Path(path).resolve()) if not path.startswith("/dev/") else path
            if not any(resolved == root or resolved.startswith(root + "/") for root in allowed):
                opened.append(path)

    reset_peak()
    baseline_kb = rss_kb("VmRSS")
    sys.addaudithook(audit)
    if control:  # the positive control: an open the hook must report
        Path(control).read_bytes()

    async def go():
        async with make_session(settings) as session:
            return await fetch(session, url, settings)

    started = time.monotonic()
    result = asyncio.run(go())
    fetch_s = time.monotonic() - started
    parse_s, articles = 0.0, []
    if result.outcome == "ok":
        started = time.monotonic()
        parsed = parse_feed(result.body, feed_name="hostile", headers=result.headers, url=result.url)
        parse_s = time.monotonic() - started
        articles = [{"title": a.title, "summary": a.summary[:200], "text": a.text[:200]} for a in parsed.articles]
    watching[0] = False
    peak_kb = rss_kb("VmHWM")
    return {
        "outcome": result.outcome,
        "error": result.error,
        "body_bytes": len(result.body),
        "fetch_s": fetch_s,
        "parse_s": parse_s,
        "extra_rss_mb": (peak_kb - baseline_kb) / 1024,
        "opened": opened,
        "articles": articles,
    }


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4]), *sys.argv[5:6])))
