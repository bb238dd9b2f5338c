"""An emptyDir carries data between a pod's containers: from an init container to the app,
and between containers running side by side, read-only where the mount says so."""

from __future__ import annotations

import hashlib

import pytest

from podlife.check import manifests
from podlife.check.framework import Framework
from podlife.check.instrument import instrument, run, serve
from podlife.check.ordering import exited_before_start, never_reported
from podlife.core.timeline import Timeline

# Fetch URL into FILE; retries while the stand-in's Service is still being wired up.
FETCH = """fetch() {
  n=0
  until wget -q -O "$2" "$1"; do
    n=$((n + 1)); [ "$n" -ge 20 ] && return 1
    ev retry "$1"; sleep 1
  done
}"""

# Report every file under a directory as `ev <event> "<name> <sha256>"`.
REPORT = """report() {
  for name in $(ls -A "$2"); do
    ev "$1" "$name $(sha256sum "$2/$name" | cut -d' ' -f1)"
  done
}"""

# The tutorial's clone step, for the git-source stand-in: files.txt lists what to fetch.
CLONE = f"""{FETCH}
{REPORT}
ev mount-listing "[$(ls -A /app | tr '\\n' ' ')]"
fetch http://git-source/files.txt /tmp/files.txt || exit 1
for name in $(cat /tmp/files.txt); do
  fetch "http://git-source/$name" "/app/$name" || exit 1
done
report wrote /app"""


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def checksums(timeline: Timeline, container: str, event: str) -> dict[str, str]:
    """{file: sha256} from a container's `<event> <file> <sha256>` reports."""
    return dict(e.detail.split(" ", 1) for e in timeline.of(container, event))


@pytest.mark.pattern("git-clone-emptydir")
def test_init_container_output_reaches_app(f: Framework) -> None:
    """Files an init container writes into an emptyDir are there, unchanged, for the app."""
    f.create_support("git-source")
    f.wait_support("git-source")
    app = serve(f"{REPORT}\nreport found /app\n"
                "ev running-main \"$(cat /app/main.py | sha256sum | cut -d' ' -f1)\"")
    f.create(instrument(manifests.load_one("git-clone-emptydir"),
                        {"clone-repo": run(CLONE), "app": app}, f.images))
    timeline = f.wait_reported("git-sync", "app")

    source = f.core.read_namespaced_config_map("git-source-content", f.namespace).data
    expected = {name: sha256(source[name]) for name in source["files.txt"].split()}
    written = checksums(timeline, "clone-repo", "wrote")
    found = checksums(timeline, "app", "found")
    assert written == expected, f"clone-repo wrote {written}, the source holds {expected}"
    assert found == written, f"app found {found}, clone-repo wrote {written}"
    assert timeline.first("app", "running-main").detail == expected["main.py"]
    exited_before_start(timeline, "clone-repo", "app")


@pytest.mark.pattern("git-clone-emptydir")
def test_emptydir_starts_empty(f: Framework) -> None:
    """The emptyDir is empty when the first container mounts it, before anything writes."""
    clone = run("ev mount-listing \"[$(ls -A /app | tr '\\n' ' ')]\"\n"
                "echo 'print(1)' > /app/main.py\necho seed > /app/.hidden")
    app = serve("ev mount-listing \"[$(ls -A /app | tr '\\n' ' ')]\"")
    f.create(instrument(manifests.load_one("git-clone-emptydir"),
                        {"clone-repo": clone, "app": app}, f.images))
    timeline = f.wait_reported("git-sync", "app")
    first = timeline.first("clone-repo", "mount-listing").detail
    assert first == "[]", f"the emptyDir was not empty when clone-repo started: {first}"
    # The listing is real: once written, the same command sees both files (dotfile too).
    seen = timeline.first("app", "mount-listing").detail
    assert seen == "[.hidden main.py ]", f"app saw {seen} after clone-repo wrote two files"


def log_shipper_pod(f: Framework, app: str, shipper: str) -> dict:
    """The tutorial's Basic Sidecar Pattern pod, both containers running the given bodies."""
    f.create_support("configmaps")  # fluent-bit-config, which the shipper mounts
    return instrument(manifests.load_one("log-shipper"),
                      {"app": serve(app), "log-shipper": serve(shipper)}, f.images)


@pytest.mark.pattern("log-shipper")
def test_running_containers_share_an_emptydir(f: Framework) -> None:
    """A file one running container writes to the shared emptyDir is read by the other."""
    # Written under a temporary name and renamed, so the reader never sees half a file.
    app = ("cat /proc/sys/kernel/random/uuid > /var/log/app/.handoff.tmp\n"
           "mv /var/log/app/.handoff.tmp /var/log/app/handoff.txt\n"
           "ev wrote \"$(sha256sum /var/log/app/handoff.txt | cut -d' ' -f1)\"")
    shipper = ("until [ -f /var/log/app/handoff.txt ]; do sleep 0.2; done\n"
               "ev read \"$(sha256sum /var/log/app/handoff.txt | cut -d' ' -f1)\"")
    f.create(log_shipper_pod(f, app, shipper))
    f.wait_reported("app-with-logging", "app")
    timeline = f.wait_reported("app-with-logging", "log-shipper")
    wrote = timeline.first("app", "wrote")
    read = timeline.first("log-shipper", "read")
    # The content is a fresh random UUID: equal digests mean the shipper read the app's file.
    assert read.detail == wrote.detail, (
        f"log-shipper read {read.detail}, the app wrote {wrote.detail}")


@pytest.mark.pattern("log-shipper")
def test_readonly_mount_refuses_writes(f: Framework) -> None:
    """A `readOnly: true` mount refuses writes, while the app writes to the same emptyDir."""
    attempt = ("if err=$(sh -c 'echo {who} > /var/log/app/from-{who}' 2>&1); "
               "then ev write-ok; else ev write-refused \"$err\"; fi")
    f.create(log_shipper_pod(f, attempt.format(who="app"), attempt.format(who="shipper")))
    f.wait_reported("app-with-logging", "app")
    timeline = f.wait_reported("app-with-logging", "log-shipper")
    never_reported(timeline, "app", "write-refused")
    timeline.first("app", "write-ok")
    never_reported(timeline, "log-shipper", "write-ok")
    refused = timeline.first("log-shipper", "write-refused").detail
    assert "Read-only file system" in refused, f"log-shipper's write failed otherwise: {refused}"
