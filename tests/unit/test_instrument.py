"""Instrumented containers: the scripts they run and the manifests they replace."""

from __future__ import annotations

import subprocess

import pytest

from podlife.check import manifests
from podlife.check.instrument import instrument, run, serve
from podlife.core import images


def test_script_reports_events_and_exit_code() -> None:
    """A rendered script really prints its events and exits as told (run by busybox sh)."""
    script = run("ev did-work", exit_code=3).render("setup")
    proc = subprocess.run(["busybox", "sh", "-c", script], capture_output=True, text=True)
    assert proc.returncode == 3
    assert proc.stdout.split("\n")[:3] == ["podlife-event setup starting",
                                           "podlife-event setup did-work",
                                           "podlife-event setup exiting 3"]


def test_serve_script_answers_sigterm() -> None:
    script = serve().render("app")
    proc = subprocess.Popen(["busybox", "sh", "-c", script], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "podlife-event app starting"
    assert proc.stdout.readline().strip() == "podlife-event app ready"
    proc.terminate()
    rest = proc.stdout.read()
    assert proc.wait(timeout=10) == 0
    assert "podlife-event app sigterm" in rest and "podlife-event app exiting 0" in rest


def test_instrument_replaces_every_container_and_keeps_structure() -> None:
    pod = manifests.load_one("native-sidecar")
    out = instrument(pod, {"log-shipper": serve(), "app": run()}, images.ImageMap("local"))
    assert out["spec"]["initContainers"][0]["restartPolicy"] == "Always"
    assert out["spec"]["volumes"] == pod["spec"]["volumes"]
    for container in out["spec"]["initContainers"] + out["spec"]["containers"]:
        assert container["image"] == images.ImageMap("local").ref("busybox")
    annotations = out["metadata"]["annotations"]
    assert annotations["podlife.dev/original-image.app"] == "myapp:v1"
    with pytest.raises(ValueError, match="unknown containers"):
        instrument(pod, {"nope": run()}, images.ImageMap("local"))


def test_instrument_gives_unlisted_containers_a_default_script() -> None:
    """Init containers run and exit 0; sidecars and app containers serve until SIGTERM."""
    pod = manifests.load_one("multiple-init-containers")
    pod["spec"]["initContainers"][1]["restartPolicy"] = "Always"
    out = instrument(pod, {}, images.ImageMap("local"))
    first, sidecar, last = out["spec"]["initContainers"]
    assert "ev exiting 0" in first["command"][2] and "ev ready" not in first["command"][2]
    assert "ev ready" in sidecar["command"][2] and "ev ready" not in last["command"][2]
    assert "ev ready" in out["spec"]["containers"][0]["command"][2]
