"""The cache of finished builds: one directory per build key, with a manifest of its files.

Cached binaries run as root, so an entry is trusted only after every file's sha256 matches
its manifest and no one but its owner could have written it. Hashing ~400 MB takes seconds,
so a successful check leaves a stamp of each file's inode, size, mtime and ctime: while
they are unchanged (any write or chmod moves a file's ctime, which user space cannot set
back), the files are the ones that were hashed, and the next process skips the hashing.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

from podlife.core import flock, paths
from podlife.core.errors import PodlifeError


class CacheMismatch(PodlifeError):
    """A cached file's bytes differ from its manifest (what `made_entry` rebuilds)."""


#: Cache entries whose every file matched its manifest's sha256 in this process.
_VERIFIED: set[Path] = set()


class BinaryCache:
    """~/.cache/podlife/bin/<key>/: finished builds, each with a manifest of its files."""

    MANIFEST = "podlife-build.json"
    STAMP = "podlife-verified.json"

    def __init__(self, root: Path | None = None) -> None:
        self.root = root or paths.cache_dir() / "bin"

    def entry(self, key: str) -> Path:
        return self.root / key

    def size(self, key: str) -> int:
        """Bytes the entry takes (its files), what a CI cache of it has to carry."""
        return sum(p.stat().st_size for p in self.entry(key).rglob("*")
                   if p.is_file() and not p.is_symlink())

    def is_complete(self, key: str, *, deep: bool = False) -> bool:
        """True when every file the manifest lists is there, with its size (and hash if deep)."""
        entry = self.entry(key)
        try:
            manifest = json.loads((entry / self.MANIFEST).read_text())
        except (OSError, ValueError):
            return False
        for name, meta in manifest.get("files", {}).items():
            path = entry / name
            if not path.is_file() or path.stat().st_size != meta["size"]:
                return False
            if deep and _sha256(path) != meta["sha256"]:
                return False
        return bool(manifest.get("files"))

    @contextlib.contextmanager
    def building(self, key: str) -> Iterator[None]:
        """Hold the entry's build lock: two podlife processes that need the same build (a
        `podlife build` and an upgrade, two matrix columns) build it once, the second
        waiting and then finding it complete. An flock, so a dead holder never blocks."""
        def wait(holder: str) -> None:
            print(f"podlife: waiting for {holder} to finish building {key}",
                  file=sys.stderr, flush=True)

        with flock.exclusive(self.root.parent / "locks" / f"build-{key}.lock",
                             f"pid {os.getpid()}", wait):
            yield

    def commit(self, key: str, staged: Path, meta: dict[str, object]) -> Path:
        """Move a finished build into place at once, replacing any damaged entry."""
        files = {p.name: {"size": p.stat().st_size, "sha256": _sha256(p)}
                 for p in staged.iterdir() if p.is_file()}
        (staged / self.MANIFEST).write_text(json.dumps({**meta, "files": files}, indent=2))
        entry = self.entry(key)
        if entry.exists():
            shutil.rmtree(entry)
        entry.parent.mkdir(parents=True, exist_ok=True)
        staged.rename(entry)
        _VERIFIED.add(entry)  # every file was hashed just now
        write_stamp(entry)
        return entry


def _refuse_shared_writes(path: Path) -> None:
    """A cached binary runs as root: refuse it if anyone but its owner (us) could have
    written it or the directories it sits in."""
    for part in [*reversed(path.parents), path]:
        if not part.exists() or not part.is_relative_to(paths.cache_dir()):
            continue
        info = part.stat()
        if info.st_uid != os.geteuid() or info.st_mode & 0o022:
            raise PodlifeError(f"{part} can be written by users other than its owner "
                               f"(mode {info.st_mode & 0o777:o}, uid {info.st_uid})",
                               f"run 'chmod go-w {part}' and chown it to yourself, or set "
                               "PODLIFE_CACHE to a private directory")


def verified_entry(cache: BinaryCache, key: str) -> Path:
    """The cache entry, after checking (once per process) its owner, its mode and every
    file's sha256 against the manifest: a binary is never run on its size alone."""
    entry = cache.entry(key)
    if entry in _VERIFIED:
        return entry
    for item in [entry, *entry.iterdir()]:
        _refuse_shared_writes(item)
    if not stamp_matches(entry):
        if not cache.is_complete(key, deep=True):
            raise CacheMismatch(f"a cached file of {key} does not match the sha256 in its "
                                "manifest", f"delete {entry} and run 'podlife build' to "
                                "rebuild it")
        write_stamp(entry)
    _VERIFIED.add(entry)
    return entry


def made_entry(cache: BinaryCache, key: str, make: Callable[[Path], None],
               meta: dict[str, object]) -> Path:
    """An entry that podlife makes itself in seconds (image archives): verified like a
    build, and made again by `make(staging dir)` when missing or when its bytes changed.
    A file others could write is still refused: that is not podlife's to repair."""
    with cache.building(key):
        if cache.is_complete(key):
            with contextlib.suppress(CacheMismatch):
                return verified_entry(cache, key)
        staged = cache.root / f".{key}.partial-{os.getpid()}"
        shutil.rmtree(staged, ignore_errors=True)
        staged.mkdir(parents=True, mode=0o755)
        try:
            make(staged)
            return cache.commit(key, staged, meta)
        finally:
            shutil.rmtree(staged, ignore_errors=True)


def _signatures(entry: Path) -> dict[str, list[int]]:
    """Each file's identity as the kernel keeps it: inode, size, mtime and ctime (ns)."""
    out = {}
    for path in sorted(entry.iterdir()):
        if path.is_file() and path.name != BinaryCache.STAMP:
            info = path.stat()
            out[path.name] = [info.st_ino, info.st_size, info.st_mtime_ns, info.st_ctime_ns]
    return out


def write_stamp(entry: Path) -> None:
    """Record that the files of `entry`, as they are now, matched their manifest."""
    stamp = entry / BinaryCache.STAMP
    stamp.write_text(json.dumps(_signatures(entry)))
    stamp.chmod(0o600)


def stamp_matches(entry: Path) -> bool:
    """True when no file of `entry` was written, replaced, added or removed since its stamp."""
    try:
        recorded = json.loads((entry / BinaryCache.STAMP).read_text())
    except (OSError, ValueError):
        return False
    return bool(recorded) and recorded == _signatures(entry)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
