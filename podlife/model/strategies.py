"""Hypothesis strategies over the grammar of podlife.model.generated: 0-4 init containers
with 0-3 native sidecars anywhere among them, 1-3 app containers, each restart policy,
exit codes 0, 1 or 3 after a short time or serving until SIGTERM, every SIGTERM reaction,
small CPU requests and a grace period of 1-3 s (short, so the suite stays quick)."""

from __future__ import annotations

from hypothesis import strategies as st

from podlife.model.generated import ON_TERM, Behaviour, GenContainer, GenPod

RESTART_POLICIES = ("Always", "OnFailure", "Never")
short = st.sampled_from((0.0, 0.3, 1.0))


def behaviours(kind: str) -> st.SearchStrategy[Behaviour]:
    serve = st.builds(Behaviour, st.none(), short, st.sampled_from(ON_TERM))
    if kind == "sidecar":
        return serve  # a sidecar that exits is restarted: the examples keep them serving
    exits = st.builds(Behaviour, st.sampled_from((0, 0, 0, 1, 3)), short)
    return exits if kind == "init" else st.one_of(exits, serve)


@st.composite
def gen_pods(draw: st.DrawFn) -> GenPod:
    kinds = draw(st.lists(st.sampled_from(("init", "sidecar")), max_size=4).filter(
        lambda k: k.count("sidecar") <= 3))
    kinds += ["app"] * draw(st.integers(1, 3))
    containers = tuple(
        GenContainer(f"{kind[0]}{index}", kind, draw(behaviours(kind)),
                     draw(st.sampled_from((10, 20, 50))))
        for index, kind in enumerate(kinds))
    return GenPod(containers, draw(st.sampled_from(RESTART_POLICIES)),
                  draw(st.integers(1, 3)))


def fixed_examples(count: int) -> list[GenPod]:
    """`count` distinct examples, the same on every machine and in every xdist worker
    (derandomized: hypothesis draws them from a fixed seed), for the suite's fixed set."""
    from hypothesis import HealthCheck, Phase, given, settings

    found: list[GenPod] = []

    @settings(database=None, max_examples=count * 3, derandomize=True, deadline=None,
              phases=[Phase.generate], suppress_health_check=list(HealthCheck))
    @given(gen_pods())
    def collect(pod: GenPod) -> None:
        if pod not in found and len(found) < count:
            found.append(pod)

    collect()
    return found
