"""yamlsrc: yaml.safe_load's data, plus the line of every value and key issues."""

from __future__ import annotations

import time

import pytest
import yaml

from mockjobs import yamlsrc

DOC = """\
# a comment
name: x
job:
  type: t
  customAttributes: {a: 1, b: [x, y]}
timeline:
  - at: 0
    message: >-
      folded
      text
  - {at: 1, message: m}
  -
    at: 2
list: [1,
  2]
"""


@pytest.mark.parametrize(
    "text",
    [
        DOC,
        "a: &x {b: 1}\nc: *x\nd: {<<: *x, e: 2}\n",
        "a: [1, 2.5, true, null, '3', 2020-01-01]\n",
        "- 1\n- two\n",
        "plain\n",
        "",
        "# only a comment\n",
    ],
)
def test_data_equals_yaml_safe_load(text: str) -> None:
    assert yamlsrc.load(text).data == yaml.safe_load(text)


@pytest.mark.parametrize(
    ("path", "line"),
    [
        ((), 2),
        (("name",), 2),
        (("job",), 3),  # a block mapping: the line of its key
        (("job", "type"), 4),
        (("job", "customAttributes"), 5),
        (("job", "customAttributes", "a"), 5),
        (("job", "customAttributes", "b", 1), 5),
        (("timeline",), 6),
        (("timeline", 0), 7),
        (("timeline", 0, "at"), 7),
        (("timeline", 0, "message"), 8),  # a folded scalar starts at its indicator
        (("timeline", 1), 11),
        (("timeline", 1, "message"), 11),
        (("timeline", 2), 13),  # an item below its dash
        (("timeline", 2, "at"), 13),
        (("list", 1), 15),
    ],
)
def test_line_of_each_value(path: tuple, line: int) -> None:
    assert yamlsrc.load(DOC).line_of(path) == line


def test_line_of_a_missing_path_is_that_of_its_nearest_ancestor() -> None:
    located = yamlsrc.load(DOC)
    assert located.line_of(("job", "username")) == 3
    assert located.line_of(("timeline", 2, "message")) == 13
    assert located.line_of(("nothing", "here")) == 2
    assert yamlsrc.load("").line_of(("x",)) == 1


def test_alias_paths_point_where_the_alias_is_used() -> None:
    located = yamlsrc.load("a: &x\n  b: 1\n\nc: *x\n")
    assert located.data == {"a": {"b": 1}, "c": {"b": 1}}
    assert located.line_of(("a", "b")) == 2
    assert located.line_of(("c",)) == 4
    assert located.line_of(("c", "b")) == 4


def test_merge_keys_index_merged_values_and_overrides() -> None:
    located = yamlsrc.load("base: &b {x: 1, y: 2}\nuse:\n  <<: *b\n  y: 3\n")
    assert located.data["use"] == {"x": 1, "y": 3}
    assert located.issues == ()
    assert located.line_of(("use", "y")) == 4
    assert located.line_of(("use", "x")) == 1


def test_duplicate_keys_are_issues_at_the_repeated_key() -> None:
    located = yamlsrc.load("a: 1\nb:\n  c: 1\n  c: 2\na: 3\n")
    assert [(i.path, i.line, i.message) for i in located.issues] == [
        (("b", "c"), 4, "duplicate key (also on line 3); YAML would keep only the last one"),
        (("a",), 5, "duplicate key (also on line 1); YAML would keep only the last one"),
    ]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("1: x\n", "key 1 is read as a number; quote it: '1'"),
        ("1.5: x\n", "key 1.5 is read as a number; quote it: '1.5'"),
        ("on: x\n", "key on is read as true/false; quote it: 'on'"),
        ("yes: x\n", "key yes is read as true/false; quote it: 'yes'"),
        ("~: x\n", "key ~ is read as null; quote it: '~'"),
        ("2020-01-01: x\n", "key 2020-01-01 is read as a date; quote it: '2020-01-01'"),
    ],
)
def test_keys_that_are_not_text_are_issues(text: str, message: str) -> None:
    located = yamlsrc.load(text)
    assert [(i.line, i.message) for i in located.issues] == [(1, message)]


def test_quoted_keys_are_text() -> None:
    located = yamlsrc.load("'on': 1\n\"1\": 2\n")
    assert located.issues == ()
    assert located.data == {"on": 1, "1": 2}


@pytest.mark.parametrize(
    ("text", "line", "phrase"),
    [
        ("a: 1\n  b: 2\n", 2, "YAML: mapping values are not allowed here"),
        ("a: [1, 2\n", 2, "YAML: while parsing a flow sequence"),
        ("a: !!python/object:os.system {}\n", 1, "could not determine a constructor for the tag"),
        ("a: !!python/name:os.system ''\n", 1, "could not determine a constructor"),
        ("a: 1\n---\nb: 2\n", 2, "expected a single document in the stream"),
        ("a: *nope\n", 1, "found undefined alias 'nope'"),
        ("a: 1\nb: @x\n", 2, "cannot start any token"),
        ("? [a]\n: 1\n", 1, "found unhashable key"),
    ],
)
def test_yaml_that_safe_load_refuses_is_a_syntax_error(text: str, line: int, phrase: str) -> None:
    with pytest.raises(yaml.YAMLError):
        yaml.safe_load(text)
    with pytest.raises(yamlsrc.YamlSyntaxError) as info:
        yamlsrc.load(text)
    assert info.value.line == line
    assert phrase in info.value.message
    assert info.value.message.startswith("YAML: ")
    assert "\n" not in info.value.message


def test_object_tags_say_what_is_allowed() -> None:
    with pytest.raises(yamlsrc.YamlSyntaxError) as info:
        yamlsrc.load("a: !!python/object/apply:os.system ['true']\n")
    assert info.value.message.endswith("(only plain YAML is allowed, as yaml.safe_load reads it: no !! or ! tags)")


@pytest.mark.parametrize(("text", "line"), [("a: &x\n  b: *x\n", 2), ("a: &x [1, *x]\n", 1), ("- &x [*x]\n", 1)])
def test_recursive_aliases_are_refused(text: str, line: int) -> None:
    with pytest.raises(yamlsrc.YamlSyntaxError) as info:
        yamlsrc.load(text)
    assert info.value.line == line
    assert "recursive alias" in info.value.message


def test_alias_bombs_are_refused_quickly() -> None:
    rows = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    rows += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 9)]
    started = time.perf_counter()
    with pytest.raises(yamlsrc.YamlSyntaxError) as info:
        yamlsrc.load("\n".join(rows) + "\n")
    assert "aliases are expanded" in info.value.message
    assert time.perf_counter() - started < 5


def test_a_few_shared_aliases_are_fine() -> None:
    located = yamlsrc.load("a: &a [1, 2]\nb: [*a, *a, *a]\n")
    assert located.data == {"a": [1, 2], "b": [[1, 2]] * 3}
