"""The selftest's mutants: each one a well-formed patch with its header; proofs counted right."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from podlife.cluster import build
from podlife.core import versions
from podlife.core.errors import PodlifeError
from podlife.run.selftest import mutants
from podlife.run.selftest.prove import Proof


def test_every_mutant_has_its_header_and_patches_the_default_release() -> None:
    found = mutants.all_mutants()
    assert len(found) >= 10
    tag = versions.resolve(None).tag
    for mutant in found:
        assert mutant.description and mutant.unit_tests.startswith("k8s.io/"), mutant.name
        assert set(mutant.binaries) <= set(build.KUBE_BINARIES), mutant.name
        files = mutant.files()
        assert files, f"{mutant.name} changes no file"
        for path in files:
            assert re.match(rf"k8s\.io/(kubernetes@{tag}|[a-z-]+@v0\.{tag.split('.')[1]}\.)",
                            path), f"{mutant.name}: {path} is not of the default release"
        assert "podlife mutant" in mutant.diff.read_text(), f"{mutant.name}: unmarked change"


def test_a_patch_edit_changes_its_build_key(tmp_path: Path) -> None:
    original = mutants.all_mutants()[0]
    copy = tmp_path / original.diff.name
    copy.write_text(original.diff.read_text())
    same = mutants._parse(copy)
    assert same.build_key == original.build_key
    copy.write_text(original.diff.read_text() + "\n")
    assert mutants._parse(copy).build_key != original.build_key


def test_unknown_mutant_and_missing_header_are_one_clear_error(tmp_path: Path) -> None:
    with pytest.raises(PodlifeError, match="no mutant named nope"):
        mutants.find(["nope"])
    bare = tmp_path / "bare.diff"
    bare.write_text("--- a/x\n+++ b/x\n")
    with pytest.raises(PodlifeError, match="lacks its header"):
        mutants._parse(bare)


def test_the_proof_is_what_fails_only_with_the_patch() -> None:
    proof = Proof("m", "pkg", healthy_failed=["TestNeedsHost"],
                  mutant_failed=["TestNeedsHost", "TestBehaviour"])
    assert proof.broken_by_patch == ["TestBehaviour"] and proof.proven
    assert not Proof("m", "pkg", healthy_failed=["TestX"], mutant_failed=["TestX"]).proven


def test_each_oracle_runs_its_own_stages() -> None:
    """The model alone: the fixed generated pods, then exploring (unless no budget); the
    hand-written checks alone: the model off and the generated pods deselected."""
    from podlife.run.selftest.run import stages

    assert stages("all", 600) == [[]]
    assert stages("model", 600) == [["-k", "test_generated_pod"],
                                       ["--explore", "--explore-budget", "600"]]
    assert stages("model", 0) == [["-k", "test_generated_pod"]]
    assert stages("hand", 600) == [["--no-invariants", "-k", "not generated_pods"]]
