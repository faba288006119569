"""Issue 16 point 4: outside development a configuration that cannot work stops the start.

`airlock serve` without a master key exits at once naming AIRLOCK_MASTER_KEY and never listens;
`airlock worker` with a broker nobody answers on names AIRLOCK_QUEUE_URL. The checks behind
them (airlock.preflight) name the setting for a malformed key, a data folder that cannot be
written and a storage URL that does not answer; development skips them.
"""

from __future__ import annotations

import base64
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from airlock import preflight
from airlock.settings import Settings, SettingsError

AIRLOCK = Path(sys.executable).parent / "airlock"
SECRET = "s" * 40


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRLOCK_")}
    env.update(AIRLOCK_DATA_DIR=str(tmp_path / "data"), AIRLOCK_SECRET_KEY=SECRET, **extra)
    return env


def _good_key() -> str:
    return base64.b64encode(os.urandom(32)).decode()


def test_serve_without_a_master_key_outside_development_refuses_naming_it(tmp_path: Path) -> None:
    port = _closed_port()
    done = subprocess.run(
        [str(AIRLOCK), "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2, done.stdout + done.stderr
    assert "cannot start" in done.stderr and "AIRLOCK_MASTER_KEY is missing" in done.stderr
    with socket.socket() as s:  # it never listened
        assert s.connect_ex(("127.0.0.1", port)) != 0


def test_worker_with_an_unreachable_broker_refuses_naming_the_setting(tmp_path: Path) -> None:
    url = f"redis://127.0.0.1:{_closed_port()}/0"
    done = subprocess.run(
        [str(AIRLOCK), "worker"],
        env=_env(tmp_path, AIRLOCK_MASTER_KEY=_good_key(), AIRLOCK_QUEUE_URL=url),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2, done.stdout + done.stderr
    assert "AIRLOCK_QUEUE_URL" in done.stderr
    assert url not in done.stderr.replace("\n", "")  # the setting is named, not echoed


def _settings(tmp_path: Path, **kw: object) -> Settings:
    values: dict[str, object] = {
        "dev": False,
        "data_dir": tmp_path / "data",
        "secret_key": SECRET,
        "master_key": _good_key(),
    }
    values.update(kw)
    return Settings(**values)  # type: ignore[arg-type]


def test_a_workable_configuration_passes(tmp_path: Path) -> None:
    preflight.check(_settings(tmp_path))
    assert not list((tmp_path / "data" / "blobs").rglob("*.tmp*"))


def test_a_malformed_master_key_is_named(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="AIRLOCK_MASTER_KEY is not valid base64"):
        preflight.check(_settings(tmp_path, master_key="not base64!"))
    short = base64.b64encode(b"x" * 16).decode()
    with pytest.raises(SettingsError, match="AIRLOCK_MASTER_KEY must decode to 32 bytes"):
        preflight.check(_settings(tmp_path, master_key=short))


def test_an_unwritable_data_folder_is_named(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    with pytest.raises(SettingsError, match=r"AIRLOCK_DATA_DIR .* is not a writable folder"):
        preflight.check(_settings(tmp_path, data_dir=blocker / "data"))


def test_storage_that_does_not_answer_is_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("boto3")
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(name, "testing")
    url = f"s3://bucket/prefix?endpoint_url=http://127.0.0.1:{_closed_port()}"
    settings = _settings(tmp_path, storage_url=url)
    with pytest.raises(SettingsError, match="AIRLOCK_STORAGE_URL"):
        preflight.check_storage(settings, seconds=30)
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(SettingsError, match="AIRLOCK_STORAGE_URL"):
        preflight.check_storage(_settings(tmp_path, storage_url=f"file://{blocker}/blobs"))


def test_development_skips_the_checks(tmp_path: Path) -> None:
    preflight.check(_settings(tmp_path, dev=True, master_key=""))
