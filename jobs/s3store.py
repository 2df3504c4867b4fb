"""Artifacts in an S3-compatible object store (AWS S3, Cloudflare R2, MinIO, Ceph RGW), shared by every host.

Keys are the same as the file store's (``ab/<sha256 hex><suffix>``) under an optional prefix. Uploads stream from
disk and are put-if-absent: ``If-None-Match: *`` on the PUT (or on completing a multipart upload), so an object
appears whole or not at all and is never overwritten. Stores that do not implement conditional writes get a
HEAD-then-PUT instead, which is just as safe here because a key names its content. Reads stream into a local
read-through cache (verified against the key's digest), which is what ``open_path`` hands out, so bots and workers
need no shared disk. botocore retries transient errors with backoff; reads that break mid-body are retried here.
"""

from __future__ import annotations

import hashlib
import io
import logging
import mimetypes
import os
import random
import re
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path
from typing import IO, TYPE_CHECKING, TypeVar
from urllib.parse import urlparse

import boto3
import botocore.exceptions as bex
from botocore.config import Config

from jobs.store import artifact_key
from pipeline.errors import WaveTransientError

if TYPE_CHECKING:
    from wave_core.settings import Settings

log = logging.getLogger(__name__)

_CHUNK = 1 << 20
KEY_RE = re.compile(r"([0-9a-f]{2})/\1[0-9a-f]{62}(\.[a-z0-9]{1,9})?")
_PREFIX_PART = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
_BUCKET_RE = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")
# Errors that mean "the request never reached S3 whole, or the answer broke off": worth another try.
_TRANSIENT = (bex.ConnectionError, bex.HTTPClientError, bex.ResponseStreamingError, bex.IncompleteReadError,
              bex.ReadTimeoutError)
_CREDENTIAL_CODES = {"InvalidAccessKeyId", "SignatureDoesNotMatch", "AccessDenied", "InvalidToken", "ExpiredToken",
                     "403", "AllAccessDisabled", "AccountProblem"}
_NO_BUCKET_CODES = {"NoSuchBucket", "404", "InvalidBucketName"}
_EXISTS_CODES = {"PreconditionFailed", "412"}
_CONFLICT_CODES = {"ConditionalRequestConflict", "409"}  # another writer of the same key is finishing
_NOT_IMPLEMENTED_CODES = {"NotImplemented", "501"}

T = TypeVar("T")


class StoreError(WaveTransientError):
    """The object store refused or could not be reached. ``detail`` says what to fix, for the operator."""

    def __init__(self, detail: str) -> None:
        super().__init__("The file store is not reachable right now; please try again later.", detail=detail)


def check_key(key: str) -> str:
    """A key from the database is hostile until checked: two hex digits, '/', the 64-hex digest, a short suffix."""
    if not isinstance(key, str) or not KEY_RE.fullmatch(key):
        raise KeyError(f"not an artifact key: {key!r}")
    return key


def parse_store_url(url: str) -> tuple[str, str]:
    """``s3://bucket/some/prefix`` -> ("bucket", "some/prefix"); the prefix may be empty."""
    parsed = urlparse(url)
    if parsed.scheme != "s3" or not parsed.netloc:
        raise ValueError(f"WAVE_STORE_URL must look like s3://bucket/prefix, not {url!r}")
    bucket = parsed.netloc
    if not _BUCKET_RE.fullmatch(bucket) or ".." in bucket:
        raise ValueError(f"not a valid bucket name: {bucket!r}")
    parts = [p for p in parsed.path.split("/") if p]
    if any(not _PREFIX_PART.fullmatch(p) or p in (".", "..") for p in parts) or parsed.query or parsed.fragment:
        raise ValueError(f"not a valid store prefix: {parsed.path!r} (letters, digits, '.', '_', '-' and '/')")
    return bucket, "/".join(parts)


def _code(exc: bex.ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


class S3ArtifactStore:
    """The object-store implementation of :class:`jobs.store.ArtifactStore`."""

    def __init__(self, bucket: str, prefix: str = "", *, cache_dir: Path, endpoint_url: str | None = None,
                 region: str | None = None, profile: str | None = None, addressing_style: str = "auto",
                 retries: int = 5, cache_max_bytes: int = 2 << 30, multipart_threshold: int = 64 << 20,
                 part_size: int = 16 << 20, timeout_s: float = 30.0) -> None:
        self.bucket = bucket
        self.prefix = prefix.strip("/")
        self.endpoint_url = endpoint_url
        self.retries = retries
        self.cache_dir = Path(cache_dir)
        self.cache_max_bytes = cache_max_bytes
        self.multipart_threshold = multipart_threshold
        self.part_size = max(part_size, 5 << 20)  # S3's smallest part but the last
        self.conditional_writes = True
        self._sizes: dict[str, int] = {}
        session = boto3.session.Session(profile_name=profile, region_name=region)
        self.client = session.client("s3", endpoint_url=endpoint_url, config=Config(
            retries={"total_max_attempts": retries, "mode": "standard"}, connect_timeout=timeout_s, read_timeout=timeout_s,
            s3={"addressing_style": addressing_style}, signature_version="s3v4",
        ))
        self.cache_dir.mkdir(parents=True, exist_ok=True)

    @classmethod
    def from_settings(cls, settings: Settings) -> S3ArtifactStore:
        bucket, prefix = parse_store_url(settings.store_url)
        return cls(bucket, prefix, cache_dir=settings.data_dir / "store-cache", endpoint_url=settings.store_endpoint_url,
                   region=settings.store_region, profile=settings.store_profile,
                   addressing_style=settings.store_addressing_style, retries=settings.store_retries,
                   cache_max_bytes=settings.store_cache_mb << 20)

    def __repr__(self) -> str:
        return f"S3ArtifactStore({self.where})"

    @property
    def where(self) -> str:
        url = f"s3://{self.bucket}/{self.prefix}".rstrip("/")
        return f"{url} at {self.endpoint_url}" if self.endpoint_url else url

    # ------------------------------------------------------------------------------------------------ names

    def _object(self, key: str) -> str:
        check_key(key)
        return f"{self.prefix}/{key}" if self.prefix else key

    def _key_of(self, name: str) -> str | None:
        if self.prefix:
            if not name.startswith(self.prefix + "/"):
                return None
            name = name[len(self.prefix) + 1:]
        return name if KEY_RE.fullmatch(name) else None

    def _error(self, exc: Exception, action: str) -> StoreError:
        if isinstance(exc, bex.NoCredentialsError):
            return StoreError(f"{self.where}: no credentials found while trying to {action}: set AWS_ACCESS_KEY_ID "
                              "and AWS_SECRET_ACCESS_KEY, or WAVE_STORE_PROFILE to a profile in ~/.aws")
        if isinstance(exc, bex.ClientError):
            code = _code(exc)
            if code in _CREDENTIAL_CODES:
                return StoreError(f"{self.where}: the store refused the credentials ({code}) while trying to "
                                  f"{action}: check AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY or WAVE_STORE_PROFILE, "
                                  "and that they may read, write, list and delete in the bucket")
            if code in _NO_BUCKET_CODES:
                return StoreError(f"{self.where}: no bucket {self.bucket!r} there ({code}) while trying to {action}: "
                                  "create it, or fix WAVE_STORE_URL / WAVE_STORE_ENDPOINT_URL / WAVE_STORE_REGION")
            return StoreError(f"{self.where}: {code or 'error'} while trying to {action}: {exc}")
        if isinstance(exc, _TRANSIENT):
            return StoreError(f"{self.where}: cannot reach the store while trying to {action} "
                              f"({type(exc).__name__}: {exc}); check WAVE_STORE_ENDPOINT_URL and the network")
        return StoreError(f"{self.where}: {type(exc).__name__} while trying to {action}: {exc}")

    def _call(self, action: str, fn: Callable[[], T]) -> T:
        try:
            return fn()
        except (bex.BotoCoreError, bex.ClientError) as exc:
            raise self._error(exc, action) from exc

    # ------------------------------------------------------------------------------------------------ writes

    def put_bytes(self, data: bytes, suffix: str = "") -> str:
        key = artifact_key(hashlib.sha256(data).hexdigest(), suffix)
        self._put_if_absent(key, lambda: io.BytesIO(data), len(data))
        return key

    def put_file(self, path: Path) -> str:
        path = Path(path)
        digest = hashlib.sha256()
        with open(path, "rb") as src:
            while chunk := src.read(_CHUNK):
                digest.update(chunk)
        key = artifact_key(digest.hexdigest(), path.suffix)
        self._put_if_absent(key, partial(path.open, "rb"), path.stat().st_size)
        return key

    def _put_if_absent(self, key: str, body: Callable[[], IO[bytes]], size: int, tries: int = 3) -> None:
        name = self._object(key)
        if not self.conditional_writes and self._head(name) is not None:
            self._refresh(name)
            return
        try:
            with body() as stream:
                if size > self.multipart_threshold:
                    self._multipart(name, stream, size)
                else:
                    self._put(name, stream, size)
        except bex.ClientError as exc:
            code = _code(exc)
            if code in _EXISTS_CODES:  # already there: a key names its bytes, so nothing is lost
                self._refresh(name)
                return
            if code in _CONFLICT_CODES and tries > 1:
                time.sleep(random.uniform(0.1, 0.5))
                self._put_if_absent(key, body, size, tries - 1)
                return
            if code in _NOT_IMPLEMENTED_CODES and self.conditional_writes:
                log.warning("%s does not support conditional writes; checking for the object before writing", self.where)
                self.conditional_writes = False
                self._put_if_absent(key, body, size)
                return
            raise self._error(exc, f"store {key}") from exc
        except bex.BotoCoreError as exc:
            raise self._error(exc, f"store {key}") from exc

    def _conditions(self) -> dict[str, str]:
        return {"IfNoneMatch": "*"} if self.conditional_writes else {}

    def _put(self, name: str, stream: IO[bytes], size: int) -> None:
        self.client.put_object(Bucket=self.bucket, Key=name, Body=stream, ContentLength=size,
                               ContentType=_content_type(name), **self._conditions())

    def _multipart(self, name: str, stream: IO[bytes], size: int) -> None:
        upload = self.client.create_multipart_upload(Bucket=self.bucket, Key=name, ContentType=_content_type(name))
        upload_id = upload["UploadId"]
        try:
            parts = []
            number = 1
            while chunk := stream.read(self.part_size):
                part = self.client.upload_part(Bucket=self.bucket, Key=name, UploadId=upload_id, PartNumber=number,
                                               Body=chunk)
                parts.append({"ETag": part["ETag"], "PartNumber": number})
                number += 1
            self.client.complete_multipart_upload(Bucket=self.bucket, Key=name, UploadId=upload_id,
                                                  MultipartUpload={"Parts": parts}, **self._conditions())
        except BaseException:
            try:
                self.client.abort_multipart_upload(Bucket=self.bucket, Key=name, UploadId=upload_id)
            except (bex.BotoCoreError, bex.ClientError):  # gc aborts what is left over
                log.warning("could not abort the upload of %s", name)
            raise

    def _refresh(self, name: str) -> None:
        """Makes an existing object young again (as the file store touches its file), so gc spares it while the
        row that refers to it is being written."""
        self._call(f"refresh {name}", lambda: self.client.copy_object(
            Bucket=self.bucket, Key=name, CopySource={"Bucket": self.bucket, "Key": name},
            MetadataDirective="REPLACE", ContentType=_content_type(name)))

    # ------------------------------------------------------------------------------------------------ reads

    def _head(self, name: str) -> dict | None:
        try:
            return self.client.head_object(Bucket=self.bucket, Key=name)
        except bex.ClientError as exc:
            if _code(exc) in ("404", "NoSuchKey", "NotFound"):
                return None
            raise self._error(exc, f"look up {name}") from exc
        except bex.BotoCoreError as exc:
            raise self._error(exc, f"look up {name}") from exc

    def exists(self, key: str) -> bool:
        try:
            name = self._object(key)
        except KeyError:
            return False
        return self._head(name) is not None

    def size(self, key: str) -> int:
        if key in self._sizes:
            return self._sizes[key]
        head = self._head(self._object(key))
        if head is None:
            raise FileNotFoundError(key)
        return int(head["ContentLength"])

    def _cached(self, key: str) -> Path:
        return self.cache_dir / key

    def open_path(self, key: str) -> Path:
        """A local copy in the read cache, downloaded (and checked against its digest) on first use."""
        name = self._object(key)
        cached = self._cached(key)
        if cached.exists():
            os.utime(cached)
            return cached
        cached.parent.mkdir(parents=True, exist_ok=True)
        self._download(key, name, cached)
        self._trim_cache(keep=cached)
        return cached

    def _download(self, key: str, name: str, destination: Path) -> None:
        expected = key.split("/", 1)[1][:64]
        for attempt in range(1, self.retries + 1):
            fd, tmp = tempfile.mkstemp(dir=destination.parent, prefix=".tmp-")
            try:
                digest = hashlib.sha256()
                with os.fdopen(fd, "wb") as out:
                    body = self.client.get_object(Bucket=self.bucket, Key=name)["Body"]
                    for chunk in body.iter_chunks(_CHUNK):
                        digest.update(chunk)
                        out.write(chunk)
                if digest.hexdigest() != expected:
                    raise StoreError(f"{self.where}: {key} does not hold the bytes its name promises")
                os.replace(tmp, destination)
                return
            except bex.ClientError as exc:
                if _code(exc) in ("NoSuchKey", "404"):
                    raise FileNotFoundError(key) from exc
                raise self._error(exc, f"read {key}") from exc
            except _TRANSIENT as exc:
                if attempt == self.retries:
                    raise self._error(exc, f"read {key}") from exc
                log.warning("reading %s broke off (%r); try %d of %d", key, exc, attempt, self.retries)
                time.sleep(min(0.1 * 2 ** attempt, 5.0) * random.uniform(0.5, 1.0))
            except bex.BotoCoreError as exc:
                raise self._error(exc, f"read {key}") from exc
            finally:
                Path(tmp).unlink(missing_ok=True)

    def _trim_cache(self, keep: Path, min_idle_s: float = 600) -> None:
        """Least recently used copies go first once the cache is over its size; recent ones are in use. Partial
        downloads left by a killed process are removed after an hour."""
        files = []
        now = time.time()
        for path in self.cache_dir.glob("??/*"):
            try:
                stat = path.stat()
            except FileNotFoundError:  # another process trimmed it
                continue
            if not path.name.startswith("."):
                files.append((stat, path))
            elif now - stat.st_mtime > 3600:
                path.unlink(missing_ok=True)
        total = sum(st.st_size for st, _ in files)
        if total <= self.cache_max_bytes:
            return
        for st, path in sorted(files, key=lambda item: item[0].st_mtime):
            if total <= self.cache_max_bytes * 0.8:
                break
            if path != keep and now - st.st_mtime > min_idle_s:
                path.unlink(missing_ok=True)
                total -= st.st_size

    def read_bytes(self, key: str) -> bytes:
        return self.open_path(key).read_bytes()

    def copy_to(self, key: str, destination: Path) -> Path:
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(self.open_path(key), destination)
        return destination

    def url(self, key: str, expires_s: int = 3600) -> str | None:
        """A presigned GET URL, for platforms that fetch files themselves."""
        name = self._object(key)
        return self._call(f"sign {key}", lambda: self.client.generate_presigned_url(
            "get_object", Params={"Bucket": self.bucket, "Key": name}, ExpiresIn=expires_s))

    # ------------------------------------------------------------------------------------------------ housekeeping

    def delete(self, key: str) -> None:
        name = self._object(key)
        self._call(f"delete {key}", lambda: self.client.delete_object(Bucket=self.bucket, Key=name))
        self._sizes.pop(key, None)
        self._cached(key).unlink(missing_ok=True)

    def keys(self) -> Iterator[tuple[str, float]]:
        """Every artifact under the prefix; objects with other names (someone else's) are left alone."""
        paginator = self.client.get_paginator("list_objects_v2")
        listing = {"Bucket": self.bucket, **({"Prefix": self.prefix + "/"} if self.prefix else {})}
        try:
            for page in paginator.paginate(**listing):
                for item in page.get("Contents", []):
                    key = self._key_of(item["Key"])
                    if key is not None:
                        self._sizes[key] = int(item["Size"])
                        yield key, item["LastModified"].timestamp()
        except (bex.BotoCoreError, bex.ClientError) as exc:
            raise self._error(exc, "list the artifacts") from exc

    def remove_stale_temp_files(self, older_than_s: float = 3600) -> int:
        """Aborts multipart uploads left by crashed writers (S3 keeps their parts, and bills them, until then)."""
        cutoff = time.time() - older_than_s
        removed = 0
        paginator = self.client.get_paginator("list_multipart_uploads")
        listing = {"Bucket": self.bucket, **({"Prefix": self.prefix + "/"} if self.prefix else {})}
        try:
            for page in paginator.paginate(**listing):
                for upload in page.get("Uploads", []):
                    if upload["Initiated"].timestamp() < cutoff and self._key_of(upload["Key"]) is not None:
                        self.client.abort_multipart_upload(Bucket=self.bucket, Key=upload["Key"],
                                                           UploadId=upload["UploadId"])
                        removed += 1
        except (bex.BotoCoreError, bex.ClientError) as exc:
            raise self._error(exc, "clean up unfinished uploads") from exc
        return removed

    def check(self) -> str:
        """Reachable and writable: write, read back and delete a probe object beside the artifacts."""
        self._call("reach the bucket", lambda: self.client.head_bucket(Bucket=self.bucket))
        probe = f"{self.prefix}/.wave-doctor-{os.getpid()}-{random.getrandbits(32):08x}".lstrip("/")
        payload = os.urandom(16)
        self._call("write a probe object", lambda: self.client.put_object(Bucket=self.bucket, Key=probe, Body=payload))
        try:
            read = self._call("read the probe object back",
                              lambda: self.client.get_object(Bucket=self.bucket, Key=probe)["Body"].read())
        finally:
            self._call("delete the probe object", lambda: self.client.delete_object(Bucket=self.bucket, Key=probe))
        if read != payload:
            raise StoreError(f"{self.where}: the probe object came back different")
        return f"{self.where}: reachable; write, read and delete work"


def _content_type(name: str) -> str:
    return mimetypes.guess_type(name)[0] or "application/octet-stream"
