"""Browser test fixtures: a real `airlock serve` on a free loopback port with the demo
program, and Debian's Chromium driven by Playwright (never a downloaded browser)."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
AIRLOCK_BIN = Path(sys.executable).parent / "airlock"
CHROMIUM = Path(os.environ.get("AIRLOCK_TEST_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture
def server_env() -> dict[str, str]:
    """Extra AIRLOCK_* settings for the served app; a test module may override this."""
    return {}


def _ensure_chromium() -> None:
    if CHROMIUM.exists():
        return
    script = ROOT / "scripts" / "ensure-chromium"
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        subprocess.run(["bash", str(script)], timeout=600, check=False)
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is absent and scripts/ensure-chromium could not install it")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    base: str
    proc: subprocess.Popen[bytes]
    log: Path

    def tail(self) -> str:
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return "\n".join(text.splitlines()[-40:])


@pytest.fixture
def server(tmp_path: Path, server_env: dict[str, str]) -> Iterator[Server]:
    data = tmp_path / "data"
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRLOCK_")}
    env.update(
        AIRLOCK_DEV="1",
        AIRLOCK_DATA_DIR=str(data),
        AIRLOCK_COOKIE_SECURE="false",
        AIRLOCK_QUEUE_URL="inprocess://",
        PYTHONUNBUFFERED="1",
    )
    env.update(server_env)
    port = _free_port()
    env["AIRLOCK_BASE_URL"] = f"http://127.0.0.1:{port}"
    for step in (["db", "upgrade"], ["demo", "seed"]):
        done = subprocess.run(
            [str(AIRLOCK_BIN), *step], cwd=tmp_path, env=env, capture_output=True, timeout=120
        )
        assert done.returncode == 0, f"airlock {' '.join(step)} failed:\n{done.stderr.decode()}"
    log = tmp_path / "server.log"
    with log.open("ab") as out:
        proc = subprocess.Popen(
            [str(AIRLOCK_BIN), "serve", "--host", "127.0.0.1", "--port", str(port)],
            cwd=tmp_path,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    srv = Server(f"http://127.0.0.1:{port}", proc, log)
    try:
        deadline = time.monotonic() + 30
        while True:
            if proc.poll() is not None:
                raise AssertionError(f"the server exited with {proc.returncode}:\n{srv.tail()}")
            try:
                with urllib.request.urlopen(f"{srv.base}/login", timeout=2) as resp:
                    if resp.status == 200:
                        break
            except (urllib.error.URLError, OSError):
                pass
            if time.monotonic() > deadline:
                raise AssertionError(f"the server did not answer within 30 s:\n{srv.tail()}")
            time.sleep(0.2)
        yield srv
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, 15)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, 9)
            proc.wait(timeout=10)


@pytest.fixture
def browser() -> Iterator[Any]:
    _ensure_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()
