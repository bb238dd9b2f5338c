"""Reports made from results files: the version matrix (HTML, JSON), JUnit XML, and diffs.

The entry points are in `podlife.results.report.cli`; this package imports nothing itself, so a
command that needs one small piece (the CLI's `--allow` choices) does not load the HTML
renderer and its templates."""
