"""The tutorial's real-world webapp Deployment: three init steps, an app and two sidecars.

Every replica must wait for the database, migrate with the credentials from its Secret,
fetch the static bundle from the CDN into a shared volume, and only then start the app
(which serves that bundle) beside a log shipper (tailing the app's logs from a second
shared volume) and a metrics exporter. The stand-ins (postgres, the CDN, the Secret and
the fluent-bit ConfigMap) take the place of the tutorial's external services.
"""

from __future__ import annotations

import pytest

from podlife.check import manifests
from podlife.check.expect import expect_container
from podlife.check.framework import Framework
from podlife.check.instrument import Script, instrument, run, serve
from podlife.check.ordering import expect_order, one_after_another
from podlife.check.pod_state import is_ready
from podlife.core.images import adapt_command
from podlife.model.requests import effective_requests

pytestmark = pytest.mark.pattern("webapp-deployment")

INIT_ORDER = ["wait-for-db", "migrate", "fetch-assets"]
RUNNING = ["app", "fluentbit", "metrics"]
REPLICAS = 3
LOG_LINE = "GET /assets/bundle.js 200"

# The tutorial's requests (275m cpu / 352Mi per pod) divided by five, same shape, so three
# replicas fit a small node beside whatever else a parallel run has scheduled there.
REQUESTS = {"app": ("40m", "64Mi"), "fluentbit": ("10m", "16Mi"), "metrics": ("5m", "8Mi")}


def webapp(f: Framework) -> dict:
    """The tutorial's webapp Deployment, every container instrumented."""
    deployment = manifests.load_one("webapp-deployment")
    spec = deployment["spec"]["template"]["spec"]
    wait_for_db = next(c for c in spec["initContainers"] if c["name"] == "wait-for-db")
    # The tutorial's own polling loop, with events around it (its `nc -z` adapted to the
    # image as keep_command would adapt it).
    poll = adapt_command(wait_for_db["command"], f.images.provider)[-1]
    scripts: dict[str, Script] = {
        "wait-for-db": run(poll + "\nev db-reachable"),
        "migrate": run('[ -n "$DATABASE_URL" ] || { ev no-database-url; exit 1; }\n'
                       'ev migrated "${DATABASE_URL%%:*}"'),
        "fetch-assets": run("wget -q -O /assets/bundle.js http://cdn/bundle.js || exit 1\n"
                            'ev fetched "$(wc -c < /assets/bundle.js)"'),
        "app": serve("[ -s /app/public/assets/bundle.js ] || { ev no-bundle; exit 1; }\n"
                     "ev bundle-present\n"
                     "httpd -p 3000 -h /app/public || exit 1\n"
                     f"echo '{LOG_LINE}' >> /var/log/app/app.log"),
        "fluentbit": serve("[ -f /fluent-bit/etc/fluent-bit.conf ] || exit 1\n"
                           "(tail -F /var/log/app/app.log 2>/dev/null | "
                           'while read -r line; do ev shipped "$line"; done) &'),
        "metrics": serve("mkdir -p /tmp/m && echo 'podlife_up 1' > /tmp/m/metrics\n"
                         "httpd -p 9102 -h /tmp/m || exit 1\nev serving 9102"),
    }
    deployment = instrument(deployment, scripts, f.images)
    spec = deployment["spec"]["template"]["spec"]
    spec["terminationGracePeriodSeconds"] = 1
    for container in spec["containers"]:
        cpu, memory = REQUESTS[container["name"]]
        container["resources"]["requests"] = {"memory": memory, "cpu": cpu}
    app = next(c for c in spec["containers"] if c["name"] == "app")
    # Ready means the app really serves the bundle the init step fetched.
    app["readinessProbe"] = {"httpGet": {"path": "/assets/bundle.js", "port": 3000},
                             "periodSeconds": 1}
    return deployment


def test_webapp_rollout(f: Framework) -> None:
    """The webapp rolls out 3 ready replicas, each running its init steps in order before the
    app, with both sidecars running beside it."""
    f.create_support("postgres", "secrets", "cdn", "configmaps")
    f.wait_support("postgres")
    f.wait_support("cdn")
    deployment = webapp(f)
    assert effective_requests(deployment) == {"cpu": 55, "memory": 88 * 1024**2}
    f.create(deployment)
    status = f.wait_deployment_available("webapp", REPLICAS, timeout=120)
    assert status["status"]["availableReplicas"] == REPLICAS

    pods = [f.api.sanitize_for_serialization(p) for p in f.core.list_namespaced_pod(
        f.namespace, label_selector="app=webapp").items]
    pods = [p for p in pods if not p["metadata"].get("deletionTimestamp")]
    assert len(pods) == REPLICAS, f"expected {REPLICAS} webapp pods, found " + str(
        [p["metadata"]["name"] for p in pods])
    for pod in pods:
        name = pod["metadata"]["name"]
        assert is_ready(pod), f"{name} is not Ready"
        # The log shipper picked up what the app wrote into the shared logs volume.
        f.wait_log(name, "fluentbit", lambda text: f"shipped {LOG_LINE}" in text, timeout=30,
                   what="the app's log line shipped")
        timeline = f.timeline(name)
        one_after_another(timeline, *INIT_ORDER, "app")
        for container in RUNNING[1:]:
            expect_order(timeline, ("fetch-assets", "exiting"), (container, "starting"))
        current = f.pod(name)
        for init in INIT_ORDER:
            expect_container(current, init, state="terminated", exit_code=0)
        for container in RUNNING:
            expect_container(current, container, state="running")
        assert timeline.first("wait-for-db", "db-reachable")
        assert timeline.first("migrate", "migrated").detail == "postgres"
        assert int(timeline.first("fetch-assets", "fetched").detail) > 0
        assert timeline.first("app", "bundle-present")
        assert timeline.first("metrics", "serving").detail == "9102"
        assert timeline.first("fluentbit", "ready")
