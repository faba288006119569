"""Fixtures for vault integration tests: a blob store per backend."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from airlock.adapters.storage import blob_store_from_url
from airlock.core.ports import BlobStore
from airlock.settings import Settings
from tests.conftest import make_settings
from tests.factories.vault import VAULT_CHUNK

try:
    from tests.support.s3 import s3_endpoint, s3_storage_url
except ImportError:  # pytest did not put the repository root on sys.path
    sys.path.insert(0, str(Path(__file__).resolve().parents[3]))
    from tests.support.s3 import s3_endpoint, s3_storage_url

__all__ = ["s3_endpoint", "s3_storage_url"]


@pytest.fixture(params=["local", "s3"])
def storage_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A storage URL on each backend: a local folder, then a bucket on a loopback S3 server."""
    if request.param == "local":
        return f"file://{tmp_path / 'blobs'}"
    return str(request.getfixturevalue("s3_storage_url"))


@pytest.fixture
def store(storage_url: str) -> BlobStore:
    """A blob store on each backend."""
    return blob_store_from_url(storage_url)


@pytest.fixture
def settings(db_url: str, tmp_path: Path, storage_url: str) -> Settings:
    """Test settings with small upload chunks, on each database and each storage backend."""
    return make_settings(
        db_url,
        tmp_path / "data",
        storage_url=storage_url,
        upload_chunk_bytes=VAULT_CHUNK,
        max_artifact_bytes=4 * 1024 * 1024,
        max_submission_bytes=6 * 1024 * 1024,
    )
