"""Text with {placeholders}: parsed once, checked at load time, rendered per job."""

from __future__ import annotations

import json
import string
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

_FORMATTER = string.Formatter()


class PlaceholderError(ValueError):
    """A malformed template or a placeholder that is not declared."""


@dataclass(frozen=True)
class Template:
    """Literal text and placeholder names, alternating: parsed from '{a} and {{b}}'."""

    parts: tuple[tuple[str, str | None], ...]
    source: str

    @property
    def names(self) -> tuple[str, ...]:
        """The placeholder names in order of appearance."""
        return tuple(name for _, name in self.parts if name is not None)

    def render(self, values: Mapping[str, Any]) -> str:
        """The text with each placeholder replaced; absent params.* render as ''."""
        if len(self.parts) == 1 and self.parts[0][1] is None:
            return self.parts[0][0]
        out = []
        for literal, name in self.parts:
            out.append(literal)
            if name is not None:
                value = values.get(name, "")
                out.append(value if isinstance(value, str) else _scalar_text(value))
        return "".join(out)


def _scalar_text(value: Any) -> str:
    """Text of a non-string value as JSON would spell it."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value, separators=(",", ":"))
    return str(value)


def parse(text: str) -> Template:
    """Parse text; raises PlaceholderError for a lone brace or a format spec."""
    try:
        raw = list(_FORMATTER.parse(text))
    except ValueError as exc:
        if "'}'" in str(exc) and "Single" in str(exc):
            raise PlaceholderError("a lone } (write }} for a literal brace)") from None
        raise PlaceholderError("a { without its closing } (write {{ for a literal brace)") from None
    parts: list[tuple[str, str | None]] = []
    for literal, name, spec, conversion in raw:
        if name is not None:
            if not name:
                raise PlaceholderError("empty placeholder {} (write {{}} for literal braces)")
            if spec or conversion:
                raise PlaceholderError(f"placeholder {{{name}}} may not carry a format or conversion")
        parts.append((literal, name))
    return Template(tuple(parts), text)


def check(template: Template, declared: frozenset[str]) -> None:
    """Raise PlaceholderError naming the first placeholder that is not declared."""
    for name in template.names:
        if name.startswith("params.") and len(name) > len("params."):
            continue
        if name not in declared:
            known = ", ".join(sorted(declared)) + ", params.NAME"
            raise PlaceholderError(f"undeclared placeholder {{{name}}} (known: {known})")


def render_value(value: Any, values: Mapping[str, Any]) -> Any:
    """Render every string inside a JSON-like value (strings may hold placeholders)."""
    if isinstance(value, Template):
        if len(value.parts) == 1 and not value.parts[0][0] and value.parts[0][1]:
            return values.get(value.parts[0][1], "")  # a lone placeholder keeps its type
        return value.render(values)
    if isinstance(value, dict):
        return {k: render_value(v, values) for k, v in value.items()}
    if isinstance(value, list):
        return [render_value(v, values) for v in value]
    return value


def compile_value(value: Any) -> Any:
    """Replace every string inside a JSON-like value by its Template."""
    if isinstance(value, str):
        return parse(value)
    if isinstance(value, dict):
        return {k: compile_value(v) for k, v in value.items()}
    if isinstance(value, list):
        return [compile_value(v) for v in value]
    return value


def templates_in(value: Any) -> list[tuple[tuple[str | int, ...], Template]]:
    """Every Template inside a compiled value, with its relative path."""
    if isinstance(value, Template):
        return [((), value)]
    found: list[tuple[tuple[str | int, ...], Template]] = []
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, item in items:
        found.extend(((key, *sub), t) for sub, t in templates_in(item))
    return found
