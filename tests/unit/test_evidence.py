"""Evidence of the pods a check deleted: they are gone from the namespace when it is
dumped, so what the model judged is written from the check's own record."""

from __future__ import annotations

from pathlib import Path

import yaml

from podlife.check.evidence import dump_finished
from podlife.core.timeline import Timeline


def test_the_deleted_pods_are_written_as_last_seen(tmp_path: Path) -> None:
    pod = {"metadata": {"name": "p", "deletionTimestamp": "2026-12-07T21:41:30Z",
                        "deletionGracePeriodSeconds": 2}}
    path = dump_finished({"p": (pod, Timeline("p"))}, tmp_path)
    assert path is not None
    assert list(yaml.safe_load_all(path.read_text())) == [pod]
    assert dump_finished({}, tmp_path / "none") is None
    assert not (tmp_path / "none").exists()
