"""Issue 16 point 3 in headless Chromium: a file of a few hundred megabytes is hashed by the
WebAssembly SHA-256 in the page's Web Worker while its chunks go out several at once; the page
is reloaded mid-way, the same file is selected again, and the upload resumes with the chunks
the server lacks. The digest the page computed, the one the server stored and Python's agree,
and every chunk reached the server exactly once.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import time
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import Server

pytestmark = [pytest.mark.browser, pytest.mark.timeout(420)]

PASSWORD = "airlock-demo-2026"
FIRM_ADMIN = "admin@northwind.example"
DRAFT = "Atlas-70B rc3 (draft)"
MIB = 1024 * 1024
CHUNK = 8 * MIB
SIZE = 256 * MIB + 12_345  # 33 chunks, the last one short
HOLD_FROM = 12  # chunks from here on are held back until the reload
CHUNK_PUT = re.compile(r"/api/v1/uploads/([^/]+)/chunks/(\d+)$")


@pytest.fixture
def server_env() -> dict[str, str]:
    return {"AIRLOCK_UPLOAD_CHUNK_BYTES": str(CHUNK)}


def _random_file(path: Path, size: int) -> str:
    h = hashlib.sha256()
    with path.open("wb") as f:
        left = size
        while left:
            block = os.urandom(min(16 * MIB, left))
            h.update(block)
            f.write(block)
            left -= len(block)
    return h.hexdigest()


def test_worker_hashes_a_large_file_while_sending_and_resumes_after_reload(
    server: Server, browser: Any, tmp_path: Path
) -> None:
    from playwright.sync_api import expect

    big = tmp_path / "model-large.safetensors"
    digest = _random_file(big, SIZE)
    total_chunks = -(-SIZE // CHUNK)
    passed: list[tuple[str, int]] = []
    held: list[int] = []
    hold = {"on": True}

    def gate(route: Any) -> None:
        m = CHUNK_PUT.search(route.request.url)
        if route.request.method != "PUT" or m is None:
            route.continue_()
            return
        index = int(m.group(2))
        if hold["on"] and index >= HOLD_FROM:
            held.append(index)  # never answered: the reload abandons it
            return
        passed.append((m.group(1), index))
        route.continue_()

    context = browser.new_context(base_url=server.base, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(30_000)
    page = context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda exc: problems.append(f"page error: {exc}"))
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.route("**/api/v1/uploads/*/chunks/*", gate)
    row = page.locator(f"#upload-list .upload[data-name='{big.name}']").last
    try:
        page.goto("/login")
        page.fill("input[name=email]", FIRM_ADMIN)
        page.fill("input[name=password]", PASSWORD)
        page.click("form[action='/login'] button[type=submit]")
        page.goto("/portal")
        page.locator("#submissions a", has_text=DRAFT).click()
        expect(page.locator("#submission-state")).to_have_attribute("data-state", "draft")
        page.click("#tab-artifacts")  # the uploader lives on the submission's Artifacts tab
        page.wait_for_function("() => window.AirlockUpload !== undefined")

        page.set_input_files("#artifact-files", str(big))
        page.select_option("#artifact-kind", "weights")
        page.click("#upload-start")
        expect(row.locator(".upload-state")).to_have_text("uploading")
        assert row.get_attribute("data-in-flight") == "4"
        deadline = time.monotonic() + 120
        while (len(passed) < HOLD_FROM or not held) and time.monotonic() < deadline:
            page.wait_for_timeout(50)
        assert sorted(i for _, i in passed) == list(range(HOLD_FROM)), passed
        assert len(set(held)) >= 1  # several chunks were in flight when the reload came
        # The worker hashed while the chunks went out (all slices are queued to it at once).
        page.wait_for_function(
            "r => Number(r.getAttribute('data-hashed')) > 0", arg=row.element_handle()
        )
        expect(row.locator(".upload-speed")).to_contain_text("/s")

        # --- reload mid-way, select the same file: it resumes from chunk HOLD_FROM ----------
        upload_id = row.get_attribute("data-upload-id")
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:  # every chunk let through is recorded
            status = context.request.get(f"/api/v1/uploads/{upload_id}").json()
            if status["chunks_received"] == HOLD_FROM:
                break
            page.wait_for_timeout(100)
        assert status["missing"] == [[HOLD_FROM, total_chunks]], status
        hold["on"] = False
        page.reload()
        page.wait_for_function("() => window.AirlockUpload !== undefined")
        expect(page.locator("#pending-uploads")).to_contain_text(big.name)
        page.set_input_files("#artifact-files", str(big))
        page.select_option("#artifact-kind", "weights")
        page.click("#upload-start")
        expect(row.locator(".upload-note")).to_contain_text("resuming from")
        assert row.get_attribute("data-resumed-from") == str(HOLD_FROM * CHUNK)
        expect(row.locator(".upload-state")).to_have_text("stored", timeout=300_000)
        assert row.get_attribute("data-hasher") == "wasm-worker"
        assert row.get_attribute("data-sha256") == digest
        expect(row.locator(".upload-bytes")).to_contain_text("(100%)")

        # every chunk reached the server exactly once, all in one upload session
        assert sorted(i for _, i in passed) == list(range(total_chunks))
        assert len({u for u, _ in passed}) == 1
        resp = context.request.get(f"/api/v1/uploads/{passed[0][0]}")
        assert resp.ok and resp.json()["state"] == "completed"
        art_id = resp.json()["artifact_id"]
        art = context.request.get(f"/api/v1/artifacts/{art_id}").json()
        assert (art["sha256"], art["size"]) == (digest, SIZE)
    except Exception as exc:
        with contextlib.suppress(Exception):
            page.screenshot(path=str(tmp_path / "failure.png"), full_page=True)
        log = "\n".join(x for x in server.tail().splitlines() if "/static/" not in x)
        raise AssertionError(f"{exc}\nproblems: {problems}\nserver log:\n{log}") from exc
    finally:
        context.close()
        big.unlink(missing_ok=True)
    assert [p for p in problems if "Failed to load resource" not in p] == [], problems
