"""Issue 3 point 2 in a real headless Chromium: the web page uploads with a progress bar and
resumes after a reload.

`airlock serve` runs as a subprocess (fresh SQLite database, demo program, 1 MiB upload
chunks); Playwright drives Debian's /usr/bin/chromium. The firm admin opens a draft
submission and uploads a generated ~5 MB file: the progress bar reaches 100% and the file is
in the manifest with the SHA-256 hashlib computes. A second file's chunk requests are cut
off after two chunks (a lost connection); the page is reloaded, the same file is selected
again, the page says it resumes, the server receives no chunk twice, and the stored file
downloads back bit-identical. The page's pure-JS incremental SHA-256 is checked against
FIPS 180 vectors and hashlib. Screenshots are left in the test's tmp folder.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import random
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.timeout(240)]

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
PASSWORD = "airlock-demo-2026"
FIRM_ADMIN = "admin@northwind.example"
OTHER_FIRM_ADMIN = "admin@helios.example"  # agreed to architecture and safeguards only
DRAFT = "Atlas-70B rc3 (draft)"
RETURNED = "Orion-8x22B preview"
MIB = 1024 * 1024
CHUNK = 1 * MIB
CHUNK_PUT = re.compile(r"/api/v1/uploads/([^/]+)/chunks/(\d+)$")


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
def server(tmp_path: Path) -> Iterator[Server]:
    data = tmp_path / "data"
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRLOCK_")}
    env.update(
        AIRLOCK_DEV="1",
        AIRLOCK_DATA_DIR=str(data),
        AIRLOCK_COOKIE_SECURE="false",
        AIRLOCK_QUEUE_URL="inprocess://",
        AIRLOCK_UPLOAD_CHUNK_BYTES=str(CHUNK),
        PYTHONUNBUFFERED="1",
    )
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


@dataclass
class ChunkGate:
    """Sits between the page and the server on chunk PUTs: passes, holds or cuts them off."""

    mode: str = "pass"  # "pass", "hold" (keep chunk hold_index back), "cut" (after cut_after)
    hold_index: int = 3
    cut_after: int = 0
    passed: list[tuple[str, int]] = field(default_factory=list)  # what reached the server
    cut: list[tuple[str, int]] = field(default_factory=list)
    held: list[Any] = field(default_factory=list)

    def handle(self, route: Any) -> None:
        request = route.request
        m = CHUNK_PUT.search(request.url)
        if request.method != "PUT" or m is None:
            route.continue_()
            return
        key = (m.group(1), int(m.group(2)))
        if self.mode == "hold" and key[1] == self.hold_index and not self.held:
            self.held.append((route, key))
            return
        if self.mode == "cut" and len(self.passed) >= self.cut_after:
            self.cut.append(key)
            route.abort("connectionreset")
            return
        self.passed.append(key)
        route.continue_()

    def release(self) -> None:
        for route, key in self.held:
            self.passed.append(key)
            route.continue_()
        self.held.clear()


# FIPS 180-2 / NIST examples, and the empty message.
SHA_VECTORS = {
    "": "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "abc": "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
    "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq": (
        "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"
    ),
}
SHA_MILLION_A = "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"

JS_VECTORS = """(vectors) => {
  const Sha256 = window.AirlockUpload.Sha256;
  const enc = new TextEncoder();
  const out = {};
  for (const text of vectors) out[text] = new Sha256().update(enc.encode(text)).hex();
  const a = new Sha256();
  const block = enc.encode("a".repeat(1000));
  for (let i = 0; i < 1000; i++) a.update(block);
  out["million a"] = a.hex();
  return out;
}"""

# The same generated bytes hashed at once and in pieces of awkward sizes across block edges.
JS_PIECES = """(n) => {
  const Sha256 = window.AirlockUpload.Sha256;
  const data = new Uint8Array(n);
  for (let i = 0; i < n; i++) data[i] = (i * 31 + (i >> 8)) & 255;
  const sizes = [1, 63, 64, 65, 0, 127, 55, 56, 57, 4096, 100003];
  const inc = new Sha256();
  let off = 0, k = 0;
  while (off < n) { const end = Math.min(n, off + sizes[k++ % sizes.length]);
                    inc.update(data.subarray(off, end)); off = end; }
  return [new Sha256().update(data).hex(), inc.hex()];
}"""

JS_SPEED = """(mib) => {
  const data = new Uint8Array(mib * 1048576);
  for (let i = 0; i < data.length; i += 4096) data[i] = i & 255;
  const t = performance.now();
  new window.AirlockUpload.Sha256().update(data).hex();
  return (performance.now() - t) / 1000;
}"""


def _pattern(n: int) -> bytes:
    return bytes((i * 31 + (i >> 8)) & 255 for i in range(n))


def test_upload_with_progress_then_resume_after_reload(
    server: Server, browser: Any, tmp_path: Path
) -> None:
    from playwright.sync_api import expect

    shots = tmp_path / "screenshots"
    shots.mkdir()
    rng = random.Random(20261127)
    first = tmp_path / "model-00001-of-00002.safetensors"
    first.write_bytes(rng.randbytes(5 * MIB + 12_345))  # 6 chunks, the last one short
    second = tmp_path / "model-00002-of-00002.safetensors"
    second.write_bytes(rng.randbytes(4 * MIB + MIB // 2))  # 5 chunks
    first_sha = hashlib.sha256(first.read_bytes()).hexdigest()
    second_sha = hashlib.sha256(second.read_bytes()).hexdigest()
    timings: dict[str, float] = {}

    context = browser.new_context(base_url=server.base, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(20_000)
    page = context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda exc: problems.append(f"page error: {exc}"))
    refused: list[str] = []  # 4xx answers: only the one provoked below is expected
    page.on(
        "response",
        lambda r: (
            (problems if r.status >= 500 else refused).append(f"{r.status} {r.url}")
            if r.status >= 400
            else None
        ),
    )
    gate = ChunkGate()
    page.route("**/api/v1/uploads/*/chunks/*", gate.handle)

    def shot(name: str) -> None:
        page.screenshot(path=str(shots / f"{name}.png"), full_page=True)

    def panel_shot(name: str) -> None:
        page.locator("#artifacts").screenshot(path=str(shots / f"{name}.png"))

    def sign_in(email: str) -> None:
        page.goto("/login")
        page.fill("input[name=email]", email)
        page.fill("input[name=password]", PASSWORD)
        page.click("form[action='/login'] button[type=submit]")
        expect(page.locator("header.top nav")).to_contain_text(email)

    def row_of(path: Path) -> Any:
        return page.locator(f"#upload-list .upload[data-name='{path.name}']").last

    try:
        sign_in(FIRM_ADMIN)
        page.goto("/portal")
        page.locator("#submissions a", has_text=DRAFT).click()
        expect(page.locator("#submission-state")).to_have_text("draft")
        submission_id = page.url.rstrip("/").rsplit("/", 1)[-1]
        panel = page.locator("#artifacts")
        expect(panel.locator("#manifest tr.empty")).to_be_visible()
        kinds = panel.locator("#artifact-kind option").evaluate_all(
            "opts => opts.map(o => o.value).filter(Boolean)"
        )
        assert kinds == [
            "weights",
            "config",
            "tokenizer",
            "dataset_sample",
            "manifest",
            "eval_report",
            "other",
        ]

        # --- the page's SHA-256 against known vectors and hashlib --------------------------
        got = page.evaluate(JS_VECTORS, list(SHA_VECTORS))
        assert {k: got[k] for k in SHA_VECTORS} == SHA_VECTORS
        assert got["million a"] == SHA_MILLION_A
        n = 1_000_003
        whole, pieces = page.evaluate(JS_PIECES, n)
        assert whole == pieces == hashlib.sha256(_pattern(n)).hexdigest()
        seconds = page.evaluate(JS_SPEED, 64)
        timings["pure-JS SHA-256 MB/s (64 MiB, informative)"] = 64 * MIB / 1e6 / seconds

        # --- a ~5 MB file in six chunks: progress to 100%, then in the manifest ------------
        gate.mode = "hold"  # keep one chunk back to see the panel mid-upload
        started = time.monotonic()
        page.set_input_files("#artifact-files", str(first))
        page.select_option("#artifact-kind", "weights")
        page.click("#upload-start")
        row = row_of(first)
        expect(row.locator(".upload-state")).to_have_text("uploading")
        deadline = time.monotonic() + 20
        while not gate.held and time.monotonic() < deadline:
            page.wait_for_timeout(20)
        assert gate.held, "chunk 3 never left the page"
        panel_shot("01-mid-upload")
        shot("01-mid-upload-page")
        gate.mode = "pass"
        gate.release()
        expect(row.locator(".upload-state")).to_have_text("stored", timeout=60_000)
        timings["first file (5 MB, 6 chunks) hash+upload+complete"] = time.monotonic() - started
        bar = row.locator("progress")
        assert bar.evaluate("p => [p.value, p.max]") == [first.stat().st_size] * 2
        expect(row.locator(".upload-bytes")).to_contain_text("(100%)")
        assert row.get_attribute("data-sha256") == first_sha  # the page's hash of the file
        assert row.get_attribute("data-hash-source") == "computed"
        line = panel.locator(f"#manifest tr.artifact[data-name='{first.name}']")
        expect(line.locator("code.sha256")).to_have_text(first_sha)
        expect(line).to_contain_text("weights")
        expect(line).to_contain_text("UTC")
        ups_first = {u for u, _ in gate.passed}
        assert len(ups_first) == 1
        assert sorted(i for _, i in gate.passed) == list(range(6))
        expect(panel.locator("#manifest-total")).to_contain_text("1 file, 5.3 MB stored")
        panel_shot("02-first-stored")

        # --- the second file loses its connection after two chunks --------------------------
        gate.passed.clear()
        gate.mode, gate.cut_after = "cut", 2
        started = time.monotonic()
        page.set_input_files("#artifact-files", str(second))
        page.select_option("#artifact-kind", "weights")
        page.click("#upload-start")
        row = row_of(second)
        expect(row.locator(".upload-state")).to_contain_text("connection lost")
        percent = int(row.get_attribute("data-percent") or "-1")
        assert 0 < percent < 100, percent
        panel_shot("03-connection-lost")
        assert [i for _, i in gate.passed] == [0, 1]
        assert gate.cut and {i for _, i in gate.cut} == {2}

        # --- reload: the page lists the unfinished upload; the same file resumes -------------
        page.reload()
        gate.mode = "pass"
        pending = page.locator("#pending-uploads")
        expect(pending).to_contain_text(second.name)
        expect(pending).to_contain_text("44% received")  # 2 of 4.5 MiB
        expect(panel.locator(f"#manifest tr.artifact[data-name='{first.name}']")).to_be_visible()
        panel_shot("04-after-reload")
        page.set_input_files("#artifact-files", str(second))
        page.select_option("#artifact-kind", "weights")
        page.click("#upload-start")
        row = row_of(second)
        expect(row.locator(".upload-note")).to_contain_text("resuming from 44%")
        assert row.get_attribute("data-resumed-from") == str(2 * CHUNK)
        assert row.get_attribute("data-hash-source") == "remembered"  # not read twice
        expect(row.locator(".upload-state")).to_have_text("stored", timeout=60_000)
        timings["second file (4.5 MB) cut, reload, resume, complete"] = time.monotonic() - started
        expect(row.locator(".upload-bytes")).to_contain_text("(100%)")
        assert row.get_attribute("data-sha256") == second_sha
        expect(panel.locator("#pending-uploads")).to_have_count(0)  # nothing left unfinished
        expect(panel.locator("#manifest-total")).to_contain_text("2 files, 10.0 MB stored")
        panel_shot("05-second-stored")
        # the server got every chunk of the second file exactly once, in one session
        ups_second = {u for u, _ in gate.passed}
        assert len(ups_second) == 1 and ups_second != ups_first
        assert [i for _, i in gate.passed] == [0, 1, 2, 3, 4]

        # --- what the server stored -------------------------------------------------------
        resp = context.request.get(f"/api/v1/submissions/{submission_id}/artifacts")
        assert resp.ok, resp.text()
        manifest = {a["name"]: a for a in resp.json()["artifacts"]}
        assert {k: (v["sha256"], v["size"]) for k, v in manifest.items()} == {
            first.name: (first_sha, first.stat().st_size),
            second.name: (second_sha, second.stat().st_size),
        }
        body = context.request.get(f"/api/v1/artifacts/{manifest[second.name]['id']}/content")
        assert body.ok and body.body() == second.read_bytes()
        page.reload()
        for path, digest in ((first, first_sha), (second, second_sha)):
            line = panel.locator(f"#manifest tr.artifact[data-name='{path.name}']")
            expect(line.locator("code.sha256")).to_have_text(digest)
        expect(panel.locator("#pending-uploads")).to_have_count(0)
        expect(panel.locator("#manifest-total")).to_contain_text("2 files")
        shot("06-manifest")

        # --- another firm, without the weights scope, is not offered weights ----------------
        page.click("header.top button:has-text('Sign out')")
        sign_in(OTHER_FIRM_ADMIN)
        page.goto("/portal")
        page.locator("#submissions a", has_text=RETURNED).click()
        other_kinds = page.locator("#artifact-kind option").evaluate_all(
            "opts => opts.map(o => o.value).filter(Boolean)"
        )
        assert "weights" not in other_kinds and "dataset_sample" not in other_kinds
        assert "config" in other_kinds
        # a weights file with the kind guessed from its name is refused with the reason
        refused.clear()
        small = tmp_path / "adapter.safetensors"
        small.write_bytes(b"\0" * 1000)
        page.set_input_files("#artifact-files", str(small))
        page.click("#upload-start")
        row = row_of(small)
        expect(row.locator(".upload-state")).to_have_text("stopped")
        expect(row.locator(".upload-kind")).to_have_text("weights")
        expect(row.locator(".upload-note")).to_contain_text("needs the weights scope")
        assert len(refused) == 1 and refused[0].startswith("422 ") and "/uploads" in refused[0]
        refused.clear()
        panel_shot("07-refused-kind")
    except Exception as exc:
        with contextlib.suppress(Exception):
            shot("failure")
        raise AssertionError(
            f"upload page failed at {page.url}: {exc}\nscreenshots in {shots}\n"
            f"server log:\n{server.tail()}"
        ) from exc
    finally:
        context.close()
    assert problems == [], problems
    assert refused == [], refused
    print("timings:", {k: round(v, 2) for k, v in timings.items()})
    keep = os.environ.get("AIRLOCK_E2E_SCREENSHOTS")
    if keep:
        shutil.copytree(shots, keep, dirs_exist_ok=True)
