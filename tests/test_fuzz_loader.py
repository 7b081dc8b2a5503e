"""hypothesis on the scenario loader: it returns a Scenario or raises ScenarioErrors, each with file and line."""

from __future__ import annotations

import re
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mockjobs.errors import ScenarioErrors
from mockjobs.scenarios import Scenario, load_object, load_text

FILE = "fuzz.yaml"
LINE_BREAKS = re.compile("\r\n|[\r\n\x85\u2028\u2029]")  # what YAML counts as a line break
VALID = """\
name: fuzz
job: {type: fuzzJob, totalSteps: 3}
vars: {missionId: {generate: hex32}}
trigger: {path: /rest/fuzz, params: {x: {required: true}}}
timeline:
  - {at: 0, message: "Started {missionId}", status: EXECUTING}
  - {at: 1m30s, steps: "+1"}
  - {at: 90.5, status: COMPLETED}
jobs: [{jobId: jfuzz, startTime: 0, speed: 2}]
"""
# Pieces YAML and mockjobs give meaning to, so random texts reach deep into both.
TOKENS = [
    "job:",
    "timeline:",
    "on_cancel:",
    "trigger:",
    "vars:",
    "jobs:",
    "name:",
    "at:",
    "status:",
    "steps:",
    "message:",
    "speed:",
    "startTime:",
    "type:",
    "- ",
    "  ",
    "\n",
    "{",
    "}",
    "[",
    "]",
    ",",
    ":",
    "&a",
    "*a",
    "!!str",
    "!x",
    "'",
    '"',
    "#",
    "|",
    ">",
    "---",
    "1e999",
    "-1",
    "0",
    "12s",
    "+3",
    "COMPLETED",
    "{jobId}",
    "\t",
    "\x07",
    "\x9b",
    "\ufeff",
    "null",
    "~",
    "yes",
    "<<: *a",
    "? ",
    "%YAML 1.1",
    "1m30s",
]
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True),
    st.text(max_size=30),
    st.sampled_from(["12s", "+1", "COMPLETED", "{jobId}", "{nope}", "1e999", "-5", "EXECUTING"]),
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12) | st.sampled_from(TOKENS), inner, max_size=4)
    ),
    max_leaves=20,
)


def _mutated(data: dict[str, Any], path: list[str], value: Any) -> dict[str, Any]:
    """A copy of data with value at path (keys made as needed)."""
    out = dict(data)
    node = out
    for key in path[:-1]:
        child = node.get(key)
        node[key] = dict(child) if isinstance(child, dict) else {}
        node = node[key]
    node[path[-1]] = value
    return out


def check(text: str) -> None:
    try:
        loaded = load_text(text, FILE)
    except ScenarioErrors as exc:
        assert exc.errors
        for error in exc.errors:
            assert error.file == FILE
            assert 1 <= error.line <= len(LINE_BREAKS.split(text)), str(error)
            assert str(error).startswith(f"{FILE}:{error.line}: ") and "\n" not in str(error)
        return
    assert isinstance(loaded, Scenario)


FUZZ = settings(max_examples=250, deadline=None, database=None, suppress_health_check=list(HealthCheck))


@FUZZ
@given(st.lists(st.sampled_from(TOKENS) | st.text(max_size=4), max_size=40).map("".join))
def test_random_texts(text: str) -> None:
    check(text)


@FUZZ
@given(st.integers(0, len(VALID)), st.integers(0, 40), st.sampled_from(TOKENS) | st.text(max_size=6))
def test_the_valid_file_damaged(at: int, cut: int, insert: str) -> None:
    check(VALID[:at] + insert + VALID[at + cut :])


@FUZZ
@given(
    st.lists(
        st.sampled_from(["name", "job", "type", "timeline", "trigger", "vars", "jobs", "at", "x", "0"]),
        min_size=1,
        max_size=3,
    ),
    VALUES,
)
def test_the_valid_scenario_with_a_value_replaced(path: list[str], value: Any) -> None:
    data = _mutated(yaml.safe_load(VALID), path, value)
    try:
        text = yaml.safe_dump(data, allow_unicode=True)
    except yaml.YAMLError:
        return
    check(text)
    try:
        load_object(data, FILE)
    except ScenarioErrors as exc:
        assert all(e.file == FILE and e.line >= 1 for e in exc.errors)


def test_the_valid_file_loads() -> None:
    assert load_text(VALID, FILE).name == "fuzz"
