"""File digests are remembered only while the file is the same file with the same content."""

from __future__ import annotations

import hashlib
import os
import shutil

from pipeline import digests


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_a_digest_follows_the_files_content(tmp_path):
    path = tmp_path / "sound.wav"
    path.write_bytes(b"first take")
    assert digests.file_digest(path) == sha(b"first take")
    path.write_bytes(b"second take, longer")
    assert digests.file_digest(path) == sha(b"second take, longer")
    # same size, rewritten: a new modification time
    path.write_bytes(b"third take, louder!")
    os.utime(path, ns=(1, 1))
    assert digests.file_digest(path) == sha(b"third take, louder!")


def test_a_replaced_file_is_hashed_again(tmp_path):
    path, other = tmp_path / "a.wav", tmp_path / "b.wav"
    path.write_bytes(b"one")
    other.write_bytes(b"two")
    assert digests.file_digest(path) == sha(b"one")
    stat = path.stat()
    other.replace(path)  # a new inode under the old name, even with the old times
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert digests.file_digest(path) == sha(b"two")


def test_a_remembered_copy_is_not_read(tmp_path, monkeypatch):
    source, copy = tmp_path / "cached.wav", tmp_path / "copy.wav"
    source.write_bytes(b"verified samples")
    shutil.copyfile(source, copy)
    digests.remember(copy, sha(b"verified samples"))
    opened = []
    real_open = open
    monkeypatch.setattr("builtins.open", lambda *a, **k: opened.append(a[0]) or real_open(*a, **k))
    assert digests.file_digest(copy) == sha(b"verified samples")
    assert opened == []
    copy.write_bytes(b"changed afterwards")
    assert digests.file_digest(copy) == sha(b"changed afterwards") and opened == [copy]
