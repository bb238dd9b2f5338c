"""The cluster options are declared once: `podlife run`, `podlife matrix` and pytest agree,
every flag of every command says its default, and matrix runs are told where to write."""

from __future__ import annotations

import argparse
import json
import subprocess
from pathlib import Path
from typing import ClassVar

import pytest

from podlife import cli
from podlife.cluster import options
from podlife.cluster.options import OPTIONS, ProviderOptions
from podlife.core import versions
from podlife.run import bench, runner

pytest_plugins = ["pytester"]

EVERYTHING_SET = ProviderOptions(
    provider="kubeconfig", kube_version="1.33", reuse_cluster="mine", keep_cluster=True,
    feature_gates="SidecarContainers=true", kubeconfig="/tmp/kc", allow_node_changes=True,
    image_registry="mirror.example", image_set="public")


def _pytest_options(pytester: pytest.Pytester, *args: str) -> ProviderOptions:
    """Parse a pytest command line with podlife's plugin (and pytest-kind) loaded."""
    config = pytester.parseconfig("-p", "podlife.plugin.checks", *args)
    return ProviderOptions.from_pytest(config)


def _run_options(*args: str) -> ProviderOptions:
    parsed, extra = cli.parser().parse_known_args(["run", *args])
    assert extra == []
    return ProviderOptions.from_namespace(parsed)


def _subcommands(parser: argparse.ArgumentParser, name: str = "podlife"):
    """Every (name, parser) pair under the top parser, depth first."""
    yield name, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub_name, sub in action.choices.items():
                yield from _subcommands(sub, f"{name} {sub_name}")


def test_both_registrations_parse_the_same_defaults(pytester: pytest.Pytester) -> None:
    assert _run_options() == ProviderOptions()
    assert _pytest_options(pytester) == ProviderOptions()


def test_round_trip_through_pytest_arguments(pytester: pytest.Pytester) -> None:
    """ProviderOptions -> pytest arguments -> ProviderOptions, through pytest's own parser."""
    for opts in (ProviderOptions(), EVERYTHING_SET, ProviderOptions(image_set="local")):
        assert _pytest_options(pytester, *options.pytest_args(opts)) == opts
        assert _run_options(*options.pytest_args(opts)) == opts


def test_pytest_args_name_only_what_differs_from_the_default() -> None:
    assert options.pytest_args(ProviderOptions()) == []
    assert options.pytest_args(ProviderOptions(reuse_cluster="c", keep_cluster=True)) == [
        "--reuse-cluster", "c", "--keep-cluster"]


@pytest.mark.parametrize("plugins", [(), ("-p", "no:pytest-kind")])
def test_podlifes_pytest_options_exist_with_or_without_pytest_kind(
        pytester: pytest.Pytester, plugins: tuple[str, ...]) -> None:
    """pytest-kind defines --kubeconfig and --keep-cluster too: with it, podlife reads them
    from there; without it, podlife defines them itself."""
    parsed = _pytest_options(pytester, *plugins, "--kubeconfig", "/k", "--keep-cluster",
                             "--provider", "kubeconfig")
    assert (parsed.kubeconfig, parsed.keep_cluster, parsed.provider) == (
        "/k", True, "kubeconfig")


def test_every_option_states_its_default() -> None:
    for option in OPTIONS:
        assert "(default: " in option.help, option.flag
    parsers = [*_subcommands(cli.parser()), ("podlife.run.bench", bench.parser())]
    for name, parser in parsers:
        for action in parser._actions:
            if isinstance(action, argparse._HelpAction | argparse._SubParsersAction):
                continue
            assert action.help, f"{name} {action.dest} has no help"
            if action.option_strings:
                assert "default" in action.help, f"{name} {action.option_strings[0]}"


def test_pytest_arguments_after_a_double_dash() -> None:
    """`podlife run --workers 2 -- -k NAME`: pytest gets `-k NAME`, not `-- -k NAME`."""
    args, extra = cli.split_arguments(["run", "--workers", "2", "--", "-k", "x"])
    assert (args.workers, extra) == (2, ["-k", "x"])
    assert cli.split_arguments(["run", "-k", "x"])[1] == ["-k", "x"]


def test_a_misspelt_podlife_option_is_refused_in_one_line(capsys) -> None:
    """`podlife run --cluster X` would reach pytest as an unknown option; podlife names the
    option it probably meant, exits 2, and starts nothing."""
    with pytest.raises(SystemExit) as exit_:
        cli.split_arguments(["run", "--cluster", "cpu", "-k", "x"])
    err = capsys.readouterr().err
    assert exit_.value.code == 2 and len(err.strip().splitlines()) == 1
    assert "--cluster" in err and "did you mean --keep-cluster or --reuse-cluster?" in err
    # pytest's own options pass: unlike any of run's, or after `--`.
    assert cli.split_arguments(["run", "--maxfail", "1"])[1] == ["--maxfail", "1"]
    assert cli.split_arguments(["run", "--", "--clusterx"])[1] == ["--clusterx"]


def test_an_abbreviated_option_is_not_taken_for_the_whole_one(capsys) -> None:
    """`podlife run --worker 2` is a typo of --workers, named as such, not quietly accepted
    (argparse's abbreviations), in every subcommand down to `cluster up`."""
    with pytest.raises(SystemExit) as exit_:
        cli.split_arguments(["run", "--worker", "2"])
    assert exit_.value.code == 2
    assert "did you mean --workers?" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        cli.split_arguments(["cluster", "up", "--vers", "1.33"])
    assert "--vers" in capsys.readouterr().err


def test_matrix_passes_on_only_its_cluster_options() -> None:
    parsed, extra = cli.parser().parse_known_args(
        ["matrix", "--feature-gates", "A=true", "--keep-cluster", "-k", "init"])
    assert options.matrix_args(parsed) == ["--keep-cluster", "--feature-gates", "A=true"]
    assert extra == ["-k", "init"]


class _FakeRun:
    """Stands in for a child `podlife run`: writes results where --results says, and prints
    a misleading results line that nothing may read."""

    commands: ClassVar[list[list[str]]] = []

    def __init__(self, cmd: list[str], stdout, **_: object) -> None:
        self.commands.append(cmd)
        results = Path(cmd[cmd.index("--results") + 1])
        results.write_text(json.dumps({"checks": [{"verdict": "pass"}]}))
        stdout.write(b"results: /somewhere/else.json\n")
        self.returncode = 0

    def poll(self) -> int:
        return self.returncode


def test_run_matrix_chooses_each_results_path(tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PODLIFE_REPORTS", str(tmp_path))
    monkeypatch.setattr(subprocess, "Popen", _FakeRun)
    monkeypatch.setattr(runner.time, "sleep", lambda _: None)
    _FakeRun.commands = []
    wanted = [versions.resolve("1.33"), versions.resolve("1.35")]
    seen: list[runner.RunOutcome] = []
    outcomes = runner.run_matrix(wanted, parallel=2, workers=1, extra=["-k", "x"],
                                 on_done=seen.append)
    assert seen == outcomes
    assert [o.version for o in outcomes] == [v.tag for v in wanted]
    for outcome, cmd in zip(outcomes, _FakeRun.commands, strict=True):
        assert outcome.results == Path(cmd[cmd.index("--results") + 1])
        assert outcome.results.parent.parent == tmp_path / "runs"
        assert outcome.results.parent.name.endswith(outcome.version)
        assert outcome.counts() == {"pass": 1}
        assert "results: " in (outcome.results.parent / "run.log").read_text()
        assert cmd[-2:] == ["-k", "x"]
