"""What judging a pod yields: the violations found, and what could not be judged."""

from __future__ import annotations

from dataclasses import dataclass, field

from podlife.model.rules import Rule


@dataclass(frozen=True)
class Violation:
    """A rule broken by one pod: what the model expected, beside what was observed."""

    rule: Rule
    pod: str
    expected: str
    observed: str

    def line(self) -> str:
        """The one line a failing check starts with: rule, source, expected, observed."""
        return (f"invariant {self.rule.id} broken by pod {self.pod}: expected {self.expected}; "
                f"observed {self.observed} [source: {self.rule.source}]")


@dataclass
class Judgement:
    """One pod judged by every rule that applies to it."""

    pod: str
    violations: list[Violation] = field(default_factory=list)
    #: Rules that applied and held.
    held: list[str] = field(default_factory=list)
    #: Why (parts of) the pod could not be judged: an uninstrumented container, a log that
    #: could not be read. A pod with any is "not judged", never "passed".
    not_judged: list[str] = field(default_factory=list)

    @property
    def judged(self) -> bool:
        return not self.not_judged
