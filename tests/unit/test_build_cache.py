"""A cached binary runs as root, so the cache is checked before anything in it runs: every
file's sha256 against its manifest (once per process), and no one but its owner may write
to it. No Go build runs here: the entries are made by hand."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from podlife.cluster import binary_cache, build
from podlife.core import versions
from podlife.core.errors import PodlifeError


@pytest.fixture
def cached(tmp_path: Path, monkeypatch) -> tuple[build.BinaryCache, build.GoBuild]:
    """A private cache holding one finished entry for the default Kubernetes build."""
    monkeypatch.setenv("PODLIFE_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(binary_cache, "_VERIFIED", set())
    (tmp_path / "cache").mkdir(mode=0o700)
    cache = build.BinaryCache()
    spec = build.kubernetes_build(versions.resolve(None))
    staged = cache.root / "staged"
    staged.mkdir(parents=True)
    (staged / "kubelet").write_bytes(b"\x7fELF genuine kubelet")
    cache.commit(spec.key, staged, {"module": spec.module})
    binary_cache._VERIFIED.clear()  # as if built by an earlier process
    return cache, spec


def test_an_intact_entry_is_used(cached) -> None:
    cache, spec = cached
    assert build.build(spec, cache=cache) == cache.entry(spec.key)


def test_a_binary_swapped_for_one_of_the_same_size_is_refused(cached) -> None:
    cache, spec = cached
    kubelet = cache.entry(spec.key) / "kubelet"
    kubelet.write_bytes(b"\x7fELF evil!!! kubelet")
    assert len(kubelet.read_bytes()) == len(b"\x7fELF genuine kubelet")
    with pytest.raises(PodlifeError, match="sha256"):
        build.build(spec, cache=cache)


def test_checked_once_per_process(cached) -> None:
    cache, spec = cached
    build.build(spec, cache=cache)
    (cache.entry(spec.key) / "kubelet").write_bytes(b"\x7fELF changed kubelet")
    build.build(spec, cache=cache)  # verified already in this process: not hashed again
    binary_cache._VERIFIED.clear()
    with pytest.raises(PodlifeError, match="sha256"):
        build.build(spec, cache=cache)


@pytest.mark.parametrize("where", ["cache", "bin", "entry", "binary"])
def test_a_cache_others_can_write_to_is_refused(cached, where: str) -> None:
    cache, spec = cached
    target = {"cache": cache.root.parent, "bin": cache.root, "entry": cache.entry(spec.key),
              "binary": cache.entry(spec.key) / "kubelet"}[where]
    os.chmod(target, target.stat().st_mode | 0o002)
    with pytest.raises(PodlifeError, match="other than its owner") as refused:
        build.build(spec, cache=cache)
    assert str(target) in str(refused.value)


def test_a_later_process_trusts_the_stamp_and_skips_hashing(cached, monkeypatch) -> None:
    cache, spec = cached
    assert binary_cache.stamp_matches(cache.entry(spec.key))
    monkeypatch.setattr(binary_cache, "_sha256", lambda _path: pytest.fail("hashed again"))
    assert build.build(spec, cache=cache) == cache.entry(spec.key)


def test_a_chmod_or_an_added_file_voids_the_stamp(cached) -> None:
    cache, spec = cached
    entry = cache.entry(spec.key)
    (entry / "kubelet").chmod(0o700)  # same bytes, but ctime moved: hashed again
    assert not binary_cache.stamp_matches(entry)
    assert build.build(spec, cache=cache) == entry
    assert binary_cache.stamp_matches(entry)
    (entry / "extra").write_bytes(b"planted")
    assert not binary_cache.stamp_matches(entry)


def test_a_second_process_waits_for_the_build_in_progress_and_reuses_it(
        cached: tuple[build.BinaryCache, build.GoBuild], tmp_path: Path) -> None:
    """While one process holds an entry's build lock, another that needs the same build
    says whom it waits for, and once the lock is released it finds the entry complete and
    builds nothing (no Go on its PATH, so a build would fail)."""
    import shutil
    import subprocess
    import sys
    import time

    cache, spec = cached
    waiter = ("from podlife.cluster import build\nfrom podlife.core import versions\n"
              "spec = build.kubernetes_build(versions.resolve(None))\n"
              "print(build.build(spec))\n")
    env = {**os.environ, "PATH": "/nonexistent"}
    built = cache.entry(spec.key)
    kept = tmp_path / "kept"
    shutil.move(built, kept)  # the entry is not there yet: this process is "building" it
    with cache.building(spec.key):
        proc = subprocess.Popen([sys.executable, "-c", waiter], env=env, text=True,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        time.sleep(1.5)
        assert proc.poll() is None, proc.communicate()
        shutil.move(kept, built)  # the build finishes
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert f"waiting for pid {os.getpid()} to finish building {spec.key}" in err
    assert out.strip() == str(built)


def test_an_entrys_size_counts_its_files(cached) -> None:
    """What `podlife build` reports a CI cache must carry: the binaries and the manifest."""
    cache, spec = cached
    entry = cache.entry(spec.key)
    files = [p for p in entry.rglob("*") if p.is_file()]
    assert cache.size(spec.key) == sum(p.stat().st_size for p in files)
    assert cache.size(spec.key) >= len(b"\x7fELF genuine kubelet")
