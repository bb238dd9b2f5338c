"""The report of a chained upgrade (podlife.run.upgrade_chain) as text, HTML and JSON.

Per hop: how long the control-plane and node steps took, then each window (skew, after)
with its verdict counts, the checks whose verdict changed since the previous hop, the
hazards (checks failing only in the skew window) and what happened to the workloads.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from podlife.core.safe_text import printable
from podlife.results.hazards import ADVICE
from podlife.results.report.summary import headline
from podlife.results.upgrade_records import ChainReport, Hop, RollStep, Window, report_path


def _counts(window: Window) -> str:
    return ", ".join(f"{n} {v}" for v, n in sorted(window.counts.items())) or "no results"


def _changes(window: Window) -> list[str]:
    out = []
    for change in window.changes.get("verdict_changes", []):
        mark = " REGRESSION" if change.get("regression") else ""
        out.append(f"{change['check']}: {change['before']} -> {change['after']}{mark}"
                   f"{': ' + headline(change['reason']) if change['reason'] else ''}")
    return out


def _window_lines(title: str, window: Window | None, problems: list[str],
                  causes: list[str], native: str) -> list[str]:
    if window is None:
        return [f"  {title}: not reached"]
    lines = [f"  {title} {window.column}: {_counts(window)} (suite {window.suite_s:.0f}s)",
             f"    native sidecars: {headline(native) if native else '?'}"]
    lines += [f"    workloads: {'intact' if not problems else 'SURVIVAL PROBLEMS'}"]
    lines += [f"      - {p}" for p in problems]
    lines += [f"      cause (kubelet event): {c}" for c in causes]
    changed = _changes(window)
    lines.append(f"    verdict changes since the previous hop: {len(changed) or 'none'}")
    lines += [f"      {c}" for c in changed]
    return lines


def _releases(step: RollStep) -> str:
    """E.g. "API c-node v1.37.2, c-cp2 v1.36.5; kubelet c-node v1.36.5"."""
    api = ", ".join(f"{n} {v}" for n, v in step.apiservers.items())
    kubelet = ", ".join(f"{n} {v}" for n, v in step.kubelets.items())
    return f"API {api}; kubelet {kubelet}"


def step_lines(hop: Hop) -> list[str]:
    """One line per rolling step: time, drain, the API's and the workload's figures."""
    lines = []
    for step in hop.steps:
        a = step.availability
        drained = f", drain {step.drain_s:.1f}s ({len(step.evicted)} evicted)" if (
            step.evicted) else ""
        workload = (f"; workload {a.probes_failed}/{a.probes} probes failed, fewest ready "
                    f"{a.fewest_ready} (budget {a.budget_min})" if a.probes else "")
        lines.append(f"    {step.kind} {step.name}: {step.seconds:.1f}s{drained}; API "
                     f"{a.api_failed}/{a.api_requests} requests failed, longest gap "
                     f"{a.api_longest_gap_s:.2f}s{workload}")
        lines.append(f"      then: {_releases(step)}")
        lines += [f"      PROBLEM: {p}" for p in step.problems]
    return lines


def hop_lines(hop: Hop) -> list[str]:
    evicted = hop.node_survival.evicted
    drained = (f"drain {hop.drain_s:.1f}s ({len(evicted)} pods evicted), " if evicted
               else "")
    lines = [f"hop {hop.from_version} -> {hop.to_version}: {hop.seconds:.0f}s (control plane "
             f"{hop.control_plane_s:.1f}s, {drained}node {hop.node_s:.1f}s; Job {hop.job})"]
    if hop.steps:
        lines.append("  rolling steps:")
        lines += step_lines(hop)
    lines += _window_lines("skew window", hop.skew, hop.skew_survival.problems,
                           hop.skew_survival.causes, hop.native_sidecars.get("skew", ""))
    lines += _window_lines("after", hop.after, hop.node_survival.problems,
                           hop.node_survival.causes, hop.native_sidecars.get("after", ""))
    if hop.hazards:
        lines.append(f"  HAZARDS (fail in the skew window only): {len(hop.hazards)}")
        lines += [f"    {h['check']}: {headline(h['reason'])}" for h in hop.hazards]
    lines += [f"  started after this hop: {name}" for name in hop.started]
    return lines


def format_text(report: ChainReport) -> str:
    verdict = "OK" if report.ok else "PROBLEMS"
    if report.ok and report.hazards:
        verdict += f" ({len(report.hazards)} hazards allowed by --allow-hazards)"
    lines = [f"podlife upgrade {report.from_version} -> {report.to_version}: "
             f"{len(report.hops)} hop(s), {report.total_s:.0f}s in all: {verdict}",
             f"cluster: {report.control_planes} control-plane instance(s) + "
             f"{report.worker_nodes} worker node(s)"]
    if report.suite_args:
        lines.append(f"checks limited by: {' '.join(report.suite_args)}")
    lines.append("node step: " + ("drained, then the kubelet swapped (upstream's procedure)"
                                  if report.drain else "kubelet swapped under running "
                                  "containers (--no-drain; not supported upstream)"))
    if report.baseline:
        lines.append(f"start {report.baseline.column}: {_counts(report.baseline)} "
                     f"(suite {report.baseline.suite_s:.0f}s)")
    lines += [f"note: {n}" for n in report.notes]
    for hop in report.hops:
        lines += hop_lines(hop)
    if report.hazards:
        lines.append(f"what to do about the hazards: {ADVICE}")
    lines.append(f"workloads {'survived every step' if report.survived else 'DID NOT survive'}"
                 f"; {len(report.regressions)} regression(s) after hops, "
                 f"{len(report.hazards)} hazard(s) in skew windows")
    if report.aborted:
        lines.append(f"STOPPED EARLY: {report.aborted}")
    return printable("\n".join(lines) + "\n")


def html_view(report: ChainReport) -> dict[str, Any]:
    def window(w: Window | None) -> dict[str, Any] | None:
        if w is None:
            return None
        return {"column": w.column, "counts": _counts(w), "suite_s": w.suite_s,
                "results": w.results, "changes": _changes(w)}

    return {"r": report, "baseline": window(report.baseline), "advice": ADVICE,
            "hops": [{"hop": h, "skew": window(h.skew), "after": window(h.after),
                      "releases": [_releases(step) for step in h.steps],
                      "hazards": [{**z, "headline": headline(z["reason"])} for z in h.hazards]}
                     for h in report.hops]}


def render_html(report: ChainReport) -> str:
    from podlife.results.report.html import _environment

    return _environment().get_template("upgrade.html.j2").render(**html_view(report))


def write_reports(report: ChainReport) -> dict[str, Path]:
    """upgrade-<from>-<to>.json, .html and .txt under the reports' runs/."""
    out = {suffix: report_path(report.from_version, report.to_version, suffix)
           for suffix in ("json", "html", "txt")}
    out["json"].parent.mkdir(parents=True, exist_ok=True)
    out["json"].write_text(json.dumps(report.to_dict(), indent=2) + "\n")
    out["html"].write_text(render_html(report), encoding="utf-8")
    out["txt"].write_text(format_text(report))
    return out
