"""Start-up checks: refuse a configuration that cannot work before serving anything.

Outside development, `airlock serve` and `airlock worker` call `check(settings)` first. A
missing or malformed master key, a data folder that cannot be written, a storage or queue URL
that does not answer, or an unusable key store stops the process with a message naming the
setting (never its value), instead of pages that work and an upload that fails with a 500.
"""

from __future__ import annotations

import os
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Final, TypeVar

from airlock.settings import Settings, SettingsError

PROBE_SECONDS: Final = 15.0
T = TypeVar("T")


def _within(seconds: float, what: str, probe: Callable[[], T]) -> T:
    """Run probe on a helper thread; SettingsError naming `what` if it fails or hangs."""
    box: dict[str, object] = {}

    def run() -> None:
        try:
            box["ok"] = probe()
        except BaseException as exc:  # reported below, with the setting's name
            box["error"] = exc

    thread = threading.Thread(target=run, name="airlock-preflight", daemon=True)
    thread.start()
    thread.join(seconds)
    if thread.is_alive():
        raise SettingsError(f"{what} did not answer within {seconds:g} s")
    error = box.get("error")
    if isinstance(error, SettingsError):
        raise error
    if error is not None:
        raise SettingsError(f"{what} cannot be used: {type(error).__name__}: {error}")
    return box["ok"]  # type: ignore[return-value]


def check_data_dir(settings: Settings) -> None:
    """AIRLOCK_DATA_DIR exists or can be made, and a file can be written in it."""
    folder = settings.data_dir
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(prefix=".airlock-preflight-", dir=folder)
        os.close(fd)
        Path(name).unlink()
    except OSError as exc:
        raise SettingsError(
            f"AIRLOCK_DATA_DIR {str(folder)!r} is not a writable folder ({exc.strerror or exc})"
        ) from None


def check_master_key(settings: Settings) -> None:
    """AIRLOCK_MASTER_KEY is set and is 32 bytes of base64."""
    from airlock.vault.keys import load_master_key

    load_master_key(settings)


def check_storage(settings: Settings, *, seconds: float = PROBE_SECONDS) -> None:
    """AIRLOCK_STORAGE_URL names a store that takes, shows and deletes an object."""
    from airlock.adapters.storage import blob_store_from_url
    from airlock.core.db import new_id

    def probe() -> None:
        store = blob_store_from_url(settings.resolved_storage_url())
        key = f"preflight/{new_id()}"
        store.put(key, [b"airlock start-up check"])
        if not store.exists(key):
            raise OSError("an object written was not found again")
        store.delete(key)

    _within(seconds, "AIRLOCK_STORAGE_URL", probe)


def check_queue(settings: Settings, *, seconds: float = PROBE_SECONDS) -> None:
    """AIRLOCK_QUEUE_URL is in-process, or a broker that accepts a connection."""
    url = settings.queue_url
    if url.startswith("inprocess://"):
        return

    def probe() -> None:
        from kombu.connection import Connection

        from airlock.adapters.queue_celery import broker_url

        try:
            target = broker_url(url)
        except ValueError as exc:
            raise SettingsError(str(exc)) from None
        conn = Connection(target, connect_timeout=min(seconds, 5.0))  # type: ignore[no-untyped-call]
        with conn:
            conn.ensure_connection(max_retries=1, interval_start=0.2, timeout=seconds)  # type: ignore[no-untyped-call]

    _within(seconds, "AIRLOCK_QUEUE_URL", probe)


def check_key_store(settings: Settings) -> None:
    """AIRLOCK_KEYSTORE_URL can be opened."""
    from airlock.adapters.keystore import key_store_from_url
    from airlock.core.ports import KeyStoreError

    try:
        key_store_from_url(settings.resolved_keystore_url())
    except KeyStoreError as exc:
        raise SettingsError(str(exc)) from None


def check(settings: Settings) -> None:
    """Every start-up check outside development (development generates what it lacks)."""
    settings.effective_secret_key()
    if settings.dev:
        return
    check_master_key(settings)
    check_data_dir(settings)
    check_key_store(settings)
    check_storage(settings)
    check_queue(settings)
