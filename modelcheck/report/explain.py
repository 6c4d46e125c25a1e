"""Why an invariant failed: the values of its sub-expressions in the bad state.

For `count(s in Server where s.leader) <= 1` this shows the count and which
nodes were counted; for a failed `forall` it names the element that breaks it
and explains the body for that element. Works on any invariant by walking its
AST and evaluating sub-expressions with the same compiled closures the checker
uses.
"""
from __future__ import annotations

import dataclasses

from ..lang import operators
from ..lang import syntax as S
from ..engine.compiler import Compiler, Ctx
from ..lang.diagnostics import Source
from ..lang.values import Renderer, SpecRuntimeError

MAX_LINES = 40
MAX_DEPTH = 12
_TRIVIAL = (S.IntLit, S.BoolLit, S.NoneLit)


class Explainer:
    def __init__(self, compiler: Compiler, source: Source, render: Renderer):
        self.compiler = compiler
        self.source = source
        self.render = render
        self.witness: list[int] = []

    def explain(self, expr: S.Expr, ctx: Ctx) -> list[tuple[int, str]]:
        """Lines (depth, text), outermost first. Afterwards `self.witness` holds the
        indices of the lines that name the elements the verdict turns on ("fails for
        c = (2, 11):", "... counted: Server[0], Server[1]", "no n in Node satisfies
        ...", "holds for p = ..."): what a report shows first."""
        lines: list[tuple[int, str]] = []
        self.witness = []
        self._walk(expr, ctx, 0, lines)
        self.witness = [i for i in self.witness if i < MAX_LINES]
        return lines[:MAX_LINES]

    def _value(self, e: S.Expr, ctx: Ctx):
        return self.compiler.expr(e)(ctx)

    def _walk(self, e: S.Expr, ctx: Ctx, depth: int, lines: list) -> None:
        if isinstance(e, _TRIVIAL) or len(lines) >= MAX_LINES:
            return
        if isinstance(e, S.Name) and e.ref and e.ref[0] in ("const", "enum", "role"):
            return
        text = self.source.slice(e.span)
        try:
            v = self._value(e, ctx)
        except SpecRuntimeError as err:
            lines.append((depth, f"{text}  raises: {err.message}"))
            return
        if isinstance(v, bool):
            shown = f"{text}  is {'true' if v else 'false'}"
        else:
            shown = f"{text} = {self.render.text(v, e.type)}"
        op = operators.lookup(e)  # how an operator is shown: its entry's `explain`
        if op is not None and op.explain == operators.COMPARE:
            shown += f"   ({self._short(e.left, ctx)} {e.op} {self._short(e.right, ctx)})"
        if isinstance(e, S.Count):
            counted = self._members(e.var, e.domain, e.cond, ctx)
            shown += "   counted: " + (", ".join(counted) if counted else "nothing")
            self.witness.append(len(lines))
        lines.append((depth, shown))
        if depth >= MAX_DEPTH:
            return
        if op is not None and op.explain == operators.TERMS:
            for operand in _flatten(e) if isinstance(e, S.BinOp) else operators.operands(e):
                self._walk(operand, ctx, depth + 1, lines)
        elif op is not None:
            # Operand values are already inline; only expand operands with more to say.
            for operand in operators.operands(e):
                if isinstance(operand, (S.Count, S.Quant, S.SetComp, S.BinOp, S.Not)):
                    self._walk(operand, ctx, depth + 1, lines)
        elif isinstance(e, S.Ite):
            self._walk(e.cond, ctx, depth + 1, lines)
        elif isinstance(e, S.Quant):
            self._quant(e, v, ctx, depth, lines)

    def _short(self, e: S.Expr, ctx: Ctx) -> str:
        try:
            return self.render.text(self._value(e, ctx), e.type)
        except SpecRuntimeError:
            return "?"

    def _members(self, var: str, domain: S.Expr, cond: S.Expr | None, ctx: Ctx) -> list[str]:
        elem_t = domain.type.elem if hasattr(domain.type, "elem") else domain.type
        out = []
        for x in self.compiler.domain(domain)(ctx):
            ctx.env[var] = x
            if cond is None or self._value(cond, ctx):
                out.append(self.render.text(x, elem_t))
        ctx.env.pop(var, None)
        return out

    def _quant(self, e: S.Quant, v, ctx: Ctx, depth: int, lines: list) -> None:
        elem_t = e.domain.type.elem if hasattr(e.domain.type, "elem") else e.domain.type
        if e.kind == "forall" and not v:
            for x in self.compiler.domain(e.domain)(ctx):
                ctx.env[e.var] = x
                if not self._value(e.body, ctx):
                    self.witness.append(len(lines))
                    lines.append((depth + 1, f"fails for {e.var} = {self.render.text(x, elem_t)}:"))
                    self._walk(e.body, ctx, depth + 2, lines)
                    break
            ctx.env.pop(e.var, None)
        elif e.kind == "exists" and not v:
            self.witness.append(len(lines))
            lines.append((depth + 1, f"no {e.var} in {self.source.slice(e.domain.span)} satisfies "
                                     f"{self.source.slice(e.body.span)}"))
        elif e.kind == "exists" and v:
            witness = self._members(e.var, e.domain, e.body, ctx)
            self.witness.append(len(lines))
            lines.append((depth + 1, f"holds for {e.var} = " + ", ".join(witness)))


@dataclasses.dataclass
class Explanation:
    """A violated invariant or property, explained in the state where it fails."""

    lines: list[tuple[int, str]]  # (depth, text), as Explainer.explain gives them
    witness: list[str]  # the lines naming what the verdict turns on (Explainer.witness)


def explain_violation(model, source: Source, violation, state) -> Explanation:
    """The explanation of `violation` (an invariant or property; others have none) in
    `state`: the last state of the trace, or where a liveness cycle starts."""
    explainer = Explainer(model.compiler, source, model.render)
    lines: list[tuple[int, str]] = []
    if violation.kind == "invariant":
        decl = next((i.decl for i in model.invariants if i.name == violation.name), None)
        if decl is not None:
            lines = explainer.explain(decl.expr, model.global_ctx(state))
    elif violation.kind == "property":
        prop = next((p for p in model.properties if p.name == violation.name), None)
        if prop is not None:
            ctx = model.global_ctx(state)
            ctx.env = {name: val for name, val, _ in violation.binding}
            lines = explainer.explain(prop.q_expr, ctx)
    return Explanation(lines, [lines[i][1].rstrip(":") for i in explainer.witness] if lines else [])


def _flatten(e: S.BinOp) -> list[S.Expr]:
    """`a and b and c` as [a, b, c] (same for `or`); `=>` as its two sides."""
    if e.op == "=>":
        return [e.left, e.right]
    out = []
    for side in (e.left, e.right):
        if isinstance(side, S.BinOp) and side.op == e.op:
            out += _flatten(side)
        else:
            out.append(side)
    return out
