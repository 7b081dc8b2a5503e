"""Placeholders: {name} templates, {{ }} escapes, load-time checks and per-job rendering."""

from __future__ import annotations

from typing import Any

import pytest

from mockjobs import placeholders
from mockjobs.placeholders import PlaceholderError, Template, parse, render_value

DECLARED = frozenset({"jobId", "username", "type", "missionId"})


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("plain", ()),
        ("", ()),
        ("{jobId}", ("jobId",)),
        ("Mission {missionId} by {username}.", ("missionId", "username")),
        ("{{jobId}}", ()),
        ("{{{jobId}}}", ("jobId",)),
        ("{params.title} and {params.a-b}", ("params.title", "params.a-b")),
    ],
)
def test_parse_finds_placeholder_names(text: str, names: tuple[str, ...]) -> None:
    template = parse(text)
    assert template.names == names
    assert template.source == text


@pytest.mark.parametrize(
    ("text", "rendered"),
    [
        ("plain", "plain"),
        ("", ""),
        ("{{literal}}", "{literal}"),
        ("{{{jobId}}}", "{j1}"),
        ("a }} b {{ c", "a } b { c"),
        ("Job {jobId} of {username}", "Job j1 of admin"),
        ("n={n} t={t} f={f} z={z} x={x}", "n=7 t=true f=false z= x=1.5"),
        ("d={d} l={l}", 'd={"a":1} l=[1,"b"]'),
        ("title: {params.title}", "title: Harbor"),
        ("absent: [{params.nope}]", "absent: []"),
    ],
)
def test_render(text: str, rendered: str) -> None:
    values: dict[str, Any] = {
        "jobId": "j1",
        "username": "admin",
        "n": 7,
        "t": True,
        "f": False,
        "z": None,
        "x": 1.5,
        "d": {"a": 1},
        "l": [1, "b"],
        "params.title": "Harbor",
    }
    assert parse(text).render(values) == rendered


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("a { b", "a { without its closing } (write {{ for a literal brace)"),
        ("{jobId", "a { without its closing } (write {{ for a literal brace)"),
        ("a } b", "a lone } (write }} for a literal brace)"),
        ("{jobId}}", "a lone } (write }} for a literal brace)"),
        ("{}", "empty placeholder {} (write {{}} for literal braces)"),
        ("{jobId:>10}", "placeholder {jobId} may not carry a format or conversion"),
        ("{jobId!r}", "placeholder {jobId} may not carry a format or conversion"),
    ],
)
def test_malformed_templates(text: str, message: str) -> None:
    with pytest.raises(PlaceholderError) as info:
        parse(text)
    assert str(info.value) == message


@pytest.mark.parametrize("text", ["{jobId} {missionId}", "{params.title}", "{{nope}}", "no placeholders"])
def test_check_accepts_declared_names_and_params(text: str) -> None:
    placeholders.check(parse(text), DECLARED)


@pytest.mark.parametrize(
    ("text", "name"), [("{nope}", "nope"), ("{params.}", "params."), ("{params}", "params"), ("{jobId.x}", "jobId.x")]
)
def test_check_names_the_first_undeclared_placeholder(text: str, name: str) -> None:
    with pytest.raises(PlaceholderError) as info:
        placeholders.check(parse(f"ok {{jobId}} then {text}"), DECLARED)
    assert (
        str(info.value) == f"undeclared placeholder {{{name}}} (known: jobId, missionId, type, username, params.NAME)"
    )


@pytest.mark.parametrize(
    ("value", "rendered"),
    [(42, 42), (None, None), (True, True), ([1, 2], [1, 2]), ({"a": "b"}, {"a": "b"}), ("text", "text")],
)
def test_a_lone_placeholder_keeps_its_type(value: Any, rendered: Any) -> None:
    assert render_value(parse("{v}"), {"v": value}) == rendered
    assert render_value(parse("v={v}"), {"v": 42}) == "v=42"


def test_a_lone_absent_placeholder_renders_empty() -> None:
    assert render_value(parse("{params.nope}"), {}) == ""


def test_compile_and_render_nested_values() -> None:
    compiled = placeholders.compile_value({"a": "{x}", "b": ["{{x}}", "n{x}", 3, {"c": "{x}"}], "d": None})
    assert [(path, t.source) for path, t in placeholders.templates_in(compiled)] == [
        (("a",), "{x}"),
        (("b", 0), "{{x}}"),
        (("b", 1), "n{x}"),
        (("b", 3, "c"), "{x}"),
    ]
    assert render_value(compiled, {"x": 5}) == {"a": 5, "b": ["{x}", "n5", 3, {"c": 5}], "d": None}


def test_templates_are_values_that_compare_by_text() -> None:
    assert parse("{a} b") == parse("{a} b")
    assert isinstance(parse("x"), Template)
    assert parse("{a} b") != parse("{a} c")
