"""The suite's fixed generated pods, drawn once per grammar and kept in podlife's cache.

Drawing them (hypothesis, a fixed seed, 25 draws per pod kept, then chosen to cover every
tagged behaviour) costs several CPU seconds, and every xdist worker collects the suite:
the first process computes them under a lock, the others read the file. The key is the
grammar's source and hypothesis's version, so a changed grammar draws afresh."""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict
from pathlib import Path

import hypothesis

from podlife.core import flock, paths
from podlife.model import coverage, generated, jobs, restarts, strategies
from podlife.model.generated import Behaviour, GenContainer, GenPod, JobSpec


def _key(count: int) -> str:
    digest = hashlib.sha256(f"{count} {hypothesis.__version__}".encode())
    for module in (strategies, generated, coverage, jobs, restarts):
        digest.update(Path(module.__file__ or "").read_bytes())
    return digest.hexdigest()[:16]


def _load(data: list[dict]) -> list[GenPod]:
    pods = []
    for pod in data:
        containers = tuple(GenContainer(**{**c, "behaviour": Behaviour(**c["behaviour"]),
                                           "restart_on": tuple(c.get("restart_on") or ())})
                           for c in pod["containers"])
        job = None if pod.get("job") is None else JobSpec(**pod["job"])
        pods.append(GenPod(**{**pod, "containers": containers, "job": job}))
    return pods


def fixed_examples(count: int) -> list[GenPod]:
    """strategies.fixed_examples(count), computed once per grammar on this machine."""
    path = paths.cache_dir() / "generated" / f"fixed-{_key(count)}.json"
    if path.exists():
        return _load(json.loads(path.read_text(encoding="utf-8")))
    with flock.exclusive(path.with_suffix(".lock"), f"pid {os.getpid()}", lambda _: None):
        if not path.exists():
            pods = strategies.fixed_examples(count)
            partial = path.with_suffix(f".{os.getpid()}.tmp")
            partial.write_text(json.dumps([asdict(p) for p in pods]), encoding="utf-8")
            partial.replace(path)
    return _load(json.loads(path.read_text(encoding="utf-8")))
