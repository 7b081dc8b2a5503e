"""Faults in scenario files: validated like the rest, one `file:line: field: message` per problem."""

from __future__ import annotations

import textwrap

import pytest

from mockjobs.errors import ScenarioErrors
from mockjobs.fault_schemas import from_doc, load_request
from mockjobs.scenarios import load_text

HEAD = """\
name: faulty
job: {type: x}
timeline:
  - {at: 0, status: EXECUTING}
  - {at: 10s, status: COMPLETED}
faults:
"""


def errors_of(faults: str) -> list[str]:
    with pytest.raises(ScenarioErrors) as info:
        load_text(HEAD + textwrap.dedent(faults), "faulty.yaml")
    return [str(e) for e in info.value.errors]


def test_every_bad_fault_is_reported_on_its_line() -> None:
    assert errors_of(
        """\
        - when: {poll: 3}
          do: {explode: true}
        - when: {every: 4, times: 0}
          do: {http: 503}
        - when: {probability: 1.5, seed: 7}
          do: {drop: true}
        - when: {after: 20s, before: 10s}
          do: {delay: [3s, 1s]}
        - when: {seed: 3}
          do: {http: 200}
        - do: {http: 503, stale: true}
        - when: {poll: 0}
        """
    ) == [
        "faulty.yaml:8: faults[0].do.explode: unknown key; allowed here: http, retry_after, error, delay, drop, "
        "truncate, stale",
        "faulty.yaml:9: faults[1].when.times: must be at least 1 (firings per job)",
        "faulty.yaml:11: faults[2].when.probability: must be between 0 and 1, not 1.5",
        "faulty.yaml:13: faults[3].when.before: must be after 'after' (20s), not 10s",
        "faulty.yaml:14: faults[3].do.delay: the range ends (1s) before it starts (3s)",
        "faulty.yaml:15: faults[4].when.seed: a seed only makes sense with a probability",
        "faulty.yaml:16: faults[4].do.http: must be 400..599, not 200",
        "faulty.yaml:17: faults[5].do: one effect per fault, not http and stale; add another fault",
        "faulty.yaml:18: faults[6].when.poll: must be at least 1 (polls count from 1)",
        "faulty.yaml:18: faults[6].do: required: what the fault does",
    ]


def test_a_bad_pace_is_reported() -> None:
    with pytest.raises(ScenarioErrors) as info:
        load_text("job: {type: x, pace: fast}\ntimeline: [{at: 0}]\n", "p.yaml", "p")
    assert [str(e) for e in info.value.errors] == ["p.yaml:1: job.pace: 'fast' is not allowed; use one of: clock, poll"]


def test_scenario_faults_get_ids_of_where_they_stand_and_survive_a_round_trip() -> None:
    sc = load_text(
        HEAD + "  - {when: {every: 2, times: 3}, do: {http: 503, retry_after: 2.5}}\n  - {do: {delay: [1, 2s]}}\n",
        "faulty.yaml",
    )
    assert [f.id for f in sc.faults] == ["faulty.faults[0]", "faulty.faults[1]"]
    first, second = sc.faults
    assert first.scenario == "faulty" and first.source == "scenario"
    assert first.do.retry_after == 3  # whole seconds, rounded up
    assert second.do.delay_ms == (1000.0, 2000.0) and second.when.cap is None
    for fault in sc.faults:
        again = from_doc(fault.to_doc())
        assert (again.id, again.when, again.do, again.scenario) == (fault.id, fault.when, fault.do, fault.scenario)
    assert load_request({"do": {"stale": True}}).when.cap is None
    assert load_request({"when": {"poll": 2}, "do": {"stale": True}}).when.cap == 1
