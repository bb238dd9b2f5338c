"""The results of runs, in one import: the typed model, the file, and the matrix.

Kept so `from podlife.results import ...` goes on working; each name is defined once,
in the module named beside it.
"""

from podlife.matrix import Column, Matrix, Row, merge, verdict_counts
from podlife.model import SCHEMA_VERSION, VERDICTS, CheckResult, RunResult
from podlife.results_file import load_run, parse_run, run_to_json, write_run
from podlife.schema import ResultsError

__all__ = [
    "SCHEMA_VERSION",
    "VERDICTS",
    "CheckResult",
    "Column",
    "Matrix",
    "ResultsError",
    "Row",
    "RunResult",
    "load_run",
    "merge",
    "parse_run",
    "run_to_json",
    "verdict_counts",
    "write_run",
]
