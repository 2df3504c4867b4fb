"""The S3-compatible artifact store against a real S3 API on loopback (moto's server), and the whole job path on it:
a GPU host and a CPU host with separate data folders, and delivery reading from the store."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hyp_settings
from hypothesis import strategies as st
from sqlalchemy import select

from db.models import Job, JobStatus
from jobs.client import JobsClient, SubmitRequest
from jobs.gc import collect_garbage, referenced_keys
from jobs.s3store import S3ArtifactStore, StoreError, check_key, parse_store_url
from jobs.store import open_store
from wave_app.doctor import check_store
from wave_testing.jobs_helpers import ROOT, WorkerProcess, picture_bytes, short_song_midi
from wave_testing.s3_helpers import MotoServer, aws_env, fail_first, faulty_proxy


@pytest.fixture(scope="module")
def moto():
    server = MotoServer()
    yield server
    server.stop()


@pytest.fixture
def aws(moto, tmp_path, monkeypatch):
    for name, value in aws_env(moto, tmp_path).items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)


@pytest.fixture
def bucket(moto, aws):
    return moto.make_bucket(f"wave-{uuid.uuid4().hex[:12]}")


def make_store(moto: MotoServer, bucket: str, tmp_path: Path, endpoint: str | None = None, **kw) -> S3ArtifactStore:
    return S3ArtifactStore(bucket, "art/v1", cache_dir=tmp_path / f"cache-{uuid.uuid4().hex[:6]}",
                           endpoint_url=endpoint or moto.endpoint, region="us-east-1", **kw)


def digest_of(key: str) -> str:
    return key.split("/", 1)[1][:64]


def test_put_get_exists_delete_keys(moto, bucket, tmp_path):
    store = make_store(moto, bucket, tmp_path)
    sheet = b'{"scene_description": "a kitchen"}'
    key = store.put_bytes(sheet, ".json")
    assert key == f"{hashlib.sha256(sheet).hexdigest()[:2]}/{hashlib.sha256(sheet).hexdigest()}.json"
    audio = tmp_path / "kettle.WAV"
    audio.write_bytes(os.urandom(300_000))
    audio_key = store.put_file(audio)
    assert audio_key.endswith(".wav") and digest_of(audio_key) == hashlib.sha256(audio.read_bytes()).hexdigest()

    client = moto.client()
    objects = {o["Key"]: o["Size"] for o in client.list_objects_v2(Bucket=bucket)["Contents"]}
    assert objects == {f"art/v1/{key}": len(sheet), f"art/v1/{audio_key}": 300_000}
    assert store.put_bytes(sheet, ".json") == key  # the same bytes are stored once
    assert len(client.list_objects_v2(Bucket=bucket)["Contents"]) == 2

    assert store.exists(key) and store.read_bytes(key) == sheet and store.size(audio_key) == 300_000
    copy = store.copy_to(audio_key, tmp_path / "work" / "effect.wav")
    assert copy.read_bytes() == audio.read_bytes()
    assert store.open_path(audio_key).parent.parent == store.cache_dir
    with urllib.request.urlopen(store.url(key, expires_s=60), timeout=30) as fetched:  # as a platform would
        assert fetched.read() == sheet and fetched.headers["Content-Type"] == "application/json"

    # Other objects in the bucket are not artifacts: gc must never see (or delete) them.
    client.put_object(Bucket=bucket, Key="art/v1/notes.txt", Body=b"x")
    client.put_object(Bucket=bucket, Key="elsewhere/" + key, Body=sheet)
    assert set(dict(store.keys())) == {key, audio_key}

    store.delete(audio_key)
    assert not store.exists(audio_key) and not (store.cache_dir / audio_key).exists()
    with pytest.raises(FileNotFoundError):
        store.open_path(audio_key)
    store.delete(audio_key)  # deleting twice is fine
    assert list(dict(store.keys())) == [key]


def test_an_existing_object_is_never_overwritten_and_a_bad_one_never_served(moto, bucket, tmp_path):
    store = make_store(moto, bucket, tmp_path)
    data = b"the real bytes"
    digest = hashlib.sha256(data).hexdigest()
    key = f"{digest[:2]}/{digest}.bin"
    client = moto.client()
    client.put_object(Bucket=bucket, Key=f"art/v1/{key}", Body=b"something else")
    assert store.put_bytes(data, ".bin") == key
    assert client.get_object(Bucket=bucket, Key=f"art/v1/{key}")["Body"].read() == b"something else"
    with pytest.raises(StoreError, match="does not hold the bytes"):
        store.open_path(key)
    assert not (store.cache_dir / key).exists() and not list(store.cache_dir.glob("*/.tmp-*"))


def test_large_files_go_up_in_parts(moto, bucket, tmp_path):
    store = make_store(moto, bucket, tmp_path, multipart_threshold=1 << 20, part_size=5 << 20)
    mix = tmp_path / "mix.wav"
    mix.write_bytes(os.urandom(11 << 20))
    key = store.put_file(mix)
    head = moto.client().head_object(Bucket=bucket, Key=f"art/v1/{key}")
    assert head["ETag"].strip('"').endswith("-3")  # three parts
    assert store.open_path(key).read_bytes() == mix.read_bytes()
    assert store.put_file(mix) == key and store.remove_stale_temp_files(older_than_s=0) == 0


def test_the_read_cache_stays_within_its_size(moto, bucket, tmp_path):
    store = make_store(moto, bucket, tmp_path, cache_max_bytes=1_000_000)
    keys = [store.put_bytes(os.urandom(400_000), ".wav") for _ in range(3)]
    first, second = store.open_path(keys[0]), store.open_path(keys[1])
    hour_ago = time.time() - 3600
    os.utime(first, (hour_ago - 10, hour_ago - 10))
    os.utime(second, (hour_ago, hour_ago))
    leftover = first.parent / ".tmp-killed-download"
    leftover.write_bytes(b"partial")
    os.utime(leftover, (hour_ago - 10, hour_ago - 10))
    third = store.open_path(keys[2])
    assert not first.exists() and second.exists() and third.exists()  # least recently used first, down to 80%
    assert not leftover.exists()
    assert store.open_path(keys[0]).read_bytes() == moto.client().get_object(
        Bucket=bucket, Key=f"art/v1/{keys[0]}")["Body"].read()  # fetched again when needed


HOSTILE_KEYS = ["../etc/passwd", "ab/../../x", "/ab/abc", "AB/" + "A" * 64, "ab/ab" + "0" * 62 + "/x",
                "00/" + "0" * 64 + ".tar.gz", "00/" + "0" * 63, "01/" + "0" * 64, "00/" + "0" * 64 + ".",
                "00/" + "0" * 64 + "\n", ""]


@pytest.mark.parametrize("key", HOSTILE_KEYS)
def test_keys_from_data_are_checked_before_any_request(moto, bucket, tmp_path, key):
    store = make_store(moto, bucket, tmp_path)
    assert store.exists(key) is False
    for call in (store.open_path, store.delete, store.size, store.url):
        with pytest.raises(KeyError):
            call(key)


@hyp_settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(max_size=90))
def test_a_key_that_passes_stays_inside_the_prefix(key):
    try:
        check_key(key)
    except KeyError:
        return
    name = f"art/v1/{key}"
    assert ".." not in key and not key.startswith("/") and "\\" not in key
    assert os.path.normpath(name).startswith("art/v1/") and name.count("/") == 3


@pytest.mark.parametrize("url", ["s3://", "http://bucket/x", "s3://Bad_Bucket/x", "s3://bucket/../x", "s3://bucket/a/./b",
                                 "s3://bucket/a?b=c", "s3://b/x"])
def test_bad_store_urls_are_refused(url):
    with pytest.raises(ValueError):
        parse_store_url(url)


def test_store_url_parts(tmp_path):
    from jobs.store import FileArtifactStore
    from wave_core.settings import Settings

    assert parse_store_url("s3://wave-art") == ("wave-art", "")
    assert parse_store_url("s3://wave-art/prod/eu/") == ("wave-art", "prod/eu")
    blank = Settings(store_url="", store_endpoint_url=" ", artifacts_dir=tmp_path / "files")  # `WAVE_STORE_URL=`
    assert blank.store_url is None and blank.store_endpoint_url is None
    assert isinstance(open_store(blank), FileArtifactStore)


def test_wrong_credentials_or_bucket_give_a_clear_error(tmp_path, monkeypatch):
    server = MotoServer(auth=True)
    try:
        for name, value in aws_env(server, tmp_path).items():
            monkeypatch.setenv(name, value)
        bucket = server.make_bucket("wave-guarded")
        good = make_store(server, bucket, tmp_path)
        assert "write, read and delete work" in good.check()
        key = good.put_bytes(b"kept", ".txt")

        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "not-the-secret")
        wrong = make_store(server, bucket, tmp_path)
        for call in (wrong.check, lambda: wrong.put_bytes(b"x", ".txt"), lambda: wrong.open_path(key),
                     lambda: list(wrong.keys())):
            with pytest.raises(StoreError) as refused:
                call()
            assert "refused the credentials" in refused.value.detail and "AWS_SECRET_ACCESS_KEY" in refused.value.detail
            assert refused.value.user_message == "The file store is not reachable right now; please try again later."

        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", server.secret_key)
        missing = S3ArtifactStore("wave-missing", "", cache_dir=tmp_path / "c", endpoint_url=server.endpoint,
                                  region="us-east-1")
        with pytest.raises(StoreError, match="no bucket 'wave-missing'"):
            missing.check()
        with pytest.raises(StoreError, match="no bucket 'wave-missing'"):
            missing.put_bytes(b"x", ".txt")

        monkeypatch.delenv("AWS_ACCESS_KEY_ID")
        monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
        with pytest.raises(StoreError, match="no credentials found"):
            make_store(server, bucket, tmp_path).check()
    finally:
        server.stop()


def test_doctor_checks_the_bucket_is_reachable_and_writable(moto, bucket, tmp_path, monkeypatch):
    from wave_core.settings import Settings

    settings = Settings(data_dir=tmp_path / "data", store_url=f"s3://{bucket}/wave", store_endpoint_url=moto.endpoint,
                        store_region="us-east-1")
    ok = check_store(settings)
    assert ok.level == "ok" and f"s3://{bucket}/wave" in ok.detail and "write, read and delete work" in ok.detail
    assert "Contents" not in moto.client().list_objects_v2(Bucket=bucket)  # the probe object is gone

    missing = check_store(settings.model_copy(update={"store_url": "s3://wave-nobody-made-this/wave"}))
    assert missing.failed and "no bucket" in missing.detail and "WAVE_STORE_URL" in missing.fix
    bad_url = check_store(settings.model_copy(update={"store_url": "s3://../x"}))
    assert bad_url.failed and "bucket name" in bad_url.detail and "s3://bucket/prefix" in bad_url.fix
    unreachable = check_store(settings.model_copy(update={"store_endpoint_url": "http://127.0.0.1:9", "store_retries": 1}))
    assert unreachable.failed and "cannot reach the store" in unreachable.detail
    local = check_store(Settings(data_dir=tmp_path / "d", artifacts_dir=tmp_path / "local"))
    assert local.level == "ok" and str(tmp_path / "local") in local.detail


def test_transient_errors_are_retried_with_backoff(moto, bucket, tmp_path):
    with faulty_proxy(moto.port, fail_first(2, "PUT")) as proxy:
        store = make_store(moto, bucket, tmp_path, endpoint=proxy.endpoint, retries=4)
        key = store.put_bytes(b"through a busy store", ".txt")
        assert [status for method, _, status in proxy.seen if method == "PUT"] == [503, 503, 200]
    with faulty_proxy(moto.port, fail_first(2, "GET")) as proxy:
        store = make_store(moto, bucket, tmp_path, endpoint=proxy.endpoint, retries=4)
        assert store.read_bytes(key) == b"through a busy store"
        assert [status for method, _, status in proxy.seen if method == "GET"] == [503, 503, 200]
    with faulty_proxy(moto.port, fail_first(10, "PUT")) as proxy:
        store = make_store(moto, bucket, tmp_path, endpoint=proxy.endpoint, retries=2)
        with pytest.raises(StoreError, match="SlowDown"):
            store.put_bytes(b"never gets through", ".txt")
        assert len(proxy.seen) == 2


UPLOADER = """
import sys
from pathlib import Path
from jobs.s3store import S3ArtifactStore
store = S3ArtifactStore(sys.argv[1], "art/v1", cache_dir=Path(sys.argv[3]), endpoint_url=sys.argv[2],
                        region="us-east-1", retries=1, multipart_threshold=int(sys.argv[5]), part_size=5 << 20)
store.put_file(Path(sys.argv[4]))
"""


@pytest.mark.parametrize("how", ["single", "multipart"])
def test_a_writer_killed_while_uploading_leaves_nothing_half_written(moto, bucket, tmp_path, how):
    mix = tmp_path / "mix.wav"
    mix.write_bytes(os.urandom(11 << 20))
    threshold = 64 << 20 if how == "single" else 1 << 20

    def hang_mid_upload(method: str, path: str) -> str | None:
        if how == "single":
            return "hang" if method == "PUT" else None
        return "hang" if method == "PUT" and "partNumber=2" in path else None

    with faulty_proxy(moto.port, hang_mid_upload) as proxy:
        writer = subprocess.Popen(
            [sys.executable, "-c", UPLOADER, bucket, proxy.endpoint, str(tmp_path / "wcache"), str(mix), str(threshold)],
            cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, stderr=subprocess.PIPE)
        try:
            assert proxy.hung.wait(timeout=120), writer.stderr.read().decode()[-2000:] if writer.poll() else "no upload"
        finally:
            writer.kill()
            writer.wait()
    store = make_store(moto, bucket, tmp_path)
    key = f"{hashlib.sha256(mix.read_bytes()).hexdigest()[:2]}/{hashlib.sha256(mix.read_bytes()).hexdigest()}.wav"
    assert not store.exists(key) and list(store.keys()) == []
    pending = moto.client().list_multipart_uploads(Bucket=bucket).get("Uploads", [])
    assert len(pending) == (1 if how == "multipart" else 0)
    assert store.remove_stale_temp_files(older_than_s=0) == len(pending)
    assert moto.client().list_multipart_uploads(Bucket=bucket).get("Uploads", []) == []

    assert store.put_file(mix) == key  # the retried task stores it whole
    assert store.open_path(key).read_bytes() == mix.read_bytes()


# ---------------------------------------------------------------------------------------------- jobs on the store


@pytest.fixture
def database_url(postgres_url):
    """More than one host means PostgreSQL."""
    return postgres_url


@pytest.fixture
def jobs_settings(jobs_settings, moto, bucket, tmp_path):
    """The jobs settings with the bucket as the store, and a data folder of the bot's host alone."""
    return jobs_settings.model_copy(update={
        "store_url": f"s3://{bucket}/wave", "store_endpoint_url": moto.endpoint, "store_region": "us-east-1",
        "data_dir": tmp_path / "bot-host", "artifacts_dir": tmp_path / "bot-host" / "no-artifacts-here",
    })


async def test_gc_removes_unreferenced_objects_only(runtime):
    assert isinstance(runtime.store, S3ArtifactStore) and isinstance(open_store(runtime.settings), S3ArtifactStore)
    job_id = await JobsClient(runtime).submit(
        SubmitRequest(image=picture_bytes(), midi=short_song_midi(), user_id="ana", platform="discord"))
    store = runtime.store
    orphan = store.put_bytes(b"a sound nobody refers to", ".wav")
    kept = await referenced_keys(runtime)
    assert len(kept) == 2 and orphan not in kept  # the picture and the MIDI song
    report = await collect_garbage(runtime, min_age_s=0)
    assert (report.artifacts_removed, report.bytes_freed) == (1, len(b"a sound nobody refers to"))
    assert set(dict(store.keys())) == kept and not store.exists(orphan)
    async with runtime.db() as session:
        assert (await session.get(Job, job_id)).status == JobStatus.QUEUED.value
    assert not runtime.settings.artifacts_dir.exists()


async def test_two_hosts_without_a_shared_disk(runtime, jobs_settings, tmp_path):
    """A GPU host and a CPU host, each with its own data folder, and a bot host delivering from the store."""
    hosts = {queue: jobs_settings.model_copy(update={"data_dir": tmp_path / f"{queue}-host",
                                                   "artifacts_dir": tmp_path / f"{queue}-host" / "no-artifacts-here"})
             for queue in ("gpu", "cpu")}
    client = JobsClient(runtime)
    job_id = await client.submit(SubmitRequest(image=picture_bytes(3), midi=short_song_midi(), user_id="ana",
                                               platform="discord"))
    workers = [WorkerProcess(hosts[q], tmp_path / f"{q}.log", command=("wave_app.cli", "worker", "--queue", q))
               for q in ("gpu", "cpu")]
    try:
        final = await client.wait(job_id, timeout_s=300)
    finally:
        for worker in workers:
            worker.stop()
    logs = {q: (tmp_path / f"{q}.log").read_text()[-3000:] for q in ("gpu", "cpu")}
    assert final.status == JobStatus.DONE, (final.error, logs)

    result = await client.result(job_id)
    latest = result.latest
    files = [result.sheet, latest.mix, latest.mix_compressed, latest.casting_png, *(s.effect for s in result.sources)]
    assert len(result.sources) >= 5 and all(files) and result.scene
    bot_cache = jobs_settings.data_dir / "store-cache"
    for path in files:  # the bot reads its own verified copies, fetched from the store
        assert path.is_relative_to(bot_cache) and hashlib.sha256(path.read_bytes()).hexdigest() == path.stem
    stored = set(dict(runtime.store.keys()))
    assert stored == await referenced_keys(runtime)
    for settings in (*hosts.values(), jobs_settings):
        assert not settings.artifacts_dir.exists()  # nobody used a local artifact folder
    # Each worker fetched what it needed from the store into its own cache: the GPU host the picture, the CPU host
    # the sheet, the effects and the song.
    async with runtime.db() as session:
        job = await session.scalar(select(Job).where(Job.id == job_id))
    gpu_cache = hosts["gpu"].data_dir / "store-cache"
    cpu_cache = hosts["cpu"].data_dir / "store-cache"
    assert (gpu_cache / job.image_key).exists() and not (cpu_cache / job.image_key).exists()
    assert (cpu_cache / job.sheet_key).exists() and (cpu_cache / job.song_ref.removeprefix("midi:")).exists()
