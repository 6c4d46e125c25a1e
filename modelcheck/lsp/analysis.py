"""What an editor asks about a spec's text: its diagnostics and the names in it.

The language server (server.py) only translates between the protocol and this
module, which knows nothing of it, so everything here is plain data and testable
without a client. Nothing is parsed or typed twice: the text goes through the
parser and the checker that `modelcheck check` uses, the checker's annotations
(`Expr.type`, `Name.ref`) say what every name denotes, and the warnings are the
lint's. Positions are the diagnostics' `Span`s: 1-based lines, columns in
characters (the server converts them to the client's units).
"""
from __future__ import annotations

import bisect
from dataclasses import dataclass, field

from ..lang import syntax as S
from ..lang.checker import BUILTINS, Checker, CheckedSpec
from ..lang.diagnostics import Diagnostic, Source, Span, SpecError
from ..lang.parser import KEYWORDS, MAX_SPEC_BYTES, parse
from ..lang.types import Type, collection_elem

# What each kind of name is called in a hover.
KIND_WORDS = {
    "variable": "variable", "ghost": "ghost variable", "local": "local", "localvar": "local variable",
    "const": "const", "enum": "enum", "member": "enum member", "role": "role", "message": "message kind",
    "field": "message field", "action": "action", "parameter": "parameter", "property": "property",
    "invariant": "invariant", "scenario": "scenario", "spec": "spec", "builtin": "built-in function",
    "clock": "the node's clock", "now": "true time",
}

BUILTIN_SIGNATURES = {
    "len": "len(x): size of a set, seq or map", "min": "min(S): smallest integer of a non-empty set",
    "max": "max(S): largest integer of a non-empty set", "append": "append(s, e): s with e added at the end",
    "last": "last(s): last element of a non-empty seq", "keys": "keys(m): the set of a map's keys",
    "crashed": "crashed(n): node n is down (invariants and properties only)",
    "index": "index(n): node n's number within its role, from 0", "indices": "indices(s): the set of a seq's indexes",
}


@dataclass(frozen=True)
class Symbol:
    """One occurrence of a name: where it is, what it names, where that is declared
    (None for built-ins) and its type as the checker's messages write it."""

    span: Span
    name: str
    kind: str  # a key of KIND_WORDS
    decl: Span | None
    type: str | None = None
    owner: str | None = None  # the role of a variable, action or handler parameter; the message of a field


@dataclass
class Analysis:
    """A spec text, analysed: diagnostics in source order, and its names."""

    source: Source
    diagnostics: list[Diagnostic]
    spec: S.Spec | None = None
    checked: CheckedSpec | None = None
    symbols: list[Symbol] = field(default_factory=list)
    bom: bool = False  # the text began with a byte-order mark (Source drops it: line 1 columns shift by one)

    @property
    def has_errors(self) -> bool:
        return any(d.severity == "error" for d in self.diagnostics)

    def symbol_at(self, line: int, column: int) -> Symbol | None:
        """The innermost name occurrence covering (line, column)."""
        hits = [s for s in self.symbols if _covers(s.span, line, column)]
        return min(hits, key=lambda s: (s.span.end_line - s.span.line, s.span.end_column - s.span.column),
                   default=None)

    def declaration_line(self, sym: Symbol) -> str:
        return self.source.line(sym.decl.line).strip() if sym.decl and sym.decl.line else ""


def analyze(path: str, text: str) -> Analysis:
    """Parse and check `text` (no lint: see `lint_warnings`). Every error is kept, and
    the names are indexed even when the checker found errors."""
    bom = text.startswith("\ufeff")
    if len(text.encode("utf-8", "surrogatepass")) > MAX_SPEC_BYTES:
        return Analysis(Source(path, ""), [Diagnostic(
            "E000", f"the spec is too large: more than {MAX_SPEC_BYTES // 2**20} MB", Span(0, 0, 0, 0),
            "a spec is a small text file; check that this is the right file")], bom=bom)
    source = Source(path, text.replace("\r\n", "\n").replace("\r", "\n"))
    try:
        spec = parse(source)
    except SpecError as err:
        return Analysis(source, list(err.diagnostics), bom=bom)
    checker = Checker(spec, {})
    checked, diagnostics = None, []
    try:
        checked = checker.run()
    except SpecError as err:
        diagnostics = list(err.diagnostics)
    return Analysis(source, diagnostics, spec, checked, _Index(spec, checker).symbols, bom)


def lint_warnings(analysis: Analysis) -> tuple[list[Diagnostic], list[Diagnostic]]:
    """What `modelcheck check` adds to a spec that type-checks: the errors of building
    the model (initial values, property domains), else the lint's warnings; and the
    lint's notes (checks it skipped). The same steps as the command (static_check.py)."""
    from ..static_check import static_check

    if analysis.checked is None:
        return [], []
    try:
        found = static_check(analysis.checked, analysis.source)
    except SpecError as err:
        return list(err.diagnostics), []
    return found.warnings, found.notes


# ---- the index of names -----------------------------------------------------------------

def _covers(span: Span, line: int, column: int) -> bool:
    if not span.line or (line, column) < (span.line, span.column):
        return False
    return (line, column) < (span.end_line, span.end_column) or (line, column) == (span.end_line, span.end_column)


class _Index:
    """Every name occurrence of a parsed and checked spec, declarations included."""

    def __init__(self, spec: S.Spec, checker: Checker):
        self.spec = spec
        self.checker = checker
        self.symbols: list[Symbol] = []
        self.consts = {c.name: c for c in spec.consts}
        self.enums = {e.name: e for e in spec.enums}
        self.members = {m: (e, sp) for e in spec.enums for m, sp in e.members}
        self.roles = {r.name: r for r in spec.roles}
        self.messages = {m.name: m for m in spec.messages}
        self.ghosts = {g.name: g for g in spec.ghosts}
        self._declarations()
        for x in S.walk(spec):
            self._node(x)
        self.symbols.sort(key=lambda s: (s.span.line, s.span.column, s.span.end_line, s.span.end_column, s.kind))

    def add(self, span: Span, name: str, kind: str, decl: Span | None, type_: Type | str | None = None,
            owner: str | None = None) -> None:
        if span.line:
            self.symbols.append(Symbol(span, name, kind, decl, str(type_) if type_ is not None else None, owner))

    def _declarations(self) -> None:
        spec, ck = self.spec, self.checker
        self.add(spec.span, spec.name, "spec", spec.span)
        for c in spec.consts:
            self.add(c.span, c.name, "const", c.span, _const_text(ck, c.name))
        for e in spec.enums:
            self.add(e.span, e.name, "enum", e.span, ck.enums.get(e.name))
            for m, sp in e.members:
                self.add(sp, m, "member", sp, ck.enums.get(e.name), e.name)
        for m in spec.messages:
            self.add(m.span, m.name, "message", m.span, _message_text(ck, m.name))
            info = ck.messages.get(m.name)
            types = dict(info.fields) if info else {}
            for f in m.fields:
                self.add(f.span, f.name, "field", f.span, types.get(f.name), m.name)
        for g in spec.ghosts:
            info = ck.ghosts.get(g.name)
            self.add(g.span, g.name, "ghost", g.span, info.type if info else None)
        for r in spec.roles:
            info = ck.roles.get(r.name)
            self.add(r.span, r.name, "role", r.span, _role_text(info))
            for v in r.vars:
                vinfo = info.var(v.name) if info else None
                self.add(v.span, v.name, "variable", v.span, vinfo.type if vinfo else None, r.name)
            for h in r.handlers:
                self._message_ref(h.span, h.name)
                msg = ck.messages.get(h.name)
                for i, (p, sp) in enumerate(h.params):
                    t = msg.fields[i][1] if msg and i < len(msg.fields) else None
                    if p != "_":
                        self.add(sp, p, "local", sp, t, r.name)
                if h.sender is not None and h.sender[0] != "_":
                    self.add(h.sender[1], h.sender[0], "local", h.sender[1], "node", r.name)
            for a in r.actions:
                self.add(a.span, a.name, "action", a.span, None, r.name)
                for p in a.params:
                    self.add(p.span, p.name, "parameter", p.span, a.param_types.get(p.name), r.name)
        for f in (spec.faults or []) + [f for sc in spec.scenarios for f in sc.faults]:
            if f.role is not None:
                self._global_ref(f.role[1], f.role[0])
        for sc in spec.scenarios:
            self.add(sc.span, sc.name, "scenario", sc.span)
        for p in spec.invariants + spec.properties:
            self.add(p.span, p.name, p.kind, p.span)

    def _message_ref(self, span: Span, name: str) -> None:
        m = self.messages.get(name)
        self.add(span, name, "message", m.span if m else None, _message_text(self.checker, name) if m else None)

    def _global_ref(self, span: Span, name: str) -> None:
        """A name the checker did not annotate (a const in a type's bound, a role in a
        fault line or a type): it can only be a global declaration."""
        ck = self.checker
        if name in self.consts:
            self.add(span, name, "const", self.consts[name].span, _const_text(ck, name))
        elif name in self.roles:
            self.add(span, name, "role", self.roles[name].span, _role_text(ck.roles.get(name)))
        elif name in self.enums:
            self.add(span, name, "enum", self.enums[name].span, ck.enums.get(name))
        elif name in self.members:
            e, sp = self.members[name]
            self.add(span, name, "member", sp, ck.enums.get(e.name), e.name)
        elif name in self.ghosts:
            info = ck.ghosts.get(name)
            self.add(span, name, "ghost", self.ghosts[name].span, info.type if info else None)

    def _node(self, x) -> None:  # noqa: C901 - one case per syntax form that names something
        if isinstance(x, S.Name):
            self._name(x)
        elif isinstance(x, S.Field) and x.name_span.line:
            self._field(x)
        elif isinstance(x, S.Call) and x.func in BUILTINS:
            self.add(x.func_span, x.func, "builtin", None, x.type)
        elif isinstance(x, S.Send):
            self._message_ref(x.message_span, x.message)
        elif isinstance(x, S.NamedTypeExpr):
            self._global_ref(x.span, x.name)
        elif isinstance(x, S.Let):
            self.add(x.name_span, x.name, "local", x.name_span, x.value.type)
        elif isinstance(x, S.LetAny):
            t = x.domain.type
            self.add(x.name_span, x.name, "local", x.name_span, collection_elem(t) if t is not None else None)
        elif isinstance(x, S.LocalVar):
            self.add(x.name_span, x.name, "localvar", x.name_span, x.ref.type if x.ref else None)

    def _name(self, x: S.Name) -> None:
        if not x.ref:
            self._global_ref(x.span, x.id)
            return
        kind, payload = x.ref
        if kind == "var":
            owner = next((r.name for r in self.checker.roles.values() if payload in r.vars), None)
            self.add(x.span, x.id, "variable", payload.span, x.type, owner)
        elif kind == "ghost":
            self.add(x.span, x.id, "ghost", payload.span, x.type)
        elif kind == "localvar":
            self.add(x.span, x.id, "localvar", payload.span, x.type)
        elif kind == "local":
            self.add(x.span, x.id, "local", payload if isinstance(payload, Span) else None, x.type)
        elif kind in ("clock", "now"):
            self.add(x.span, x.id, kind, None, x.type)
        else:  # const, enum member, role
            self._global_ref(x.span, x.id)

    def _field(self, x: S.Field) -> None:
        """`n.var`: the variable of n's role (of any role having it, when n's role is not known)."""
        role = getattr(x.obj.type, "role", None)
        roles = [self.checker.roles[role]] if role in self.checker.roles else list(self.checker.roles.values())
        for r in roles:
            v = r.var(x.name)
            if v is not None:
                self.add(x.name_span, x.name, "variable", v.span, v.type, r.name)
                return


def _const_text(ck: Checker, name: str) -> str | None:
    return f"int = {ck.consts[name]}" if name in ck.consts else None


def _message_text(ck: Checker, name: str) -> str | None:
    m = ck.messages.get(name)
    return f"{name}(" + ", ".join(f"{n}: {t}" for n, t in m.fields) + ")" if m else None


def _role_text(info) -> str | None:
    if info is None:
        return None
    return f"{info.size} node{'s' if info.size != 1 else ''}" if info.count is not None else "a single node"


# ---- hover and completion ---------------------------------------------------------------

def hover_markdown(analysis: Analysis, sym: Symbol) -> str:
    """A code block with the declaration's line, then what the name is and its type."""
    what = KIND_WORDS.get(sym.kind, sym.kind)
    if sym.owner and sym.kind in ("variable", "action", "parameter"):
        what += f" of role {sym.owner}"
    elif sym.owner and sym.kind == "field":
        what += f" of {sym.owner}"
    elif sym.owner and sym.kind == "member":
        what += f" of {sym.owner}"
    parts = []
    if sym.kind == "builtin":
        parts.append(f"```ha\n{BUILTIN_SIGNATURES.get(sym.name, sym.name)}\n```")
    elif sym.decl is not None:
        parts.append(f"```ha\n{analysis.declaration_line(sym)}\n```")
    line = f"**{sym.name}**: {what}"
    if sym.type:
        line += f" · type `{sym.type}`" if sym.kind not in ("message", "role", "const") else f" · `{sym.type}`"
    if sym.decl is not None and sym.decl.line:
        line += f" · declared at line {sym.decl.line}"
    parts.append(line)
    return "\n\n".join(parts)


@dataclass(frozen=True)
class Completion:
    label: str
    kind: str  # a key of KIND_WORDS, or "keyword" or "type"
    detail: str | None = None


TYPE_WORDS = ("bool", "node", "set", "map", "seq")


def completions(analysis: Analysis | None, line_text: str, line: int, column: int) -> list[Completion]:
    """Names that fit at (line, column), where `line_text` is the current text of that
    line (the analysis may be of an older version, from before the edit that broke the
    parse): message kinds after send/broadcast/reply/on, types after a declaration's
    ':', a role's variables after '.', else the names in scope, built-ins and keywords."""
    before = line_text[:max(column - 1, 0)]
    stem = before.rstrip("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_")
    words = stem.split()
    prev = words[-1] if words else ""
    spec = analysis.spec if analysis is not None else None
    symbols = analysis.symbols if analysis is not None else []
    decls = {(s.name, s.kind): s for s in symbols if s.decl == s.span}
    out: dict[str, Completion] = {}

    def put(sym: Symbol) -> None:
        out.setdefault(sym.name, Completion(sym.name, sym.kind, sym.type))

    if prev in ("send", "broadcast", "reply", "on"):
        for s in decls.values():
            if s.kind == "message":
                put(s)
        return sorted(out.values(), key=lambda c: c.label)
    if stem.endswith("."):
        for s in decls.values():
            if s.kind == "variable":
                put(s)
        return sorted(out.values(), key=lambda c: c.label)
    if _in_type_position(stem):
        for s in decls.values():
            if s.kind in ("enum", "role"):
                put(s)
        for w in TYPE_WORDS:
            out.setdefault(w, Completion(w, "type"))
        return sorted(out.values(), key=lambda c: c.label)
    region = _region(spec, line, column) if spec is not None else None
    for s in symbols:
        if s.decl is None or s.kind in ("message", "action", "scenario", "spec", "field", "invariant", "property"):
            continue
        if s.kind in ("local", "localvar", "parameter"):
            if region is None or not (region[0] <= (s.decl.line, s.decl.column) < (line, column)):
                continue
        elif s.kind == "variable":
            if region is None or s.owner != region[1]:
                continue
        put(s)
    for f in sorted(BUILTINS):
        out.setdefault(f, Completion(f, "builtin", BUILTIN_SIGNATURES.get(f)))
    for k in sorted(KEYWORDS):
        out.setdefault(k, Completion(k, "keyword"))
    return sorted(out.values(), key=lambda c: (c.kind == "keyword", c.label))


def _in_type_position(stem: str) -> bool:
    """Whether the text before the cursor ends in a declaration's ':' (or a type's '<', ',')."""
    s = stem.rstrip()
    if s.endswith(("<", "?")):
        return True
    if not s.endswith((":", ",")):
        return False
    head = s.split()[0] if s.split() else ""
    return head in ("var", "persistent", "ghost", "message", "action") or s.lstrip().startswith("var ")


def _region(spec: S.Spec, line: int, column: int) -> tuple[tuple[int, int], str | None] | None:
    """Where the handler, action or property around (line, column) starts, and its role
    (None outside roles): its names are in scope from there on."""
    top: list[tuple[tuple[int, int], object]] = []
    for d in spec.consts + spec.enums + spec.messages + spec.ghosts + spec.roles + spec.scenarios \
            + spec.invariants + spec.properties:
        top.append(((d.span.line, d.span.column), d))
    top.sort(key=lambda t: t[0])
    i = bisect.bisect_right([t[0] for t in top], (line, column)) - 1
    if i < 0:
        return None
    start, decl = top[i]
    if not isinstance(decl, S.RoleDecl):
        return start, None
    items = sorted([(h.span.line, h.span.column) for h in decl.handlers]
                   + [(a.span.line, a.span.column) for a in decl.actions])
    j = bisect.bisect_right(items, (line, column)) - 1
    return (items[j] if j >= 0 else start), decl.name
