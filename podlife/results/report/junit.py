"""JUnit XML per Kubernetes version, for CI systems that chart test results over time.

One file per version keeps each CI test history about one cluster version;
unsupported and skipped both map to <skipped>, since JUnit has no richer verdict.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path, PurePosixPath

from podlife.core.safe_text import printable
from podlife.results.matrix import Column, Matrix, verdict_counts

#: Characters XML 1.0 cannot hold at all (not even escaped): most C0 controls, surrogates,
#: U+FFFE/U+FFFF. A check's reason or log excerpt may contain them.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _xml_safe(tree: ET.Element) -> None:
    """Escape terminal control characters (podlife.core.safe_text) and strip what XML cannot
    represent, in every text and attribute, so the file always parses and shows safely."""
    for elem in tree.iter():
        for key, value in elem.attrib.items():
            elem.attrib[key] = _NOT_XML.sub("", printable(value))
        if elem.text:
            elem.text = _NOT_XML.sub("", printable(elem.text))


def junit_filename(version: str) -> str:
    return f"junit-{version.replace('/', '_')}.xml"  # a skew column has a '/'


def _classname(nodeid: str) -> str:
    """'suites/test_x.py::test_y' -> 'suites.test_x', the dotted form CI tools group by."""
    path = PurePosixPath(nodeid.split("::", 1)[0])
    return ".".join((*path.parent.parts, path.stem)) if path.stem else nodeid


def build_junit(matrix: Matrix, column: Column) -> ET.ElementTree:
    """The <testsuite> of one version: one <testcase> per check that ran on it."""
    version = column.version
    cells = matrix.cells_of(version)
    counts = verdict_counts(cell for _, cell in cells)
    suite = ET.Element(
        "testsuite",
        {
            "name": f"podlife {version}",
            "tests": str(len(cells)),
            "failures": str(counts["fail"]),
            "errors": str(counts["error"]),
            "skipped": str(counts["skipped"] + counts["unsupported"]),
            "time": f"{sum(cell.duration_s for _, cell in cells):.3f}",
            "timestamp": column.started_at,
            "hostname": column.host,
        },
    )
    props = ET.SubElement(suite, "properties")
    for name, value in (
        ("kubernetes_version", version),
        ("provider", column.provider),
        ("cluster", column.cluster),
        ("run_id", column.run_id),
        ("source", column.source or ""),
    ):
        ET.SubElement(props, "property", {"name": name, "value": value})
    for row, cell in cells:
        case = ET.SubElement(
            suite,
            "testcase",
            {
                "classname": _classname(cell.nodeid),
                "name": row.check_id,
                "time": f"{cell.duration_s:.3f}",
            },
        )
        if cell.verdict == "fail":
            failure = ET.SubElement(
                case, "failure", {"message": cell.reason.splitlines()[0] if cell.reason else ""}
            )
            lines = [
                cell.reason,
                *(f"dump: {d}" for d in cell.dumps),
                *(f"dump failed: {e}" for e in cell.dump_errors),
            ]
            failure.text = "\n".join(line for line in lines if line)
        elif cell.verdict == "error":
            failed = ET.SubElement(case, "error", {"message": cell.reason.splitlines()[0]
                                                   if cell.reason else "error"})
            failed.text = cell.reason
        elif cell.verdict == "unsupported":
            message = f"unsupported: {cell.reason}" if cell.reason else "unsupported"
            ET.SubElement(case, "skipped", {"message": message})
        elif cell.verdict == "skipped":
            ET.SubElement(case, "skipped", {"message": cell.reason})
    _xml_safe(suite)
    ET.indent(suite)
    return ET.ElementTree(suite)


def write_junit(matrix: Matrix, out_dir: Path) -> list[Path]:
    """Write junit-<version>.xml for every column; returns the paths written."""
    paths = []
    for column in matrix.columns:
        path = out_dir / junit_filename(column.version)
        build_junit(matrix, column).write(path, encoding="utf-8", xml_declaration=True)
        paths.append(path)
    return paths
