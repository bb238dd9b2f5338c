"""verify's pure parts: the pinned spec list, JUnit to per-spec results, upstream image names,
e2e.test's listing, and which failures a known host deviation explains. No cluster, no Go."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from podlife.core.errors import PodlifeError
from podlife.run.verify import causes, e2e, junit, manifest, run, specs

INIT = ("[sig-node] InitContainer [NodeConformance] should invoke init containers on a "
        "RestartNever pod")


def test_shipped_list_loads_and_ci_is_a_short_subset() -> None:
    full, ci = specs.load("full"), specs.load("ci")
    assert len(full) >= 20
    assert 3 <= len(ci) <= 8
    assert set(ci) <= set(full)
    areas = {entry.area for entry in full}
    for area in ("init-containers", "sidecars", "lifecycle-hooks", "probes", "termination",
                 "restart-policy", "resize-init-containers"):
        assert area in areas, f"the full list covers no {area}"


def test_unknown_list_and_malformed_entries_are_errors_naming_the_entry() -> None:
    with pytest.raises(PodlifeError, match="no spec list named 'fast'"):
        specs.load("fast")
    with pytest.raises(PodlifeError, match=r"specs\[1\] needs exactly one"):
        specs.parse({"specs": [{"area": "a", "spec": "x"},
                               {"area": "a", "spec": "y", "focus": "z"}]})
    with pytest.raises(PodlifeError, match=r"specs\[0\] focus is not a regex"):
        specs.parse({"specs": [{"area": "a", "focus": "("}]})
    with pytest.raises(PodlifeError, match="twice"):
        specs.parse({"specs": [{"area": "a", "spec": "x"}, {"area": "b", "spec": "x"}]})
    with pytest.raises(PodlifeError, match="unknown keys"):
        specs.parse({"specs": [{"area": "a", "spec": "x", "tags": []}]})


def test_exact_names_become_go_regexes_matching_only_themselves() -> None:
    name = '[sig-node] Probing container should be restarted with a exec "cat /tmp/health" ' \
           "liveness probe [NodeConformance] [Conformance]"
    entry = specs.Entry(area="probes", spec=name)
    regex = e2e.exact_focus([name])
    # Go's RE2 rejects escapes of letters, digits and spaces: only punctuation is escaped.
    assert "\\ " not in regex and '\\"' not in regex and "\\[" in regex
    assert re.fullmatch(regex, f"{e2e.SUITE} {name}")
    assert not re.search(regex, f"{e2e.SUITE} {name} extra")
    assert entry.matches(name) and not entry.matches(name[:-1])


def test_exact_names_match_across_releases_whose_tags_moved() -> None:
    v137 = ("[sig-node] InitContainer should invoke init containers on a RestartNever pod "
            "[Conformance] [NodeConformance]")
    v131 = ("[sig-node] InitContainer [NodeConformance] should invoke init containers on a "
            "RestartNever pod [Conformance]")
    entry = specs.Entry(area="init-containers", spec=v137)
    assert entry.matches(v131)
    assert specs.untagged(v131) == "InitContainer should invoke init containers on a " \
                                   "RestartNever pod"
    assert not entry.matches(v131.replace("RestartNever", "RestartAlways"))
    # the name as written wins over another that differs only by its tags
    chosen, _ = run.select([entry], [v131, v137])
    assert chosen == [(entry, v137)]


def test_focus_entries_match_by_search() -> None:
    entry = specs.Entry(area="hooks", focus=r"Restartable Init Container Lifecycle Hook .* exec")
    assert entry.matches("[sig-node] [NodeConformance] Restartable Init Container Lifecycle "
                         "Hook when create a pod with lifecycle hook should execute prestop "
                         "exec hook properly")
    assert not entry.matches("[sig-node] Container Lifecycle Hook ... exec")


RESIZE = ("[sig-node] Pod InPlace Resize Container [FeatureGate:InPlacePodVerticalScaling] "
          "[Beta] pod-resize")
JUNIT = """<?xml version="1.0" encoding="UTF-8"?>
<testsuites tests="4" disabled="3" errors="0" failures="1" time="93.1">
  <testsuite name="Kubernetes e2e suite" package="/" tests="4" disabled="0" skipped="1"
             errors="0" failures="1" time="93.1" timestamp="2026-12-02T01:00:00">
    <testcase name="[SynchronizedBeforeSuite]" classname="Kubernetes e2e suite"
              status="passed" time="0.2"></testcase>
    <testcase name="[It] {init}" classname="Kubernetes e2e suite" status="passed"
              time="12.5"></testcase>
    <testcase name="[It] {resize}" classname="Kubernetes e2e suite" status="failed"
              time="70.25">
      <failure type="failed">[FAILED] Timed out: container c1 oom_score_adj = 1000, expected -997
In [It] at: pod_resize.go:140</failure>
      <system-err>log</system-err>
    </testcase>
    <testcase name="[It] [sig-apps] Something else" classname="Kubernetes e2e suite"
              status="skipped" time="0">
      <skipped message="skipped"></skipped>
    </testcase>
  </testsuite>
</testsuites>
""".replace("{init}", INIT).replace("{resize}", RESIZE)


def test_junit_gives_one_result_per_spec_with_status_time_and_message() -> None:
    results = {r.name: r for r in junit.parse(JUNIT)}
    assert set(results) == {INIT, RESIZE, "[sig-apps] Something else"}
    assert results[INIT].status == "passed" and results[INIT].seconds == 12.5
    resize = next(r for name, r in results.items() if "resize" in name)
    assert resize.status == "failed" and resize.seconds == 70.25
    assert "oom_score_adj" in resize.message
    assert results["[sig-apps] Something else"].status == "skipped"


def test_broken_junit_is_an_error_saying_so() -> None:
    with pytest.raises(PodlifeError, match="not valid JUnit XML"):
        junit.parse("<testsuites><testcase", source="x.xml")


def test_written_junit_reads_back_the_same(tmp_path: Path) -> None:
    results = [junit.SpecResult(INIT, "passed", 1.5),
               junit.SpecResult("b spec", "failed", 2.0, "boom\nsecond line"),
               junit.SpecResult("c spec", "absent", 0.0, "no such spec")]
    path = junit.write(tmp_path / "junit.xml", "suite", results, 3.5)
    back = {r.name: r for r in junit.parse(path.read_text())}
    assert back[INIT].status == "passed" and back[INIT].seconds == 1.5
    assert back["b spec"].status == "failed" and back["b spec"].message == "boom\nsecond line"
    assert back["c spec"].status == "skipped"  # JUnit has no "absent": a skip with the reason
    assert back["c spec"].message == "no such spec"


MANIFEST_GO = '''
var (
	initRegistry = RegistryList{
		PromoterE2eRegistry:      "registry.k8s.io/e2e-test-images",
		GcRegistry:               "registry.k8s.io",
		PrivateRegistry:          "gcr.io/k8s-authenticated-test",
	}
)

func initImageConfigs(list RegistryList) (map[ImageID]Config, map[ImageID]Config) {
	configs := map[ImageID]Config{}
	configs[AgnhostPrev] = Config{list.PromoterE2eRegistry, "agnhost", "2.55"}
	configs[Agnhost] = Config{list.PromoterE2eRegistry, "agnhost", "2.66.1"}
	configs[AgnhostPrivate] = Config{list.PrivateRegistry, "agnhost", "2.6"}
	configs[BusyBox] = Config{list.PromoterE2eRegistry, "busybox", "1.37.0-2"}
	// Pause - when these values are updated, also update cmd/kubelet/...
	configs[Pause] = Config{list.GcRegistry, "pause", "3.10.2"}
'''


def test_image_names_come_from_manifest_go(tmp_path: Path) -> None:
    names = manifest.image_names(MANIFEST_GO)
    assert names["Agnhost"] == "registry.k8s.io/e2e-test-images/agnhost:2.66.1"
    assert names["AgnhostPrev"] == "registry.k8s.io/e2e-test-images/agnhost:2.55"
    assert names["AgnhostPrivate"] == "gcr.io/k8s-authenticated-test/agnhost:2.6"
    assert names["Pause"] == "registry.k8s.io/pause:3.10.2"
    tree = tmp_path / "kubernetes"
    (tree / manifest.MANIFEST_GO).parent.mkdir(parents=True)
    (tree / manifest.MANIFEST_GO).write_text(MANIFEST_GO)
    assert manifest.built_images(tree) == {
        "Agnhost": "registry.k8s.io/e2e-test-images/agnhost:2.66.1",
        "BusyBox": "registry.k8s.io/e2e-test-images/busybox:1.37.0-2",
        "Pause": "registry.k8s.io/pause:3.10.2"}


def test_manifest_naming_an_undefined_registry_or_lacking_an_image_is_an_error(
        tmp_path: Path) -> None:
    with pytest.raises(PodlifeError, match=r"list\.NoSuchRegistry"):
        manifest.image_names(MANIFEST_GO.replace("list.GcRegistry", "list.NoSuchRegistry"))
    tree = tmp_path / "kubernetes"
    (tree / manifest.MANIFEST_GO).parent.mkdir(parents=True)
    (tree / manifest.MANIFEST_GO).write_text(MANIFEST_GO.replace("configs[BusyBox]", "x"))
    with pytest.raises(PodlifeError, match="no BusyBox image"):
        manifest.built_images(tree)


def test_listing_parses_and_absent_entries_are_kept() -> None:
    listing = ("The following spec names can be used with 'ginkgo run --focus/skip':\n"
               f"    test/e2e/common/node/init_container.go:178: {INIT}\n"
               "    test/e2e/common/node/lifecycle_hook.go:163: [sig-node] Container "
               "Lifecycle Hook when create a pod with lifecycle hook should execute poststart"
               " exec hook properly [NodeConformance] [Conformance]\n\n")
    listed = e2e.parse_listing(listing)
    assert listed[0] == INIT and len(listed) == 2
    present = specs.Entry(area="init-containers", spec=INIT)
    hooks = specs.Entry(area="lifecycle-hooks", focus="Container Lifecycle Hook .* exec")
    gone = specs.Entry(area="resize-init-containers", spec="[sig-node] not in this release")
    chosen, absent = run.select([present, hooks, gone], listed)
    assert [name for _, name in chosen] == listed
    assert absent == [gone]
    done = run.outcomes(chosen, absent, [junit.SpecResult(n, "passed", 1.0) for n in listed],
                        "v1.31.0")
    assert [o.status for o in done] == ["passed", "passed", "absent"]
    assert "v1.31.0" in done[-1].message


def test_shards_split_every_spec_once() -> None:
    names = [f"s{i}" for i in range(7)]
    groups = e2e.shards_of(names, 3)
    assert sorted(n for g in groups for n in g) == sorted(names) and len(groups) == 3
    assert e2e.shards_of(names[:1], 4) == [["s0"]]
    focus = e2e.exact_focus(["a (b)", "c"])
    # ginkgo matches "<suite description> <full name>" (seen: a bare ^name selects nothing)
    assert re.fullmatch(focus, "Kubernetes e2e suite a (b)")
    assert not re.fullmatch(focus, "Kubernetes e2e suite a b")
    assert not re.fullmatch(focus, "a (b)")


def test_only_failures_naming_oom_score_adj_on_a_cluster_with_the_deviation_are_labelled(
        ) -> None:
    dev = {"no-cap-sys-resource"}
    message = "oom_score_adj value 0 not equal to expected -997 for container c1 in pod p"
    assert causes.deviation_for(message, dev) == "no-cap-sys-resource"
    assert causes.deviation_for(message, set()) == ""  # a host with the capability
    assert causes.deviation_for("timed out waiting for the pod to be running", dev) == ""
    entry = specs.Entry(area="resize", spec="x")
    failed = junit.SpecResult("x", "failed", 1.0, message)
    (outcome,) = run.outcomes([(entry, "x")], [], [failed], "v1.37.2", dev)
    assert outcome.deviation == "no-cap-sys-resource" and outcome.status == "failed"
    outcome.message = "[FAILED] Verifying pod resources resize state. Pod: {\n  " + message
    assert run.headline(outcome) == message  # the line that names the cause
    passed = junit.SpecResult("x", "passed", 1.0, "oom_score_adj mentioned in passing")
    assert run.outcomes([(entry, "x")], [], [passed], "v1.37.2", dev)[0].deviation == ""


def test_deviations_come_from_the_cluster_record() -> None:
    recorded = [{"id": "no-cap-sys-resource", "what": "w", "cause": "c", "checks": []},
                {"id": "cgroup-v1", "what": "w", "cause": "c", "checks": []}]
    assert causes.cluster_deviations(recorded) == {"no-cap-sys-resource", "cgroup-v1"}
    assert causes.cluster_deviations([]) == set()


def test_e2e_build_is_a_test_binary_of_the_release_with_its_toolchain(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """e2e.test is `go test -c` (no vet: a build, not a check), stamped like the release;
    agnhost a plain build sharing e2e.test's shipped module set."""
    from podlife.cluster import build
    from podlife.core import versions
    from podlife.run.verify import builds

    v131 = versions.KubeVersion.parse("1.31.0")
    spec = builds.e2e_build(v131)
    assert spec.test and spec.toolchain == "go1.23.12" and spec.key == "e2e-v1.31.0"
    assert "gitVersion=v1.31.0" in spec.ldflags
    agnhost = builds.agnhost_build(v131)
    assert not agnhost.test and build._module_key(agnhost) == spec.key
    commands: list[list[str]] = []

    class Done:
        def __init__(self, cmd: list[str], **_: object) -> None:
            commands.append(cmd)
            self.stderr = iter(())
            self.pid = 0

        def wait(self) -> int:
            return 0

    monkeypatch.setattr(build.subprocess, "Popen", Done)
    build._compile(spec, tmp_path, tmp_path / "out", None)
    (cmd,) = commands
    assert cmd[:4] == ["go", "test", "-c", "-vet=off"]
    assert cmd[-3:] == ["-o", str(tmp_path / "out" / "e2e.test"), builds.E2E_PACKAGE]
