"""Regular sidecars (plain extra containers) work beside the app: they share its volumes
and its network namespace, and keep working while the pod runs."""

from __future__ import annotations

import hashlib
import re
import uuid

import pytest

from podlife.check import manifests
from podlife.check.framework import Framework
from podlife.check.instrument import instrument, serve
from podlife.check.pod_state import container_status

LINES = 20


@pytest.mark.pattern("log-shipper")
def test_log_shipper_ships_app_log_in_order(f: Framework) -> None:
    """The log shipper reads the app's log through the shared volume and ships every line,
    in the order the app wrote them."""
    f.create_support("configmaps")  # fluent-bit-config, which the shipper mounts
    # The app appends its log over a couple of seconds, as a running app would.
    app = serve(f"for i in $(seq 1 {LINES}); do echo \"app log line $i\" >> /var/log/app/app.log;"
                f" sleep 0.1; done\nev wrote {LINES}")
    shipper = serve("tail -n +1 -F /var/log/app/app.log &")
    f.create(instrument(manifests.load_one("log-shipper"),
                        {"app": app, "log-shipper": shipper}, f.images))
    log = f.wait_log("app-with-logging", "log-shipper",
                     lambda text: f"app log line {LINES}\n" in text, timeout=90,
                     what=f"line {LINES} of the app's log")
    shipped = re.findall(r"^\S+ (app log line \d+)$", log, re.MULTILINE)
    expected = [f"app log line {i}" for i in range(1, LINES + 1)]
    assert shipped == expected, f"the shipper's stdout has {shipped}, the app wrote {expected}"
    timeline = f.wait_reported("app-with-logging", "app")
    assert timeline.first("app", "wrote").detail == str(LINES)


@pytest.mark.pattern("proxy-sidecar")
def test_proxy_sidecar_answers_on_localhost(f: Framework) -> None:
    """The app reaches the proxy sidecar at its HTTP_PROXY address, localhost:8080: the
    containers share one network namespace."""
    f.create_support("configmaps")  # envoy-config, which the proxy mounts
    token = uuid.uuid4().hex[:12]
    proxy = serve(f"mkdir -p /tmp/www && echo 'podlife proxy {token}' > /tmp/www/index.html\n"
                  "httpd -f -v -p 8080 -h /tmp/www &")
    # Both containers start together; the app retries until the proxy listens.
    app = serve('n=0\nuntil out=$(wget -q -O - "$HTTP_PROXY/index.html"); do\n'
                '  n=$((n + 1)); [ "$n" -ge 100 ] && break; sleep 0.2\ndone\n'
                'ev proxy-url "$HTTP_PROXY"\nev response "$out"')
    f.create(instrument(manifests.load_one("proxy-sidecar"), {"app": app, "proxy": proxy},
                        f.images))
    timeline = f.wait_reported("app-with-proxy", "app")
    assert timeline.first("app", "proxy-url").detail == "http://localhost:8080"
    response = timeline.first("app", "response").detail
    assert response == f"podlife proxy {token}", (
        f"the app got {response!r} from $HTTP_PROXY, not this pod's proxy")
    # httpd -v logs each client: the request came over the pod's loopback interface.
    clients = re.findall(r"^\S+ \[?([0-9a-f.:]+?)\]?:\d+: response:200$",
                         f.logs("app-with-proxy", "proxy"), re.MULTILINE)
    assert clients and all(c in ("127.0.0.1", "::1", "::ffff:127.0.0.1") for c in clients), (
        f"the proxy served clients {clients}, expected only loopback")


def served_page(f: Framework, marker: str, timeout: int = 60) -> str:
    """index.html as the nginx container serves it, once it contains marker (or timeout).

    The loop runs inside the container, so the check waits on what is served rather than
    on a guess; after `timeout` seconds it returns whatever is served then.
    """
    script = ('timeout "$1" sh -c \'until wget -q -O /tmp/page http://localhost/index.html '
              '2>/dev/null && grep -qF "$0" /tmp/page; do sleep 0.2; done\' "$0"\n'
              'cat /tmp/page')
    return f.exec("nginx-with-content", "nginx", ["sh", "-c", script, marker, str(timeout)])


@pytest.mark.pattern("git-sync-sidecar")
def test_git_sync_sidecar_serves_updated_content(f: Framework) -> None:
    """The git-sync sidecar keeps pulling the source; a change to the source is served by
    the running web server without restarting any container."""
    f.create_support("git-source")
    f.wait_support("git-source")
    git_sync = serve(r"""
sync() {
  wget -q -O /tmp/files.txt "$GITSYNC_REPO/files.txt" || return 1
  for name in $(cat /tmp/files.txt); do
    wget -q -O "$GITSYNC_ROOT/.$name.tmp" "$GITSYNC_REPO/$name" || return 1
    mv "$GITSYNC_ROOT/.$name.tmp" "$GITSYNC_ROOT/$name"
  done
}
ev period "$GITSYNC_PERIOD"
(
  last=
  while true; do
    if sync; then
      sum=$(sha256sum "$GITSYNC_ROOT/index.html" | cut -d' ' -f1)
      if [ "$sum" != "$last" ]; then ev synced "index.html $sum"; last=$sum; fi
    fi
    sleep "$GITSYNC_PERIOD"
  done
) &""")
    nginx = serve("httpd -f -p 80 -h /usr/share/nginx/html &")
    pod = instrument(manifests.load_one("git-sync-sidecar"),
                     {"nginx": nginx, "git-sync": git_sync}, f.images)
    # Sync from the in-cluster git-source stand-in, every second instead of every minute.
    overrides = {"GITSYNC_REPO": "http://git-source", "GITSYNC_PERIOD": "1s"}
    (sidecar,) = [c for c in pod["spec"]["containers"] if c["name"] == "git-sync"]
    for var in sidecar["env"]:
        var["value"] = overrides.get(var["name"], var["value"])
    f.create(pod)
    before = f.wait_ready("nginx-with-content")

    source = f.core.read_namespaced_config_map("git-source-content", f.namespace).data
    page = served_page(f, "served by the podlife git-source stand-in")
    assert page == source["index.html"], (
        f"nginx serves {page!r}, the source holds {source['index.html']!r}")

    token = uuid.uuid4().hex[:12]
    updated = f"<!doctype html>\n<title>podlife static content</title>\n<p>update {token}</p>\n"
    f.core.patch_namespaced_config_map("git-source-content", f.namespace,
                                       {"data": {"index.html": updated}})
    nudge_standin(f, "git-source", token)
    page = served_page(f, token, timeout=90)
    assert page == updated, f"nginx still serves {page!r} after the source changed"

    after = f.pod("nginx-with-content")
    for name in ("nginx", "git-sync"):
        old, new = container_status(before, name), container_status(after, name)
        assert new.get("restartCount", 0) == 0 and new["containerID"] == old["containerID"], (
            f"{name} was restarted to pick up the change: {old} -> {new}")
    # git-sync reports each new version it fetched; the last one is the update.
    digest = hashlib.sha256(updated.encode()).hexdigest()
    f.wait_log("nginx-with-content", "git-sync", lambda text: digest in text, timeout=30,
               what="git-sync reporting the updated index.html")
    timeline = f.timeline("nginx-with-content")
    assert timeline.first("git-sync", "period").detail == "1s"
    synced = [e.detail for e in timeline.of("git-sync", "synced")]
    assert synced[-1] == f"index.html {digest}", f"git-sync reported {synced}"


def nudge_standin(f: Framework, name: str, token: str) -> None:
    """Annotate a stand-in's pods so the kubelet syncs them now.

    A changed ConfigMap reaches a mounted volume at the kubelet's next sync of the pod (up
    to a minute on default kubelets); updating the pod triggers that sync at once. How
    fast the stand-in sees its own ConfigMap is not what the check is about.
    """
    for pod in f.core.list_namespaced_pod(
            f.namespace, label_selector=f"app.kubernetes.io/name={name}").items:
        f.core.patch_namespaced_pod(pod.metadata.name, f.namespace,
                                    {"metadata": {"annotations": {"podlife.dev/nudge": token}}})
