"""Hostile input through the real fetch-and-parse path, each case in a fresh process.

Entity bombs, external entities, a 1 GB body, a gzip bomb and a byte-per-second drip are
served on loopback. Each must finish within its limits: under a second of parsing, under
50 MB of extra memory, aborted at the body cap or the deadline — and the process must not
open any file outside its data directory (an audit hook watches every ``open``).
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import zlib

import pytest
from aiohttp import web

from tests.support import hostile
from tests.support.loopback import LoopbackServer
from tests.support.paths import PROJECT

pytestmark = pytest.mark.timeout(300)
GIB = 1024**3
MIB = 1024**2
SECRET = "newsmon-test-secret-7f3a"


def gzip_bomb(size: int = GIB) -> bytes:
    """``size`` zero bytes, gzip-compressed to about a thousandth of that."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)
    chunk = bytes(MIB)
    return b"".join(packer.compress(chunk) for _ in range(size // MIB)) + packer.flush()


@pytest.fixture(scope="module")
def secret_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("outside") / "secret.txt"
    path.write_text(SECRET)
    return path


@pytest.fixture(scope="module")
def server(secret_file):
    bomb = gzip_bomb()
    documents: dict[str, bytes] = {}

    async def handler(request: web.Request):
        path = request.path
        if path in documents:
            return web.Response(body=documents[path], content_type="application/rss+xml")
        if path in ("/huge", "/huge-declared"):
            response = web.StreamResponse(headers={"Content-Type": "application/rss+xml"})
            if path == "/huge-declared":
                response.content_length = GIB
            await response.prepare(request)
            block = b"<rss>" + b"x" * (MIB - 5)
            for _ in range(GIB // MIB):
                await response.write(block)
            return response
        if path == "/gzip-bomb":
            return web.Response(body=bomb, headers={"Content-Encoding": "gzip", "Content-Type": "application/rss+xml"})
        if path == "/drip":
            response = web.StreamResponse(headers={"Content-Type": "application/rss+xml"})
            await response.prepare(request)
            for byte in b'<rss version="2.0"><channel><title>drip</title></channel></rss>':
                await response.write(bytes([byte]))
                await asyncio.sleep(1)
            return response
        return web.Response(status=404, text="nothing here")

    with LoopbackServer(handler) as srv:
        documents.update(
            {
                "/billion-laughs": hostile.billion_laughs(),
                "/billion-laughs-one-line": hostile.billion_laughs_one_line(),
                "/quadratic-blowup": hostile.quadratic_blowup(),
                "/xxe-file": hostile.xxe(f"file://{secret_file}"),
                "/xxe-passwd": hostile.xxe("file:///etc/passwd"),
                "/xxe-url": hostile.xxe(srv.url("/stolen")),
                "/xxe-parameter": hostile.xxe_parameter(srv.url("/stolen-dtd")),
            }
        )
        yield srv


def run_case(server, path: str, data_dir, timeout_s: float = 20.0, control: str = "") -> dict:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "tests.support.hostile_child",
            server.url(path),
            str(data_dir),
            f"127.0.0.1:{server.port}",
            str(timeout_s),
        ]
        + ([control] if control else []),
        cwd=PROJECT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    # Shown with ``pytest -s``: the figures the closing note quotes.
    print(
        f"\n{path}: {report['outcome']}, fetch {report['fetch_s']:.2f} s, parse {report['parse_s']:.3f} s, "
        f"+{report['extra_rss_mb']:.1f} MB peak RSS, files opened outside: {len(report['opened'])}"
    )
    return report


@pytest.mark.parametrize(
    "path",
    [
        "/billion-laughs",
        "/billion-laughs-one-line",
        "/quadratic-blowup",
        "/xxe-file",
        "/xxe-passwd",
        "/xxe-url",
        "/xxe-parameter",
    ],
)
def test_entity_attacks_are_parsed_quickly_in_little_memory_and_expand_nothing(server, path, tmp_path):
    report = run_case(server, path, tmp_path)
    assert report["outcome"] == "ok"
    assert report["parse_s"] < 1.0, report
    assert report["extra_rss_mb"] < 50, report
    assert report["opened"] == [], report
    texts = " ".join(a["summary"] + a["text"] for a in report["articles"])
    assert SECRET not in texts and "root:" not in texts and "lollol" not in texts and "aaaaaaaa" not in texts
    assert [a["title"] for a in report["articles"]] == ["Item"], "the item itself still comes through"
    assert not [r for r in server.requests if r.startswith("/stolen")], "no external entity was fetched"


@pytest.mark.parametrize("path", ["/huge", "/huge-declared", "/gzip-bomb"])
def test_oversized_bodies_are_aborted_at_the_cap(server, path, tmp_path):
    report = run_case(server, path, tmp_path)
    assert report["outcome"] == "too_large", report
    assert report["body_bytes"] == 0 and report["parse_s"] == 0
    assert report["fetch_s"] < 10, report
    assert report["extra_rss_mb"] < 50, report
    assert report["opened"] == [], report


def test_a_byte_per_second_response_is_cut_at_the_total_deadline(server, tmp_path):
    report = run_case(server, "/drip", tmp_path, timeout_s=3.0)
    assert report["outcome"] == "timeout", report
    assert 2.9 <= report["fetch_s"] < 5, report
    assert report["opened"] == [], report


def test_the_audit_hook_does_report_a_file_opened_outside_the_data_directory(server, secret_file, tmp_path):
    """The positive control for every ``opened == []`` above."""
    report = run_case(server, "/billion-laughs", tmp_path, control=str(secret_file))
    assert report["opened"] == [str(secret_file)]
