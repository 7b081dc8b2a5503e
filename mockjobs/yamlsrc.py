"""YAML read with yaml.safe_load semantics, keeping the line of every value."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import yaml

from .limits import MAX_STRING, MAX_YAML_VALUES

Path = tuple[str | int, ...]

MAX_NODES = MAX_YAML_VALUES  # counting each use of an alias: keeps "billion laughs" files from hanging a check
# What YAML refuses to read (C0 and C1 controls other than tab and line breaks, surrogates, U+FFFE/F).
_UNREADABLE = re.compile("[^\x09\x0a\x0d\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_MERGE = "tag:yaml.org,2002:merge"
_STR = "tag:yaml.org,2002:str"
_KINDS = {
    "tag:yaml.org,2002:int": "a number",
    "tag:yaml.org,2002:float": "a number",
    "tag:yaml.org,2002:bool": "true/false",
    "tag:yaml.org,2002:null": "null",
    "tag:yaml.org,2002:timestamp": "a date",
}


@dataclass(frozen=True)
class KeyIssue:
    """A mapping key that YAML accepts but a JSON-like document cannot use."""

    path: Path  # the key's own path: its mapping's path plus the key as written
    line: int
    message: str


@dataclass(frozen=True)
class Located:
    """A parsed YAML document and the 1-based line of each value, keyed by field path."""

    data: Any
    lines: dict[Path, int]
    issues: tuple[KeyIssue, ...] = field(default=())

    def line_of(self, path: Path) -> int:
        """The line of the value at path, or of its nearest ancestor that exists."""
        while path not in self.lines and path:
            path = path[:-1]
        return self.lines.get(path, 1)


class YamlSyntaxError(Exception):
    """YAML that yaml.safe_load refuses, with the line (and column, when known) where it failed."""

    def __init__(self, line: int, message: str, column: int | None = None) -> None:
        self.line = line
        self.column = column
        self.message = message
        super().__init__(f"{line}: {message}")


# libyaml's parser when PyYAML has it (several times faster), with the same safe constructor.
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load(text: str) -> Located:
    """Parse text as yaml.safe_load would and index each value's line by its path.

    Duplicate keys and keys that are not text (``1:``, ``on:``, ``2024-01-01:``) are kept
    as issues; recursive aliases and runaway alias expansion raise YamlSyntaxError.
    """
    bad = _UNREADABLE.search(text)
    if bad is not None:
        line = text.count("\n", 0, bad.start()) + 1
        column = bad.start() - (text.rfind("\n", 0, bad.start()) + 1) + 1
        raise YamlSyntaxError(
            line,
            f"YAML: the control character U+{ord(bad.group()):04X} at column {column} is not allowed;"
            " remove it, or write it as an escape (\\x07, \\u001b) inside double quotes",
            column,
        )
    try:
        return _load(text, _Loader)
    except YamlSyntaxError:
        if _Loader is yaml.SafeLoader:
            raise
    return _load(text, yaml.SafeLoader)  # the pure parser words its errors best


def _load(text: str, loader_class: type) -> Located:
    """load() with one loader class."""
    try:
        loader = loader_class(text)
    except yaml.YAMLError as exc:  # the reader checks the characters first
        raise YamlSyntaxError(1, "YAML: " + " ".join(str(exc).split())) from None
    try:
        node = loader.get_single_node()
        issues: list[KeyIssue] = []
        if node is not None:
            _inspect(node, (), issues, set(), [0, set(), False], 1)  # before construction flattens merge keys
        data = loader.construct_document(node) if node is not None else None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        column = mark.column + 1 if mark else None
        raise YamlSyntaxError(line, _describe(exc, text, line, column), column) from None
    except yaml.YAMLError as exc:
        raise YamlSyntaxError(1, "YAML: " + " ".join(str(exc).split())) from None
    except RecursionError:
        raise YamlSyntaxError(1, "YAML: nested too deeply") from None
    finally:
        loader.dispose()
    lines: dict[Path, int] = {}
    if node is not None:
        _index(node, (), lines, set())
    return Located(data, lines, tuple(issues))


def _describe(exc: yaml.MarkedYAMLError, source: str, line: int, column: int | None) -> str:
    """One line out of PyYAML's multi-line message, with the column and a hint for the common mistakes."""
    parts = [p for p in (exc.context, exc.problem) if p]
    text = " ".join(("; ".join(parts) or "invalid YAML").split())
    text = f"YAML: {text}, column {column}" if column else f"YAML: {text}"
    hint = _hint(text, source.split("\n")[line - 1] if 0 < line <= source.count("\n") + 1 else "")
    return f"{text} ({hint})" if hint else text


def _hint(problem: str, line_text: str) -> str:
    """What usually causes this parser error, or ''."""
    if "constructor for the tag" in problem:
        return "only plain YAML is allowed, as yaml.safe_load reads it: no !! or ! tags"
    if "'\\t'" in problem or "\t" in line_text[: len(line_text) - len(line_text.lstrip())]:
        return "YAML indents with spaces, never tabs"
    if "{" in line_text and ("expected" in problem or "mapping values" in problem):
        return 'quote text that holds {placeholders}, e.g. message: "Step {n} of {total}"'
    if "mapping values are not allowed" in problem:
        return 'quote text that holds ": ", e.g. description: "note: this"'
    if "expected <block end>" in problem or "did not find expected key" in problem:
        return "check the indentation: the keys of one mapping, and the items of one list, start in the same column"
    return ""


def _line(node: yaml.Node) -> int:
    return node.start_mark.line + 1


def _inspect(node: yaml.Node, path: Path, issues: list[KeyIssue], stack: set[int], count: list[Any], at: int) -> None:
    """Find duplicate and non-text keys; refuse recursive aliases and alias bombs (at: where node is used)."""
    count[0] += 1
    if id(node) in count[1]:
        count[2] = True  # met again: an alias
    count[1].add(id(node))
    if count[0] > MAX_NODES:
        how = " once aliases are expanded" if count[2] else ""
        raise YamlSyntaxError(_line(node), f"YAML: more than {MAX_NODES} values{how}, the limit of one scenario")
    if not isinstance(node, (yaml.MappingNode, yaml.SequenceNode)):
        if isinstance(node, yaml.ScalarNode) and len(node.value) > MAX_STRING:
            issues.append(
                KeyIssue(path, _line(node), f"text of {len(node.value)} characters; the limit is {MAX_STRING}")
            )
        return
    if id(node) in stack:
        raise YamlSyntaxError(at, "YAML: a recursive alias (a value that contains itself) has no JSON form")
    stack.add(id(node))
    if isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _inspect(item, (*path, i), issues, stack, count, at if id(item) in stack else _line(item))
    else:
        seen: dict[str, int] = {}
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE:
                _inspect(value_node, path, [], stack, count, _line(key_node))  # merged mappings may repeat keys
                continue
            if isinstance(key_node, yaml.ScalarNode):
                key = key_node.value
                if key_node.tag != _STR:
                    kind = _KINDS.get(key_node.tag, "not text")
                    issues.append(
                        KeyIssue((*path, key), _line(key_node), f"key {key} is read as {kind}; quote it: {key!r}")
                    )
                elif key in seen:
                    issues.append(
                        KeyIssue(
                            (*path, key),
                            _line(key_node),
                            f"duplicate key (also on line {seen[key]}); YAML would keep only the last one",
                        )
                    )
                else:
                    seen[key] = _line(key_node)
                _inspect(value_node, (*path, key), issues, stack, count, _line(key_node))
            else:
                issues.append(KeyIssue((*path, "?"), _line(key_node), "a key must be text, not a list or mapping"))
    stack.discard(id(node))


def _index(node: yaml.Node, path: Path, lines: dict[Path, int], seen: set[int], line: int = 0) -> None:
    """Record the line of node at path (or the given line), then of its children."""
    lines[path] = line or _line(node)
    if id(node) in seen:
        return  # an alias: its insides are indexed where the anchor is; errors point here
    if isinstance(node, (yaml.MappingNode, yaml.SequenceNode)):
        seen.add(id(node))
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else str(key_node)
            if key == "<<":
                continue
            # A block collection starts below its key: point at the key, where readers look.
            at = _line(key_node) if not isinstance(value_node, yaml.ScalarNode) else 0
            _index(value_node, (*path, key), lines, seen, at)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _index(item, (*path, i), lines, seen)
