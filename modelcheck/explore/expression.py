"""Evaluate an expression typed into the explorer, in the current state.

Why this way: the page must never run anything but the spec language. The text is
parsed by the spec's own parser (as the body of one more `invariant` appended to the
spec's text), type-checked by the spec's own checker in an invariant's scope (every
node, ghost, const, `now`; no `self`), compiled by the model's compiler and evaluated
on the state, exactly as `verify` evaluates an invariant. Unlike an invariant, any
type is accepted: `Server[0].log` shows a sequence, `count s in Server where s.leader`
a number. A mistake comes back as the usual diagnostics text (code, caret, hint),
positioned in the expression itself.
"""
from __future__ import annotations

import dataclasses
import functools
from dataclasses import dataclass

from ..engine.compiler import Compiler
from ..engine.model import Model, State
from ..lang.checker import Checker
from ..lang.diagnostics import Diagnostic, Source, Span, SpecError, render_all
from ..lang.parser import parse
from ..lang.values import Renderer, SpecRuntimeError
from ..report.explain import Explainer

MAX_CHARS = 2000  # an expression, not a spec
NAME = "explore__expression"  # the appended invariant's name: one the spec is unlikely to use
SHOWN_AS = "<expression>"  # what diagnostics call the typed text


@dataclass
class Evaluation:
    """An expression's value in one state, or why it has none."""

    ok: bool
    value: str | None = None  # as the spec writes values ("true", "{Server[0]}", "3")
    type: str | None = None
    explanation: list[tuple[int, str]] = dataclasses.field(default_factory=list)  # as verify's "why" lines
    diagnostics: str | None = None  # the rendered diagnostics (code, caret, hint) when not ok

    def json(self) -> dict:
        return {"ok": self.ok, "value": self.value, "type": self.type,
                "explanation": [{"depth": d, "text": t} for d, t in self.explanation],
                "diagnostics": self.diagnostics}


class _ExpressionChecker(Checker):
    """The spec's checker, then one expression in an invariant's scope, any type."""

    def check_expression(self, expr):
        checked = self.run()  # the spec itself: it checked before, so this raises nothing
        self.role, self.scopes = None, [{}]
        t = self.expr(expr)
        if self.errors:
            raise SpecError(sorted(self.errors, key=lambda d: (d.span.line, d.span.column)))
        return checked, t


def evaluate(model: Model, text: str, state: State) -> Evaluation:
    """`text` evaluated in `state` of `model` (built from `model.source`)."""
    text = text.strip()
    shown = Source(SHOWN_AS, text)
    if not text:
        return _failed([Diagnostic("E001", "type an expression, e.g. an invariant's body", Span.point(1, 1))], shown)
    if len(text) > MAX_CHARS:
        return _failed([Diagnostic("E001", f"the expression is {len(text):,} characters long",
                                   Span.point(1, 1), f"at most {MAX_CHARS:,}")], shown)
    if "\n" in text or "\r" in text:
        return _failed([Diagnostic("E001", "an expression is one line", Span.point(1, text.find("\n") + 1),
                                   "join the lines with spaces")], shown)
    head = f"invariant {NAME}: "
    base = model.source.text.rstrip("\n") + "\n"
    line = base.count("\n") + 1
    whole = Source(model.source.path, base + head + text + "\n")

    def moved(d: Diagnostic) -> Diagnostic:
        s = d.span
        if s.line != line:  # past the expression (a missing operand at the end): point after it
            return dataclasses.replace(d, span=Span.point(1, len(text) + 1))
        end = s.end_column - len(head) if s.end_line == line else len(text) + 1
        return dataclasses.replace(d, span=Span(1, max(1, s.column - len(head)), 1, max(1, end)))

    spec = None
    try:
        spec = parse(whole)
        extra = [p for p in spec.invariants if p.name == NAME]
        if len(extra) != 1 or _shape(spec) != _base_shape(model.source.text, model.source.path):
            return _failed([Diagnostic("E001", "this is more than one expression", Span.point(1, 1),
                                       "type a single expression, e.g. an invariant's body")], shown)
        expr = extra[0].expr
        spec.invariants = [p for p in spec.invariants if p.name != NAME]
        checked, t = _ExpressionChecker(spec, model.checked.consts).check_expression(expr)
    except SpecError as err:
        return _failed([moved(d) for d in err.diagnostics], shown)
    compiler = Compiler(checked, whole)
    ctx = model.global_ctx(state)
    try:
        value = compiler.expr(expr)(ctx)
    except SpecRuntimeError as err:
        span = err.span if err.span is not None and err.span.line else Span.point(line, len(head) + 1)
        return _failed([moved(Diagnostic("", err.message, span, severity="run-time error"))], shown)
    render = Renderer(checked.node_names)
    explanation = Explainer(compiler, whole, render).explain(expr, model.global_ctx(state))
    return Evaluation(True, render.text(value, t), str(t), explanation)


def evaluate_invariant(model: Model, name: str, state: State) -> Evaluation:
    """One of the spec's invariants in `state`, with the values of its parts (as
    `verify` explains a violation); its text may span lines, so it is not re-parsed."""
    inv = next((i for i in model.invariants if i.name == name), None)
    if inv is None:
        known = ", ".join(i.name for i in model.invariants) or "none"
        return _failed([Diagnostic("E104", f"the spec has no invariant '{name}'", Span.point(1, 1),
                                   f"invariants: {known}")], Source(SHOWN_AS, name))
    ctx = model.global_ctx(state)
    try:
        value = model.compiler.expr(inv.decl.expr)(ctx)
    except SpecRuntimeError as err:
        return Evaluation(False, diagnostics=render_all([Diagnostic("", err.message, err.span,
                                                                    severity="run-time error")], model.source))
    explanation = Explainer(model.compiler, model.source, model.render).explain(inv.decl.expr,
                                                                               model.global_ctx(state))
    return Evaluation(True, "true" if value else "false", "bool", explanation)


def _shape(spec, extra: int = 0) -> tuple:
    """What a parsed spec declares, by kind (how many of each, the network and time
    blocks): the typed text may add exactly one invariant and nothing else."""
    out = []
    for f in dataclasses.fields(spec):
        v = getattr(spec, f.name)
        if isinstance(v, list):
            out.append(len(v) + (extra if f.name == "invariants" else 0))
        elif f.name in ("name", "delivery", "delivery_span"):
            out.append(v)
        elif f.name != "span":
            out.append(None if v is None else getattr(v, "span", len(v) if isinstance(v, list) else True))
    return tuple(out)


@functools.lru_cache(maxsize=8)
def _base_shape(text: str, path: str) -> tuple:
    return _shape(parse(Source(path, text)), extra=1)


def _failed(diags: list[Diagnostic], shown: Source) -> Evaluation:
    return Evaluation(False, diagnostics=render_all(diags, shown))
