"""The same blob store behaviour on the local folder and on an S3-compatible server."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from airlock.adapters.storage import blob_store_from_url
from airlock.adapters.storage_local import LocalBlobStore
from airlock.adapters.storage_s3 import S3BlobStore
from airlock.core.errors import NotFound
from airlock.core.ports import BlobStore
from airlock.settings import SettingsError
from airlock.vault.crypto import StreamEncryptor, decrypt_stream, new_key

MiB = 1024 * 1024


def test_put_then_open_returns_the_same_bytes(store: BlobStore) -> None:
    data = os.urandom(3 * MiB + 123)
    written = store.put(
        "artifacts/a1", (data[i : i + 100_000] for i in range(0, len(data), 100_000))
    )
    assert written == len(data)
    assert store.exists("artifacts/a1")
    assert b"".join(store.open("artifacts/a1")) == data


def test_empty_object(store: BlobStore) -> None:
    assert store.put("empty", []) == 0
    assert store.exists("empty")
    assert b"".join(store.open("empty")) == b""


def test_multipart_sized_object_round_trips(store: BlobStore) -> None:
    data = os.urandom(12 * MiB + 7)  # over one 8 MiB S3 part
    store.put("big/object", [data[i : i + MiB] for i in range(0, len(data), MiB)])
    assert b"".join(store.open("big/object")) == data


def test_put_replaces_an_existing_object(store: BlobStore) -> None:
    store.put("k", [b"old"])
    store.put("k", [b"new"])
    assert b"".join(store.open("k")) == b"new"


def test_failed_put_leaves_nothing_visible(store: BlobStore) -> None:
    def broken() -> Iterator[bytes]:
        for _ in range(10):
            yield os.urandom(MiB)
        raise OSError("client went away")

    with pytest.raises(OSError, match="client went away"):
        store.put("half/written", broken())
    assert not store.exists("half/written")
    assert list(store.keys()) == []
    if isinstance(store, S3BlobStore):  # the multipart upload was aborted, not left open
        assert store.client.list_multipart_uploads(Bucket=store.bucket).get("Uploads", []) == []
    else:
        assert [p.name for p in store.root.rglob("*") if p.is_file()] == []


def test_failed_put_keeps_the_previous_version(store: BlobStore) -> None:
    store.put("k", [b"v1"])

    def broken() -> Iterator[bytes]:
        yield os.urandom(9 * MiB)
        raise OSError("boom")

    with pytest.raises(OSError):
        store.put("k", broken())
    assert b"".join(store.open("k")) == b"v1"


def test_open_missing_raises_not_found(store: BlobStore) -> None:
    with pytest.raises(NotFound, match="no stored object 'nope'"):
        store.open("nope")


def test_delete_is_idempotent(store: BlobStore) -> None:
    store.put("x/y", [b"1"])
    store.delete("x/y")
    store.delete("x/y")
    assert not store.exists("x/y")


def test_keys_lists_by_prefix_in_order(store: BlobStore) -> None:
    for key in ["a/2", "a/1", "ab/1", "b/1"]:
        store.put(key, [b"."])
    assert list(store.keys("a/")) == ["a/1", "a/2"]
    assert list(store.keys("a")) == ["a/1", "a/2", "ab/1"]
    assert list(store.keys()) == ["a/1", "a/2", "ab/1", "b/1"]


@pytest.mark.parametrize("key", ["../escape", "/abs", "a//b", "a/../b", ".hidden", "a\\b", ""])
def test_unsafe_keys_are_refused(store: BlobStore, key: str) -> None:
    with pytest.raises(ValueError, match="blob key"):
        store.put(key, [b"x"])


def test_encrypted_stream_round_trips_through_the_store(store: BlobStore) -> None:
    key = new_key()
    data = os.urandom(5 * MiB + 3)
    enc = StreamEncryptor(key, artifact_id="art")
    store.put("artifacts/art", enc.encrypt([data]))
    assert b"".join(decrypt_stream(key, store.open("artifacts/art"), artifact_id="art")) == data


def test_sweep_incomplete_removes_only_stale_leftovers(store: BlobStore) -> None:
    store.put("kept", [b"1"])
    assert isinstance(store, LocalBlobStore | S3BlobStore)
    if isinstance(store, LocalBlobStore):
        (store.root / ".tmp-dead.1.2").write_bytes(b"partial")
    else:
        store.client.create_multipart_upload(Bucket=store.bucket, Key=store.prefix + "dead")
    if isinstance(store, LocalBlobStore):  # moto reports every upload as started in 2010
        assert store.sweep_incomplete(older_than_seconds=3600) == 0
    assert store.sweep_incomplete(older_than_seconds=-60) == 1
    assert list(store.keys()) == ["kept"]


def test_local_store_files_are_private(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path)
    store.put("a", [b"1"])
    assert (tmp_path / "a").stat().st_mode & 0o077 == 0


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("ftp://host/x", "unsupported scheme 'ftp'"),
        ("file://relative/path", "file:///absolute/path"),
        ("s3:///prefix", "no bucket"),
    ],
)
def test_bad_storage_urls_name_the_problem(url: str, message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        blob_store_from_url(url)


def test_s3_endpoint_can_come_from_the_environment(
    s3_storage_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    endpoint = s3_storage_url.split("endpoint_url=")[1].split("&")[0]
    monkeypatch.setenv("AIRLOCK_S3_ENDPOINT_URL", endpoint)
    store = blob_store_from_url(s3_storage_url.split("?")[0])
    store.put("k", [b"v"])
    assert b"".join(store.open("k")) == b"v"
