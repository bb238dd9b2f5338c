"""Turn a tutorial manifest into a deployable, observable one.

The tutorial's images (myapp:v1, fluent-bit, envoy...) are stand-ins for a user's own,
so a check keeps the manifest's structure (containers, order, volumes, restart policies,
probes, resources) and replaces what each container *does* with a small busybox script
that reports timestamped events. Images go through the image map, so the same check runs
on every provider.
"""

from __future__ import annotations

import copy
import shlex
from dataclasses import dataclass

from podlife.core.images import ImageMap, adapt_command
from podlife.core.timeline import MARKER

ORIGINAL_IMAGE = "podlife.dev/original-image."


@dataclass(frozen=True)
class Script:
    """What an instrumented container does.

    body: shell run after the 'starting' event; it may call `ev NAME [detail]`.
    serve: after the body, stay up (reporting 'ready') until SIGTERM instead of exiting.
    exit_code: the code to exit with when the body finishes (and serve is False).
    on_term: 'exit' (report and exit 0), 'fail' (report and exit 143, as work cut short),
             'ignore' (report, keep running until SIGKILL), or a number of seconds to keep
             working before exiting.
    """

    body: str = ""
    serve: bool = False
    exit_code: int = 0
    on_term: str | float = "exit"

    def render(self, container: str) -> str:
        name = shlex.quote(container)
        if self.on_term == "ignore":
            handler = "ev sigterm; ev ignoring-sigterm"
        elif self.on_term == "exit":
            handler = "ev sigterm; ev exiting 0; exit 0"
        elif self.on_term == "fail":
            handler = "ev sigterm; ev exiting 143; exit 143"
        else:
            handler = f"ev sigterm; sleep {float(self.on_term)}; ev exiting 0; exit 0"
        lines = [
            f'ev() {{ echo "{MARKER} {name} $*"; }}',
            f"on_term() {{ {handler}; }}",
            "trap on_term TERM",
            "ev starting",
        ]
        if self.body:
            lines.append(self.body)
        if self.serve:
            lines += ["ev ready", "while true; do sleep 1 & wait $!; done"]
        else:
            lines += [f"ev exiting {self.exit_code}", f"exit {self.exit_code}"]
        return "\n".join(lines)


def serve(body: str = "", on_term: str | float = "exit") -> Script:
    return Script(body=body, serve=True, on_term=on_term)


def run(body: str = "", exit_code: int = 0) -> Script:
    return Script(body=body, exit_code=exit_code)


def default_script(container: dict, is_init: bool) -> Script:
    """What an unlisted container does: an init container reports and exits 0; a sidecar
    (restartPolicy Always) or an app container reports and stays up until SIGTERM."""
    if is_init and container.get("restartPolicy") != "Always":
        return run()
    return serve()


def pod_spec(obj: dict) -> dict:
    """The pod spec inside a Pod, Deployment, Job (or any object with a pod template)."""
    if obj["kind"] == "Pod":
        return obj["spec"]
    return obj["spec"]["template"]["spec"]


def containers(obj: dict) -> list[dict]:
    spec = pod_spec(obj)
    return list(spec.get("initContainers") or []) + list(spec.get("containers") or [])


def instrument(obj: dict, scripts: dict[str, Script], images: ImageMap,
               keep_command: tuple[str, ...] = ()) -> dict:
    """A copy of obj where every container runs a script on the podlife busybox image.

    A container named in neither `scripts` nor keep_command (which keeps the manifest's
    own command) gets `default_script`: no container runs an image podlife did not choose.
    A script for a container the manifest lacks is a mistake in the check and fails.
    The original image is kept in an annotation, for the evidence.
    """
    result = copy.deepcopy(obj)
    names = {c["name"] for c in containers(result)}
    unknown = set(scripts) - names
    if unknown:
        raise ValueError(f"{obj['metadata']['name']}: scripts for unknown containers "
                         f"{sorted(unknown)}; it has {sorted(names)}")
    init_names = {c["name"] for c in pod_spec(result).get("initContainers") or []}
    scripts = {c["name"]: default_script(c, c["name"] in init_names)
               for c in containers(result) if c["name"] not in keep_command} | scripts
    meta = result["metadata"] if obj["kind"] == "Pod" else result["spec"]["template"].setdefault(
        "metadata", {})
    annotations = meta.setdefault("annotations", {})
    for container in containers(result):
        annotations[ORIGINAL_IMAGE + container["name"]] = container.get("image", "")
        container["image"] = images.ref("busybox")
        container["imagePullPolicy"] = "IfNotPresent"
        if container["name"] in scripts:
            container["command"] = ["sh", "-c", scripts[container["name"]].render(
                container["name"])]
            container.pop("args", None)
        elif container.get("command"):
            container["command"] = adapt_command(container["command"], images.provider)
    return result


def map_images(obj: dict, images: ImageMap) -> dict:
    """A copy of obj whose containers' logical image names are resolved for this cluster."""
    result = copy.deepcopy(obj)
    if result.get("kind") not in ("Pod", "Deployment", "Job", "StatefulSet", "DaemonSet"):
        return result
    for container in containers(result):
        container["image"] = images.ref(container["image"].split(":")[0])
        container["imagePullPolicy"] = "IfNotPresent"
    return result


def with_namespace(obj: dict, namespace: str) -> dict:
    result = copy.deepcopy(obj)
    result["metadata"]["namespace"] = namespace
    return result
