"""Reports made from results files: the version matrix (HTML, JSON), JUnit XML, and diffs."""

from podlife.report.cli import compare_files, render_reports

__all__ = ["compare_files", "render_reports"]
