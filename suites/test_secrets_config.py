"""Init containers get what setup needs: a Secret as env, config fetched into a shared volume.

From the tutorial's Multiple Init Containers pod. Secret values never appear in output:
containers report SHA-256 digests, which the check compares with digests it computes.
"""

from __future__ import annotations

import base64
import hashlib

import pytest

from podlife.check import manifests
from podlife.check.expect import expect_container
from podlife.check.framework import Framework
from podlife.check.instrument import Script, instrument, run, serve

pytestmark = pytest.mark.pattern("multiple-init-containers")

DIGEST = "$(printf %s \"$DATABASE_URL\" | sha256sum | cut -d' ' -f1)"
# Reports whether DATABASE_URL is set at all, without its value.
HAS_URL = ('if [ -n "${DATABASE_URL+set}" ]; then ev database-url set; '
           'else ev database-url unset; fi')


def myapp_pod(f: Framework, scripts: dict[str, Script],
              keep_command: tuple[str, ...] = ()) -> dict:
    return instrument(manifests.load_one("multiple-init-containers"), scripts, f.images,
                      keep_command=keep_command)


def test_secret_env_reaches_the_init_container_that_needs_it(f: Framework) -> None:
    """A secretKeyRef env var gives run-migrations the Secret's value, and only it."""
    f.create_support("secrets")
    f.create(myapp_pod(f, {
        "fetch-config": run(HAS_URL),
        "run-migrations": run(f"{HAS_URL}\nev database-url-sha256 \"{DIGEST}\""),
        "warm-cache": run(HAS_URL),
        "app": serve(HAS_URL),
    }))
    timeline = f.wait_reported("myapp", "app")

    secret = f.core.read_namespaced_secret("db-secret", f.namespace)
    expected = hashlib.sha256(base64.b64decode(secret.data["url"])).hexdigest()
    assert timeline.first("run-migrations", "database-url").detail == "set", (
        "run-migrations has no DATABASE_URL")
    got = timeline.first("run-migrations", "database-url-sha256").detail
    assert got == expected, (
        f"run-migrations' DATABASE_URL has sha256 {got}, Secret db-secret/url has {expected}")
    # env is per container: the others in the pod never see the Secret.
    for other in ("fetch-config", "warm-cache", "app"):
        assert timeline.first(other, "database-url").detail == "unset", (
            f"{other} sees DATABASE_URL, which only run-migrations declares")


def test_config_fetched_by_init_container_is_what_app_reads(f: Framework) -> None:
    """The config fetch-config downloads into the shared volume is what the app reads."""
    f.create_support("secrets", "config-server")
    f.wait_support("config-server")
    # fetch-config keeps the tutorial's own `wget -O /config/app.conf http://config-server/...`
    f.create(myapp_pod(f, {
        "run-migrations": run(),
        "warm-cache": run(),
        "app": serve("ev config-sha256 \"$(sha256sum /config/app.conf | cut -d' ' -f1)\""),
    }, keep_command=("fetch-config",)))
    pod = f.wait_ready("myapp")
    expect_container(pod, "fetch-config", state="terminated", exit_code=0)

    served = f.core.read_namespaced_config_map("config-server-content", f.namespace).data
    expected = hashlib.sha256(served["app.conf"].encode()).hexdigest()
    got = f.wait_reported("myapp", "app").first("app", "config-sha256").detail
    assert got == expected, (
        f"app read /config/app.conf with sha256 {got}; config-server serves {expected}")
