"""Compiler-style diagnostics: a span, a stable code, a message and a hint.

Every error a user can cause is reported through `SpecError`, which carries
structured `Diagnostic`s; rendering is separate (`render`), so the CLI, tests and
JSON output all see the same data. Codes are stable and listed in
docs/diagnostics.md.
"""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Span:
    """A region of a spec file, 1-based line and column (end is exclusive)."""

    line: int
    column: int
    end_line: int
    end_column: int

    @staticmethod
    def from_meta(meta) -> "Span":
        if getattr(meta, "empty", True):
            return Span(0, 0, 0, 0)
        return Span(meta.line, meta.column, meta.end_line, meta.end_column)

    @staticmethod
    def point(line: int, column: int, width: int = 1) -> "Span":
        return Span(line, column, line, column + width)

    def to(self, other: "Span") -> "Span":
        return Span(self.line, self.column, other.end_line, other.end_column)


NO_SPAN = Span(0, 0, 0, 0)


@dataclass(frozen=True)
class Diagnostic:
    code: str
    message: str
    span: Span
    hint: str | None = None
    severity: str = "error"


@dataclass
class Source:
    """A spec's text and the name to show for it. A leading byte-order mark (some
    editors write one) is dropped, so that columns count from the first character."""

    path: str
    text: str
    lines: list[str] = field(init=False)

    def __post_init__(self) -> None:
        if self.text.startswith("\ufeff"):
            self.text = self.text[1:]
        self.lines = self.text.splitlines()

    def line(self, n: int) -> str:
        return self.lines[n - 1] if 1 <= n <= len(self.lines) else ""

    def slice(self, span: Span) -> str:
        """The source text a span covers (for showing sub-expressions)."""
        if span.line == 0:
            return ""
        if span.line == span.end_line:
            return self.line(span.line)[span.column - 1:span.end_column - 1]
        parts = [self.line(span.line)[span.column - 1:]]
        parts += [self.line(n) for n in range(span.line + 1, span.end_line)]
        parts.append(self.line(span.end_line)[:span.end_column - 1])
        return " ".join(p.strip() for p in parts)


class SpecError(Exception):
    """One or more user-caused errors; the CLI renders them and exits 2.

    `source` is the spec they point into, when known (the Python API, modelcheck/api.py,
    sets it): then str() renders them as the CLI does, file:line:col, line and caret."""

    def __init__(self, diagnostics: list[Diagnostic], source: Source | None = None):
        super().__init__("; ".join(d.message for d in diagnostics))
        self.diagnostics = diagnostics
        self.source = source

    @property
    def path(self) -> str | None:
        return self.source.path if self.source is not None else None

    def __str__(self) -> str:
        return render_all(self.diagnostics, self.source) if self.source is not None else super().__str__()


def render(diag: Diagnostic, source: Source | None, paint=None) -> str:
    """Format like a compiler: `file:line:col: error[E101]: msg`, the source line, a
    caret, the hint. The code is shown as rustc shows it, in brackets after the
    severity. `paint(role, text)` (modelcheck/style.py) colours it on a terminal."""
    p = paint or (lambda _role, text: text)
    path = source.path if source else "<spec>"
    span = diag.span
    label = p(diag.severity, diag.severity + (f"[{diag.code}]" if diag.code else ""))
    message = p("bold", diag.message)
    if span.line == 0 or source is None:
        out = [f"{path}: {label}: {message}"]
    else:
        out = [f"{path}:{span.line}:{span.column}: {label}: {message}"]
        text = source.line(span.line).expandtabs(1)
        gutter = f"{span.line:>5} | "
        width = 1
        if span.end_line == span.line and span.end_column > span.column:
            width = span.end_column - span.column
        elif span.end_line > span.line:
            width = max(1, len(text) - span.column + 1)
        text, column, width = _clip(text, span.column, width)
        out.append(gutter + text)
        out.append(" " * (len(gutter) - 2) + "| " + " " * (column - 1) + p(diag.severity, "^" + "~" * (width - 1)))
    if diag.hint:
        out.append(f"  {p('hint', 'hint')}: {diag.hint}")
    return "\n".join(out)


MAX_SHOWN = 160  # characters of a source line shown under a diagnostic


def _clip(text: str, column: int, width: int) -> tuple[str, int, int]:
    """A window of a long source line around `column` (a generated spec may have
    one line of megabytes), with the caret's column and width moved into it."""
    if len(text) <= MAX_SHOWN:
        return text, column, width
    start = max(0, min(column - 1 - MAX_SHOWN // 3, len(text) - MAX_SHOWN))
    end = start + MAX_SHOWN
    head = "..." if start > 0 else ""
    tail = "..." if end < len(text) else ""
    column = column - start + len(head)
    width = max(1, min(width, end - start + len(head) - column + 1))
    return head + text[start:end] + tail, column, width


def render_all(diags: list[Diagnostic], source: Source | None, paint=None) -> str:
    return "\n\n".join(render(d, source, paint) for d in diags)


def did_you_mean(name: str, candidates) -> str | None:
    """The closest candidate by edit distance, if it is close enough to help."""
    import difflib

    matches = difflib.get_close_matches(name, sorted(set(candidates)), n=1, cutoff=0.6)
    return matches[0] if matches else None
