"""YAML read with yaml.safe_load semantics, keeping the line of every value."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import yaml

Path = tuple[str | int, ...]


@dataclass(frozen=True)
class Located:
    """A parsed YAML document and the 1-based line of each value, keyed by field path."""

    data: Any
    lines: dict[Path, int]

    def line_of(self, path: Path) -> int:
        """The line of the value at path, or of its nearest ancestor that exists."""
        while path not in self.lines and path:
            path = path[:-1]
        return self.lines.get(path, 1)


class YamlSyntaxError(Exception):
    """YAML that yaml.safe_load refuses, with the line where it failed."""

    def __init__(self, line: int, message: str) -> None:
        self.line = line
        self.message = message
        super().__init__(f"{line}: {message}")


def load(text: str) -> Located:
    """Parse text as yaml.safe_load would and index each value's line by its path."""
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        raise YamlSyntaxError(line, _describe(exc)) from None
    except yaml.YAMLError as exc:
        raise YamlSyntaxError(1, str(exc)) from None
    finally:
        loader.dispose()
    lines: dict[Path, int] = {}
    if node is not None:
        _index(node, (), lines)
    return Located(data, lines)


def _describe(exc: yaml.MarkedYAMLError) -> str:
    """One line out of PyYAML's multi-line message."""
    parts = [p for p in (exc.context, exc.problem) if p]
    text = "; ".join(parts) or "invalid YAML"
    return "YAML: " + " ".join(text.split())


def _index(node: yaml.Node, path: Path, lines: dict[Path, int], line: int = 0) -> None:
    """Record the line of node at path (or the given line), then of its children."""
    lines[path] = line or node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else str(key_node)
            if key == "<<":
                continue
            # A block collection starts below its key: point at the key, where readers look.
            key_line = key_node.start_mark.line + 1
            at = key_line if not isinstance(value_node, yaml.ScalarNode) else 0
            _index(value_node, (*path, key), lines, at)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _index(item, (*path, i), lines)
