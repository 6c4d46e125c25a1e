"""How wide a line of diagram text is, from the font's own metrics, and how to wrap it.

Why: the sequence diagram is laid out in Python (so a report is the same bytes on
every machine and readable without running a script), and a layout is only as
good as its text widths. The diagram's text is set in DejaVu Sans Mono (Menlo, its
macOS twin, has the same metrics): every glyph advances 1233/2048 em, and the line
box is 1901/2048 em above the baseline and 483/2048 em below it (the font's hhea
ascender and descender). A monospaced font makes a width exact arithmetic on
columns: East Asian wide characters take two, combining marks none. When a browser
lacks both fonts, the page's script (static/diagram.js) measures the real font at
load time and squeezes text back to these widths.
"""
from __future__ import annotations

import re
import unicodedata

FAMILY = '"DejaVu Sans Mono", Menlo, "Liberation Mono", Consolas, monospace'
ADVANCE = 1233 / 2048  # em per column
ASCENT = 1901 / 2048  # em above the baseline
DESCENT = 483 / 2048  # em below it
CONTINUE = "  "  # a wrapped line's continuation starts indented


def columns(text: str) -> int:
    """Monospace columns the text takes."""
    n = 0
    for ch in text:
        if unicodedata.combining(ch):
            continue
        n += 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1
    return n


def width(text: str, size: float) -> float:
    """Advance width in px of `text` at font size `size` px."""
    return columns(text) * ADVANCE * size


_BREAK = re.compile(r"(?<=[ ,])(?=\S)")  # after a space or comma, before the next word


def wrap(text: str, room: float, size: float) -> list[str]:
    """`text` as lines no wider than `room` px: broken after spaces and commas where it
    can, inside a word only when one word alone is too wide; continuation lines are
    indented. Nothing is dropped: the lines hold every non-blank character of `text`,
    in order."""
    if width(text, size) <= room:
        return [text]
    per_line = max(4, int(room / (ADVANCE * size)))
    lines: list[str] = []
    line = ""
    for word in _BREAK.split(text):
        lead = CONTINUE if lines else ""
        if columns(lead + (line + word).rstrip(" ")) <= per_line:
            line += word
            continue
        if line.strip():
            lines.append(lead + line.rstrip(" "))
            lead = CONTINUE
        line = ""
        while columns(lead + word.rstrip(" ")) > per_line:  # one word too long for a line: cut it
            cut = _prefix(word, per_line - columns(lead))
            lines.append(lead + cut)
            word, lead = word[len(cut):], CONTINUE
        line = word
    if line.strip():
        lines.append((CONTINUE if lines else "") + line.rstrip(" "))
    return lines


def _prefix(word: str, cols: int) -> str:
    n = 0
    for i, ch in enumerate(word):
        n += columns(ch)
        if n > max(cols, 1):
            return word[:max(i, 1)]
    return word
