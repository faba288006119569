"""Start moto's S3-compatible server on loopback for tests of the S3 blob store."""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import boto3
import pytest

FAKE_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
}


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def moto_s3_server() -> Iterator[str]:
    """Run moto's threaded server on a free loopback port; yield its endpoint URL."""
    from moto.server import ThreadedMotoServer

    for name, value in FAKE_CREDENTIALS.items():
        os.environ.setdefault(name, value)
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


def make_bucket(endpoint: str) -> str:
    """Create a fresh bucket on the server and return its name."""
    name = f"airlock-test-{uuid.uuid4().hex[:12]}"
    boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1").create_bucket(Bucket=name)
    return name


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """Endpoint URL of a moto S3 server shared by the test session."""
    with moto_s3_server() as endpoint:
        yield endpoint


@pytest.fixture
def s3_storage_url(s3_endpoint: str) -> str:
    """An s3:// storage URL on a fresh, empty bucket of the loopback server."""
    bucket = make_bucket(s3_endpoint)
    return f"s3://{bucket}/blobs?endpoint_url={s3_endpoint}&region=us-east-1"
