"""Mutants: small patches to the Kubernetes source, each breaking one pod-lifecycle behaviour.

A mutant is a unified diff under mutants/, against files of the Go module cache at the
default release (paths `a/<module>@<version>/<file>`), with a short header:

    # <what the mutant breaks, one line>
    # binaries: kubelet [kube-scheduler ...]   (the binaries rebuilt with the patch)
    # unit-tests: <Go package whose upstream tests must fail with the patch> [-run REGEX]

The patched files are written beside the build and handed to `go build -overlay`, so the
module cache is never touched and the Go build cache recompiles only what the patch changes.
"""

from __future__ import annotations

import hashlib
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from podlife.core.errors import PodlifeError

MUTANT_DIR = Path(__file__).parent / "mutants"
_FILE = re.compile(r"^\+\+\+ b/(\S+)", re.MULTILINE)


@dataclass(frozen=True)
class Mutant:
    name: str
    description: str
    binaries: tuple[str, ...]
    unit_tests: str
    diff: Path

    @property
    def build_key(self) -> str:
        """Names its build by the patch's content, so an edited patch is rebuilt, never
        served from the cache of the old one."""
        digest = hashlib.sha256(self.diff.read_bytes()).hexdigest()[:10]
        return f"{self.name}-{digest}"

    def files(self) -> list[str]:
        """The module-cache-relative paths the diff changes (module@version/...)."""
        return _FILE.findall(self.diff.read_text())


def _parse(path: Path) -> Mutant:
    header: dict[str, str] = {}
    description = ""
    for line in path.read_text().splitlines():
        if not line.startswith("# "):
            break
        key, sep, value = line[2:].partition(": ")
        if sep and key in ("binaries", "unit-tests"):
            header[key] = value.strip()
        elif not description:
            description = line[2:].strip()
    if not (description and header.get("binaries") and header.get("unit-tests")):
        raise PodlifeError(f"mutant {path.name} lacks its header",
                           "start it with '# <description>', '# binaries: ...' and "
                           "'# unit-tests: <package>' lines")
    return Mutant(path.stem, description, tuple(header["binaries"].split()),
                  header["unit-tests"], path)


def all_mutants() -> list[Mutant]:
    return [_parse(p) for p in sorted(MUTANT_DIR.glob("*.diff"))]


def find(names: list[str] | None) -> list[Mutant]:
    """The named mutants (all when none are named); an unknown name is one clear error."""
    known = {m.name: m for m in all_mutants()}
    if not names:
        return list(known.values())
    unknown = [n for n in names if n not in known]
    if unknown:
        raise PodlifeError(f"no mutant named {', '.join(unknown)}",
                           f"pick from: {', '.join(known)}")
    return [known[n] for n in names]


def module_cache() -> Path:
    out = subprocess.run(["go", "env", "GOMODCACHE"], capture_output=True, text=True,
                         check=False)
    if out.returncode != 0 or not out.stdout.strip():
        raise PodlifeError("cannot find the Go module cache ('go env GOMODCACHE' failed)",
                           "install Go and build the default release first (podlife build)")
    return Path(out.stdout.strip())


def shadow_module_cache(mutant: Mutant, outdir: Path) -> Path:
    """A Go module cache that is the real one but for the files the mutant patches.

    Go refuses overlays of module-cache files, and a `replace` of the whole module would
    recompile all of it. So the shadow links every module of the real cache, and holds a
    hard-linked copy (cheap) of each patched module in which only the patched files are
    new. Builds run with -trimpath, so unchanged packages hit the Go build cache.
    """
    real = module_cache()
    shadow = outdir / "gomodcache"
    if shadow.exists():
        shutil.rmtree(shadow)
    modules = sorted({Path(*Path(rel).parts[:_module_depth(rel)]) for rel in mutant.files()})
    _link_tree(real, shadow, {m.parts[:i + 1] for m in modules for i in range(len(m.parts))},
               set(modules))
    for rel in mutant.files():
        (shadow / rel).parent.chmod(0o755)  # module dirs are read-only; patch replaces files
    proc = subprocess.run(["patch", "-p1", "--batch", "--forward", "-d", str(shadow),
                           "-i", str(mutant.diff)], capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise PodlifeError(f"mutant {mutant.name} does not apply: {proc.stdout.strip()}",
                           "regenerate the diff against the default release's source")
    return shadow


def _module_depth(rel: str) -> int:
    """Path parts up to and including the one holding '@' (the module@version directory)."""
    parts = Path(rel).parts
    return next(i + 1 for i, part in enumerate(parts) if "@" in part)


def _link_tree(real: Path, shadow: Path, on_path: set[tuple[str, ...]],
               copied: set[Path], prefix: tuple[str, ...] = ()) -> None:
    """Symlink real's entries into shadow, descending only along the patched modules' paths;
    a patched module itself becomes a hard-linked copy whose files patch may replace."""
    shadow.mkdir(parents=True, exist_ok=True)
    for entry in real.iterdir():
        here = (*prefix, entry.name)
        target = shadow / entry.name
        if Path(*here) in copied:
            subprocess.run(["cp", "-al", str(entry), str(target)], check=True)
            target.chmod(0o755)
        elif here in on_path:
            _link_tree(entry, target, on_path, copied, here)
        else:
            target.symlink_to(entry)
