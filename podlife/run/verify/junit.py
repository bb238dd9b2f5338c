"""e2e.test's JUnit report, read into one result per spec, and the merged report verify saves."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

from podlife.core.errors import PodlifeError

#: ginkgo names each testcase "[It] <full text>" (the leaf node type first).
_LEAF_PREFIXES = ("[It] ", "[It]")


@dataclass
class SpecResult:
    """One spec's outcome: passed, failed, skipped (and why), with its time in seconds."""

    name: str
    status: str
    seconds: float
    message: str = ""


def _spec_name(testcase_name: str) -> str:
    for prefix in _LEAF_PREFIXES:
        if testcase_name.startswith(prefix):
            return testcase_name[len(prefix):].strip()
    return testcase_name.strip()


def parse(text: str, *, source: str = "junit") -> list[SpecResult]:
    """Every spec testcase of a ginkgo JUnit document (suite setup nodes are left out)."""
    try:
        root = ET.fromstring(text)
    except ET.ParseError as exc:
        raise PodlifeError(f"{source} is not valid JUnit XML: {exc}",
                           "rerun verify; e2e.test may have been killed while writing") from None
    results = []
    for case in root.iter("testcase"):
        raw = case.get("name", "")
        if not raw.startswith("[It]"):
            continue  # [SynchronizedBeforeSuite], [ReportAfterSuite], ...: not specs
        failure = case.find("failure")
        if failure is None:
            failure = case.find("error")
        skipped = case.find("skipped")
        status = case.get("status", "")
        if failure is not None:
            status = status if status in ("failed", "panicked", "timedout", "interrupted",
                                          "aborted") else "failed"
            message = (failure.text or "").strip() or failure.get("message", "")
        elif skipped is not None:
            status, message = "skipped", skipped.get("message", "")
        else:
            status, message = status or "passed", ""
        results.append(SpecResult(name=_spec_name(raw), status=status,
                                  seconds=float(case.get("time") or 0.0),
                                  message=message.strip()))
    return results


def read(path: Path) -> list[SpecResult]:
    if not path.is_file():
        raise PodlifeError(f"e2e.test wrote no JUnit report at {path}",
                           f"read its output in {path.parent}/e2e.log")
    return parse(path.read_text(errors="replace"), source=str(path))


def write(path: Path, suite: str, results: list[SpecResult], seconds: float) -> Path:
    """The specs of the list only (not the thousands e2e.test skipped), one JUnit file."""
    failed = [r for r in results if r.status not in ("passed", "skipped", "absent")]
    root = ET.Element("testsuites", tests=str(len(results)), failures=str(len(failed)),
                      time=f"{seconds:.1f}")
    node = ET.SubElement(root, "testsuite", name=suite, tests=str(len(results)),
                         failures=str(len(failed)),
                         skipped=str(sum(r.status in ("skipped", "absent") for r in results)),
                         time=f"{seconds:.1f}")
    for result in results:
        case = ET.SubElement(node, "testcase", name=f"[It] {result.name}",
                             classname=suite, status=result.status, time=f"{result.seconds:.3f}")
        if result.status in ("skipped", "absent"):
            ET.SubElement(case, "skipped", message=result.message or result.status)
        elif result.status != "passed":
            failure = ET.SubElement(case, "failure", type=result.status,
                                    message=result.message.splitlines()[0][:300]
                                    if result.message else result.status)
            failure.text = result.message
    path.parent.mkdir(parents=True, exist_ok=True)
    ET.ElementTree(root).write(path, encoding="unicode", xml_declaration=True)
    return path
