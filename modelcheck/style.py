"""Colour on a terminal: verdicts, diagnostics and replay outcomes.

Why one module: every command decides the same way whether a stream gets colour
(`--color auto|always|never`; `auto`, the default, colours a terminal unless the
`NO_COLOR` environment variable is set and not empty, https://no-color.org, or
TERM is `dumb`) and uses the same palette. Renderers stay plain: they take an
optional `paint` (this module's `painter(stream)`), so JSON, files, the Python API
and the tests never see escape codes.
"""
from __future__ import annotations

import os
from typing import Callable, TextIO

MODES = ("auto", "always", "never")
_mode = "auto"

# What gets which SGR code. Severity labels of diagnostics are keys too.
PALETTE = {
    "error": "1;31", "violated": "1;31", "assert failed": "1;31", "run-time error": "1;31", "diverges": "1;31",
    "warning": "1;33", "unsupported": "1;33", "incomplete": "1;33",
    "note": "1;36", "hint": "1;36",
    "holds": "1;32", "ok": "1;32",
    "bold": "1",
}

Paint = Callable[[str, str], str]


def set_mode(mode: str) -> None:
    global _mode
    if mode not in MODES:
        raise ValueError(mode)
    _mode = mode


def enabled(stream: TextIO) -> bool:
    if _mode != "auto":
        return _mode == "always"
    if os.environ.get("NO_COLOR") or os.environ.get("TERM") == "dumb":
        return False
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # a closed or fake stream
        return False


def paint(role: str, text: str) -> str:
    code = PALETTE.get(role.split("[")[0].lower())
    return f"\033[{code}m{text}\033[0m" if code and text else text


def painter(stream: TextIO) -> Paint | None:
    """`paint` when `stream` gets colour, else None (plain text)."""
    return paint if enabled(stream) else None
