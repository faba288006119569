"""`airlock submit` (resume, skip stored files), `airlock keys rotate` and `airlock vault gc`."""

from __future__ import annotations

import hashlib
import json
import os
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from airlock.cli.main import app
from airlock.cli.vault import submit_folder
from airlock.settings import get_settings
from airlock.vault import keys as vault_keys
from tests.factories.accounts import auth
from tests.factories.program import make_program
from tests.factories.vault import declare, send

MiB = 1024 * 1024


def model_folder(root: Path) -> dict[str, bytes]:
    files = {
        "config.json": json.dumps({"model_type": "llama", "hidden_size": 64}).encode(),
        "model-00001-of-00002.safetensors": os.urandom(300_000),
        "model-00002-of-00002.safetensors": os.urandom(150_001),
        "tokenizer.json": b'{"version": "1.0"}',
        "tokenizer/special_tokens_map.json": b"{}",
        ".cache/ignored.lock": b"x",
    }
    for name, data in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(data)
    files.pop(".cache/ignored.lock")
    return files


def test_submit_uploads_a_model_folder_resumes_and_skips_stored_files(client, container, tmp_path):
    prog = make_program(container)
    sid = prog.ids["sub_a"]
    headers = auth(container, prog.actors["firm_a_admin"])
    files = model_folder(tmp_path / "model")
    # An earlier run was interrupted after the first chunk of one shard.
    shard = files["model-00001-of-00002.safetensors"]
    up = declare(client, headers, sid, shard, name="model-00001-of-00002.safetensors").json()
    assert send(client, headers, up["id"], shard, 0).status_code == 200

    client.headers.update(headers)
    report = submit_folder(client, tmp_path / "model", sid)
    assert report.failed == {}
    assert sorted(report.uploaded) == sorted(files)
    assert report.resumed == {"model-00001-of-00002.safetensors": 1}
    manifest = client.get(f"/api/v1/submissions/{sid}/artifacts").json()["artifacts"]
    assert {a["name"]: a["sha256"] for a in manifest} == {
        n: hashlib.sha256(d).hexdigest() for n, d in files.items()
    }
    kinds = {a["name"]: a["kind"] for a in manifest}
    assert kinds["config.json"] == "config" and kinds["tokenizer.json"] == "tokenizer"
    assert kinds["model-00002-of-00002.safetensors"] == "weights"

    again = submit_folder(client, tmp_path / "model", sid)
    assert again.uploaded == [] and sorted(again.skipped) == sorted(files)


@pytest.fixture
def cli_env(settings, storage_url, monkeypatch):
    monkeypatch.setenv("AIRLOCK_DEV", "1")
    monkeypatch.setenv("AIRLOCK_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("AIRLOCK_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("AIRLOCK_STORAGE_URL", storage_url)
    monkeypatch.delenv("AIRLOCK_MASTER_KEY", raising=False)
    get_settings.cache_clear()
    vault_keys._CACHE.clear()
    yield
    get_settings.cache_clear()
    vault_keys._CACHE.clear()


def test_keys_rotate_replaces_the_dev_key_and_downloads_still_work(client, container, cli_env):
    prog = make_program(container)
    headers = auth(container, prog.actors["firm_a_admin"])
    data = os.urandom(5000)
    up = declare(client, headers, prog.ids["sub_a"], data, name="w.bin").json()
    assert send(client, headers, up["id"], data, 0).status_code == 200
    art = client.post(f"/api/v1/uploads/{up['id']}/complete", headers=headers).json()
    key_file = container.settings.data_dir / "master.key"
    old = key_file.read_text()

    result = CliRunner().invoke(app, ["keys", "rotate"])
    assert result.exit_code == 0, result.output
    # every firm whose content was sealed has a key (submitting seals confidential fields)
    rewrapped = re.search(r"rewrapped (\d+) organisation key\(s\)", result.output)
    assert rewrapped and int(rewrapped[1]) >= 1
    assert key_file.read_text() != old and old.strip() not in result.output

    vault_keys._CACHE.clear()  # the server restarts with the new key
    r = client.get(f"/api/v1/artifacts/{art['id']}/content", headers=headers)
    assert r.status_code == 200 and r.content == data
    key_file.write_text(old)  # the old key opens nothing any more
    vault_keys._CACHE.clear()
    r = client.get(f"/api/v1/artifacts/{art['id']}/content", headers=headers)
    assert r.status_code == 500 and "wrapped under master key" in r.json()["detail"]


def test_vault_gc_reports_what_it_removed(client, container, cli_env):
    container.blob_store.put("artifacts/0123/deadbeef", [b"orphan"])
    result = CliRunner().invoke(app, ["vault", "gc"])
    assert result.exit_code == 0, result.output
    assert "orphaned objects removed: 1" in result.output
    assert "artifacts/0123/deadbeef" in result.output
    assert list(container.blob_store.keys()) == []
