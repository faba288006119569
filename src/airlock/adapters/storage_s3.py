"""Blob store on any S3-compatible endpoint; large objects go up as multipart uploads."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Final

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from airlock.adapters.storage import validate_key
from airlock.core.errors import NotFound
from airlock.core.ports import Chunk

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

DEFAULT_PART_BYTES: Final = 8 * 1024 * 1024
MIN_PART_BYTES: Final = 5 * 1024 * 1024
MAX_SINGLE_PUT_BYTES: Final = 5 * 1024**3  # S3's limit for one PutObject
READ_BYTES: Final = 1024 * 1024
_MISSING: Final = frozenset({"404", "NoSuchKey", "NotFound"})
# What a conditional write answers when the key is taken (or another such write is under way).
_TAKEN: Final = frozenset({"412", "PreconditionFailed", "409", "ConditionalRequestConflict"})


class S3BlobStore:
    """Objects under bucket/prefix; a failed upload is aborted, so nothing partial is visible."""

    max_held_chunks = 0  # put() copies each chunk into its part buffer at once

    def __init__(
        self, client: S3Client, *, bucket: str, prefix: str = "", part_size: int | None = None
    ) -> None:
        self.client = client
        self.bucket = bucket
        self.prefix = f"{prefix.strip('/')}/" if prefix.strip("/") else ""
        self.part_size = part_size or DEFAULT_PART_BYTES
        if self.part_size < MIN_PART_BYTES:
            raise ValueError(f"S3 part size must be at least {MIN_PART_BYTES} bytes")

    @classmethod
    def connect(
        cls,
        *,
        bucket: str,
        prefix: str = "",
        endpoint_url: str | None = None,
        region: str | None = None,
        part_size: int | None = None,
    ) -> S3BlobStore:
        """A store using boto3's usual credential chain (AWS_* variables, profiles, roles)."""
        config = Config(retries={"max_attempts": 5, "mode": "standard"})
        client = boto3.client(
            "s3", endpoint_url=endpoint_url, region_name=region or "us-east-1", config=config
        )
        return cls(client, bucket=bucket, prefix=prefix, part_size=part_size)

    def __repr__(self) -> str:
        return f"S3BlobStore(bucket={self.bucket!r}, prefix={self.prefix!r})"

    def _key(self, key: str) -> str:
        return self.prefix + validate_key(key)

    def put(self, key: str, chunks: Iterable[Chunk]) -> int:
        """Store the chunks under key atomically (all or nothing); return the bytes written."""
        name = self._key(key)
        if isinstance(chunks, list | tuple) and sum(map(len, chunks)) <= MAX_SINGLE_PUT_BYTES:
            # Already in memory (a sealed upload chunk): one request, one copy into its body,
            # instead of a multipart upload of a part and a few bytes.
            body = b"".join(chunks)
            self.client.put_object(Bucket=self.bucket, Key=name, Body=body)
            return len(body)
        buf = bytearray()
        upload_id: str | None = None
        parts: list[dict[str, Any]] = []
        total = 0
        try:
            for chunk in chunks:
                buf += chunk
                total += len(chunk)
                if len(buf) >= self.part_size:
                    if upload_id is None:
                        upload_id = self.client.create_multipart_upload(
                            Bucket=self.bucket, Key=name
                        )["UploadId"]
                    self._upload_part(name, upload_id, parts, buf[: self.part_size])
                    del buf[: self.part_size]
            if upload_id is None:
                self.client.put_object(Bucket=self.bucket, Key=name, Body=bytes(buf))
                return total
            if buf or not parts:
                self._upload_part(name, upload_id, parts, buf)
            self.client.complete_multipart_upload(
                Bucket=self.bucket,
                Key=name,
                UploadId=upload_id,
                MultipartUpload={"Parts": parts},  # type: ignore[typeddict-item]
            )
        except BaseException:
            if upload_id is not None:
                self.client.abort_multipart_upload(Bucket=self.bucket, Key=name, UploadId=upload_id)
            raise
        return total

    def put_new(self, key: str, data: bytes) -> bool:
        """Store data under key unless an object is there already (a conditional write)."""
        try:
            self.client.put_object(
                Bucket=self.bucket, Key=self._key(key), Body=data, IfNoneMatch="*"
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in _TAKEN:
                return False
            raise
        return True

    def _upload_part(
        self, name: str, upload_id: str, parts: list[dict[str, Any]], data: bytearray
    ) -> None:
        number = len(parts) + 1
        reply = self.client.upload_part(
            Bucket=self.bucket, Key=name, UploadId=upload_id, PartNumber=number, Body=bytes(data)
        )
        parts.append({"ETag": reply["ETag"], "PartNumber": number})

    def open(self, key: str) -> Iterator[bytes]:
        """Stream the stored object back in chunks; NotFound if it does not exist."""
        try:
            reply = self.client.get_object(Bucket=self.bucket, Key=self._key(key))
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in _MISSING:
                raise NotFound(f"no stored object {key!r}") from None
            raise
        return self._read(reply["Body"])

    @staticmethod
    def _read(body: Any) -> Iterator[bytes]:
        try:
            yield from body.iter_chunks(READ_BYTES)
        finally:
            body.close()

    def delete(self, key: str) -> None:
        """Remove the object; a missing object is not an error."""
        self.client.delete_object(Bucket=self.bucket, Key=self._key(key))

    def exists(self, key: str) -> bool:
        """Whether an object is stored under key."""
        try:
            self.client.head_object(Bucket=self.bucket, Key=self._key(key))
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in _MISSING:
                return False
            raise
        return True

    def keys(self, prefix: str = "") -> Iterator[str]:
        """Every stored key that starts with prefix, in sorted order."""
        pages = self.client.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=self.prefix + prefix
        )
        for page in pages:
            for item in page.get("Contents", []):
                yield item["Key"][len(self.prefix) :]

    def sweep_incomplete(self, *, older_than_seconds: float) -> int:
        """Abort multipart uploads left by writers that died; return how many were aborted."""
        cutoff = datetime.now(UTC) - timedelta(seconds=older_than_seconds)
        aborted = 0
        pages = self.client.get_paginator("list_multipart_uploads").paginate(
            Bucket=self.bucket, Prefix=self.prefix
        )
        for page in pages:
            for upload in page.get("Uploads", []):
                if upload["Initiated"] < cutoff:
                    self.client.abort_multipart_upload(
                        Bucket=self.bucket, Key=upload["Key"], UploadId=upload["UploadId"]
                    )
                    aborted += 1
        return aborted
