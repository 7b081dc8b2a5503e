"""Secrets a client sends (passwords, tokens, keys) are never shown back: not in lists, pages or the journal."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

MASK = "***"
# A parameter whose name holds one of these words carries a secret.
_WORDS = r"passw|pwd|secret|token|api[_-]?key|credential|authoriz"
SECRET_NAME = re.compile(rf"(?i)({_WORDS})")
_SECRET_PAIR = re.compile(rf"(?i)(?<![^&?])([^&=]*(?:{_WORDS})[^&=]*)=[^&]*")


def masked(params: Mapping[str, Any]) -> dict[str, Any]:
    """params with the value of every secret-named key replaced by ***."""
    return {k: MASK if SECRET_NAME.search(k) and v not in ("", None) else v for k, v in params.items()}


_PLAIN: set[str] = set()  # queries seen to hold no secret (polls repeat a few of them), so kept
_PLAIN_MAX = 1024


def masked_query(query: str) -> str:
    """A query string with the value of every secret-named parameter replaced by ***."""
    if query in _PLAIN:
        return query
    out = _SECRET_PAIR.sub(rf"\1={MASK}", query)
    if out == query:
        if len(_PLAIN) >= _PLAIN_MAX:
            _PLAIN.clear()
        _PLAIN.add(query)
    return out
