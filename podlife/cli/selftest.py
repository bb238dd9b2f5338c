"""`podlife selftest`: every mutant cluster must fail some check, and a healthy one none."""

from __future__ import annotations

import argparse

from podlife import versions
from podlife.cli.output import build_progress, console, step_printer


def cmd_selftest(args: argparse.Namespace, extra: list[str]) -> int:
    from podlife.local.preflight import preflight
    from podlife.selftest import mutants, prove, run

    version = versions.resolve(None)
    chosen = mutants.find(args.mutant)
    if args.prove:
        return prove.prove_all(chosen, version, step=step_printer())
    preflight()
    results = []
    with build_progress() as progress:
        for mutant in chosen:
            results.append(run.run_mutant(mutant, version, workers=args.workers,
                                          pytest_args=extra, step=step_printer(),
                                          progress=progress))
    out = run.write_report(results)
    for result in results:
        verdict = (f"[green]caught[/green] by {len(result.caught_by)}" if result.caught
                   else "[red]NOT CAUGHT[/red]")
        console.print(f"{result.mutant}: {verdict} ({result.passed} passed; build "
                      f"{result.build_s}s, suite {result.suite_s}s)", markup=True)
        for key in result.caught_by:
            console.print(f"    {key}: {result.reasons[key]}", markup=False)
    console.print(f"selftest report: {out}")
    return 0 if all(r.caught for r in results) else 1


def register(sub: argparse._SubParsersAction) -> None:
    """Add `selftest` to the top parser."""
    s = sub.add_parser("selftest", help="run the suite on clusters built with patches that "
                       "break one behaviour each; every one must be caught "
                       "(extra arguments go to pytest)")
    s.add_argument("--mutant", action="append", default=None, metavar="NAME",
                   help="only this mutant (repeatable; default: every mutant in "
                        "podlife/selftest/mutants/)")
    s.add_argument("--workers", type=int, default=4,
                   help="pytest-xdist workers per suite run (default: 4)")
    s.add_argument("--prove", action="store_true",
                   help="instead of clusters, run the upstream unit tests of each patched "
                        "package with and without the patch (default: off)")
    s.set_defaults(func=cmd_selftest, passthrough=True)
