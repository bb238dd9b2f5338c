"""Build the cluster's components from their Go modules into a cache, once per version.

Nothing is downloaded but Go modules: Kubernetes, containerd, etcd and CoreDNS are all
compiled here from the module proxy, which is what an air-gapped CI runner can reach.
A cache entry is a directory that appears atomically (built aside, then renamed) with a
manifest of its files, so an interrupted or damaged build is noticed and redone.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from podlife.cluster.binary_cache import BinaryCache, verified_entry
from podlife.core import paths
from podlife.core.errors import PodlifeError
from podlife.core.versions import KubeVersion, toolchain_for

KUBE_BINARIES = ("kube-apiserver", "kube-controller-manager", "kube-scheduler", "kubelet",
                 "kube-proxy")
CONTAINERD_VERSION = "v2.2.9"
ETCD_VERSION = "v3.6.16"
COREDNS_VERSION = "v1.14.7"

Progress = Callable[[str, int, int], None]
"""Called as progress(label, done, total) while a build runs."""


@dataclass(frozen=True)
class GoBuild:
    """One Go build: a module at a version, the main packages to link, and how."""

    key: str
    module: str
    version: str
    binaries: dict[str, str]
    ldflags: str = "-s -w"
    toolchain: str = "local"
    replaces: dict[str, str] = field(default_factory=dict)
    cgo: bool = False
    #: Another Go module cache to compile from (the selftest's mutants: a shadow of the real
    #: one with a few files patched); the real module cache is never changed.
    gomodcache: str = ""
    #: A Go test binary (`go test -c`) of the one package in `binaries`, e.g. e2e.test.
    test: bool = False

    @property
    def go_directive(self) -> str:
        return "1.22" if self.toolchain != "local" else "1.26"


def kubernetes_build(version: KubeVersion) -> GoBuild:
    """The five Kubernetes binaries at one release, version-stamped like official builds."""
    stamp = "k8s.io/component-base/version"
    ldflags = " ".join([
        "-s -w",
        f"-X {stamp}.gitVersion={version.tag}",
        f"-X {stamp}.gitMajor={version.major}",
        f"-X {stamp}.gitMinor={version.minor}",
        f"-X {stamp}.gitTreeState=clean",
        f"-X k8s.io/client-go/pkg/version.gitVersion={version.tag}",
    ])
    return GoBuild(
        key=f"kubernetes-{version.tag}",
        module="k8s.io/kubernetes",
        version=version.tag,
        binaries={name: f"k8s.io/kubernetes/cmd/{name}" for name in KUBE_BINARIES},
        ldflags=ldflags,
        toolchain=toolchain_for(version),
    )


def kubernetes_tools_build(version: KubeVersion) -> GoBuild:
    """kubeadm and kubectl at one release, for kind's node image: a cache entry of its own,
    so the five-binary entry the local cluster uses stays as it is."""
    base = kubernetes_build(version)
    return GoBuild(key=f"{base.key}+kind-tools", module=base.module, version=base.version,
                   binaries={name: f"k8s.io/kubernetes/cmd/{name}"
                             for name in ("kubeadm", "kubectl")},
                   ldflags=base.ldflags, toolchain=base.toolchain)


def support_builds() -> list[GoBuild]:
    """containerd (with its runc shim and ctr), etcd and CoreDNS: shared by all versions."""
    return [
        GoBuild(
            key=f"containerd-{CONTAINERD_VERSION}",
            module="github.com/containerd/containerd/v2",
            version=CONTAINERD_VERSION,
            binaries={
                "containerd": "github.com/containerd/containerd/v2/cmd/containerd",
                "containerd-shim-runc-v2":
                    "github.com/containerd/containerd/v2/cmd/containerd-shim-runc-v2",
                "ctr": "github.com/containerd/containerd/v2/cmd/ctr",
            },
            ldflags=f"-s -w -X github.com/containerd/containerd/v2/version.Version="
                    f"{CONTAINERD_VERSION}",
        ),
        GoBuild(
            key=f"etcd-{ETCD_VERSION}",
            module="go.etcd.io/etcd/server/v3",
            version=ETCD_VERSION,
            binaries={"etcd": "go.etcd.io/etcd/server/v3"},
        ),
        GoBuild(
            key=f"coredns-{COREDNS_VERSION}",
            module="github.com/coredns/coredns",
            version=COREDNS_VERSION,
            binaries={"coredns": "github.com/coredns/coredns"},
        ),
    ]


def _staging_replaces(build_dir: Path, version: KubeVersion) -> dict[str, str]:
    """Replace each k8s.io staging module (a local path upstream) with its v0.Y.Z release."""
    upstream = _go(["go", "mod", "download", "-json", f"k8s.io/kubernetes@{version.tag}"],
                   build_dir, toolchain="local", sumdb_fallback=True)
    gomod = Path(json.loads(upstream)["GoMod"]).read_text()
    replaces = {}
    for line in gomod.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[1] == "=>" and parts[2].startswith("./staging/"):
            replaces[parts[0]] = f"{parts[0]} {version.staging_tag}"
    if not replaces:
        raise PodlifeError(f"k8s.io/kubernetes {version.tag} lists no staging modules",
                           "report this release to the podlife maintainers")
    return replaces


def _module_files(build: GoBuild, workdir: Path) -> None:
    """Write go.mod and an imports file: the pinned module set this build compiles.

    A go.mod and go.sum shipped with podlife (podlife/cluster/gobuild/<key>/) are used as they are;
    otherwise they are generated and resolved once, and kept in the work dir.
    """
    shipped = Path(__file__).parent / "gobuild" / _module_key(build)
    if (shipped / "go.mod").exists():
        for name in ("go.mod", "go.sum"):
            if (shipped / name).exists():
                shutil.copy(shipped / name, workdir / name)
    else:
        lines = [f"module podlife.local/build/{build.key}", "", f"go {build.go_directive}", "",
                 f"require {build.module} {build.version}", ""]
        if build.replaces:
            lines.append("replace (")
            lines += [f"\t{mod} => {target}" for mod, target in sorted(build.replaces.items())]
            lines.append(")")
        (workdir / "go.mod").write_text("\n".join(lines) + "\n")
    imports = "\n".join(f'\t_ "{pkg}"' for pkg in build.binaries.values())
    (workdir / "imports.go").write_text(
        f"//go:build tools\n\npackage tools\n\nimport (\n{imports}\n)\n")
    if not (shipped / "go.sum").exists():
        _go(["go", "mod", "tidy"], workdir, toolchain=build.toolchain, sumdb_fallback=True)


def _module_key(build: GoBuild) -> str:
    """The module set a build compiles: a mutant's is its release's (same go.mod/go.sum)."""
    return build.key.split("+", 1)[0]


def _go(cmd: list[str], cwd: Path, toolchain: str, env: dict[str, str] | None = None, *,
        sumdb_fallback: bool = False) -> str:
    """Run a go command; turn the usual failures into errors that say what to do.

    sumdb_fallback is for commands that resolve a build podlife ships no go.sum for.
    """
    full_env = {**os.environ, "GOTOOLCHAIN": toolchain, "GOFLAGS": "-mod=mod",
                **(env or {})}
    if shutil.which("go") is None:
        raise PodlifeError("Go is not installed (no 'go' on PATH)",
                           "install Go 1.22 or newer, e.g. 'apt-get install golang'")
    proc = subprocess.run(cmd, cwd=cwd, env=full_env, capture_output=True, text=True)
    if (sumdb_fallback and proc.returncode != 0 and "sumdb" in proc.stderr
            and "404" in proc.stderr):
        # The checksum database may lack entries the proxy still serves (seen for some
        # k8s.io staging releases). Only a build without a shipped go.sum (a release beyond
        # podlife's pinned ones) comes here: its k8s.io modules are then resolved through
        # the proxy alone, and the go.sum left in its work dir pins their hashes from then
        # on. Pinned releases and the support builds never need this: their go.sum ships in
        # podlife/cluster/gobuild/, made with the checksum database on.
        full_env["GONOSUMDB"] = "k8s.io"
        proc = subprocess.run(cmd, cwd=cwd, env=full_env, capture_output=True, text=True)
    if proc.returncode != 0:
        err = proc.stderr.strip()
        last = err.splitlines()[-1] if err else "no output"
        if "unknown revision" in err or "invalid version" in err or "not found" in err:
            raise PodlifeError(f"{' '.join(cmd[:3])} failed: {last}",
                               "check the version exists (podlife versions) and spell it like "
                               "1.33.5")
        if "dial tcp" in err or "proxy" in err.lower() or "timeout" in err:
            raise PodlifeError(f"the Go module proxy is unreachable: {last}",
                               "check GOPROXY and the network to it, then run the build again")
        raise PodlifeError(f"{' '.join(cmd[:3])} failed: {last}",
                           f"read the full output in {cwd}/build.log and retry")
    return proc.stdout


def build(spec: GoBuild, *, cache: BinaryCache | None = None, progress: Progress | None = None,
          force: bool = False) -> Path:
    """Build one GoBuild into the cache (or reuse it); returns the directory of binaries."""
    cache = cache or BinaryCache()
    if not force and cache.is_complete(spec.key):
        return verified_entry(cache, spec.key)
    with cache.building(spec.key):
        if not force and cache.is_complete(spec.key):  # built by the process we waited for
            return verified_entry(cache, spec.key)
        return _build(spec, cache, progress)


def _build(spec: GoBuild, cache: BinaryCache, progress: Progress | None) -> Path:
    if shutil.which("go") is None:
        raise PodlifeError(f"Go is needed to build {spec.key}, but there is no 'go' on PATH",
                           "install Go 1.22 or newer (e.g. apt-get install golang-go)")
    workdir = paths.cache_dir() / "work" / spec.key
    workdir.mkdir(parents=True, exist_ok=True)
    staged = cache.root / f".{spec.key}.partial-{os.getpid()}"
    if staged.exists():
        shutil.rmtree(staged)
    staged.mkdir(parents=True)
    started = time.monotonic()
    try:
        if spec.module == "k8s.io/kubernetes" and not spec.replaces:
            version = KubeVersion.parse(spec.version)
            shipped = Path(__file__).parent / "gobuild" / _module_key(spec) / "go.mod"
            if not shipped.exists():
                spec = GoBuild(**{**spec.__dict__,
                                  "replaces": _staging_replaces(workdir, version)})
        _module_files(spec, workdir)
        with _go_scratch(workdir) as scratch:
            _compile(spec, workdir, staged, progress, scratch)
        entry = cache.commit(spec.key, staged, {
            "module": spec.module, "version": spec.version, "toolchain": spec.toolchain,
            "build_seconds": round(time.monotonic() - started, 1),
        })
    finally:
        if staged.exists():
            shutil.rmtree(staged, ignore_errors=True)
    return entry


@contextlib.contextmanager
def _go_scratch(workdir: Path) -> Iterator[Path]:
    """Go's temporary work dirs (GOTMPDIR), inside the build's own dir: a go killed with
    SIGKILL (the way an interrupted build stops it) leaves its go-build* dir here, in
    podlife's cache, removed by the next build, instead of in the host's /tmp."""
    scratch = workdir / "gotmp"
    shutil.rmtree(scratch, ignore_errors=True)
    scratch.mkdir(parents=True)
    try:
        yield scratch
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _compile(spec: GoBuild, workdir: Path, out: Path, progress: Progress | None,
             scratch: Path | None = None) -> None:
    """go build every main package in one invocation, so shared packages compile once."""
    env = {**os.environ, "GOTOOLCHAIN": spec.toolchain, "GOFLAGS": "-mod=mod",
           **({"GOTMPDIR": str(scratch)} if scratch else {}),
           "CGO_ENABLED": "1" if spec.cgo else "0",
           **({"GOMODCACHE": spec.gomodcache} if spec.gomodcache else {})}
    total = 0
    if progress:
        test_deps = ["-test"] if spec.test else []
        listed = subprocess.run(["go", "list", "-deps", *test_deps, *spec.binaries.values()],
                                cwd=workdir,
                                env=env, capture_output=True, text=True)
        total = len(listed.stdout.split()) if listed.returncode == 0 else 0
    log_path = workdir / "build.log"
    # One binary per package: -o into a directory names each after its package's last element,
    # which is wrong for etcd (server/v3 -> v3) and CoreDNS, so link those one by one.
    by_dir = all(pkg.rsplit("/", 1)[-1] == name for name, pkg in spec.binaries.items())
    jobs = [["-o", f"{out}/", *spec.binaries.values()]] if by_dir and not spec.test else [
        ["-o", str(out / name), pkg] for name, pkg in spec.binaries.items()]
    verb = ["test", "-c", "-vet=off"] if spec.test else ["build"]
    with log_path.open("w") as log:
        for args in jobs:
            cmd = ["go", *verb, "-v", "-trimpath", "-ldflags", spec.ldflags, *args]
            log.write("$ " + " ".join(cmd) + "\n")
            log.flush()
            proc = subprocess.Popen(cmd, cwd=workdir, env=env, stdout=log,
                                    stderr=subprocess.PIPE, text=True, start_new_session=True)
            done = 0
            try:
                assert proc.stderr is not None
                for line in proc.stderr:
                    log.write(line)
                    done += 1
                    if progress:
                        progress(spec.key, min(done, total), total)
                code = proc.wait()
            except BaseException:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
                raise
            if code != 0:
                raise PodlifeError(f"building {spec.key} failed (go build exit {code})",
                                   "read the log, fix the toolchain or version, and retry",
                                   log=str(log_path))
    if progress:
        # Done: go reports only what it recompiles, so a warm cache never reaches total.
        progress(spec.key, total, total)


#: A binary asked its version answers at once; one that does not is not a kubelet.
