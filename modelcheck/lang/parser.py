"""Spec text -> AST (`syntax.Spec`), with parse errors a user can act on.

The grammar ships inside the package (`modelcheck.grammar`, mapped from the
top-level `grammar/` folder by pyproject.toml). Parsing stops at the first
syntax error; it is reported with a position, the source line, a caret, and the
expected input described in words rather than lark's terminal names.
"""
from __future__ import annotations

import copy
import functools
import os
import re
import stat
from importlib import resources
from pathlib import Path

import lark
from lark import Token, v_args
from lark.parsers.lalr_analysis import Shift
from lark.visitors import Transformer_NonRecursive

from ..faults import KINDS
from . import syntax as S
from .diagnostics import Diagnostic, Source, Span, SpecError

# Words that start or continue expressions and statements: never usable as names.
# The other keywords (fault kinds, delivery modes, declaration words, type names)
# only mean something in their own block, so lark's contextual lexer lets them
# serve as names elsewhere (a variable may be called `loss` or `node`).
HARD_KEYWORDS = {
    "true", "false", "none", "self", "not", "and", "or", "in", "has", "count", "forall", "exists",
    "if", "then", "else", "elif", "where", "for", "eventually", "always", "leads_to", "any",
    "let", "send", "broadcast", "reply", "require", "assert",
}
TYPE_KEYWORDS = {"bool", "node", "set", "map", "seq"}
# Words that begin a declaration at the top level or inside a role: one of them
# where a statement or an expression was expected usually means a '}' is missing.
BLOCK_KEYWORDS = {"spec", "const", "enum", "message", "ghost", "role", "network", "faults", "scenario",
                  "invariant", "property", "measure", "time", "on", "action", "var", "persistent"}
MAX_SPEC_BYTES = 1024 * 1024  # 80 times the largest example; parsing 1 MB takes seconds, and the bound keeps /dev/zero-like inputs out

KEYWORDS = {
    "spec", "const", "enum", "message", "ghost", "var", "persistent", "role", "network",
    "delivery", "unordered", "fifo", "set", "faults", "scenario", "invariant", "property",
    "measure", "at", "most",
    "on", "from", "when", "action", "bool", "node", "map", "seq", "let", "any", "if", "elif",
    "else", "for", "in", "send", "to", "broadcast", "reply", "require", "assert", "then",
    "forall", "exists", "and", "or", "not", "has", "true", "false", "none", "self", "count",
    "where", "eventually", "always", "leads_to", "time", "max", "within", "skew",
    "register", "invoke", "complete",
} | set(KINDS)


def _grammar_text() -> str:
    try:
        return resources.files("modelcheck.grammar").joinpath("ha.lark").read_text("utf-8")
    except (ModuleNotFoundError, FileNotFoundError):
        # Running from a source checkout without installing: grammar/ is a sibling.
        here = Path(__file__).resolve().parents[2] / "grammar" / "ha.lark"
        return here.read_text("utf-8")


@functools.lru_cache(maxsize=1)
def _parser() -> lark.Lark:
    # cache=True keeps the LALR tables in the temp dir (keyed by grammar hash): ~0.6 s saved per run.
    p = lark.Lark(_grammar_text(), parser="lalr", lexer="contextual", propagate_positions=True, cache=True,
                  maybe_placeholders=True)
    p.parser.lexer = _SoftKeywords(p.parser.lexer)
    return p


# The words that are keywords only where the grammar uses them (see KEYWORDS).
SOFT_KEYWORDS = frozenset(KEYWORDS - HARD_KEYWORDS)
_NAME_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


def _fed(states: dict, stack: list, ttype: str) -> tuple[list | None, set]:
    """The LALR state stack after the parser takes one token of type `ttype` (its
    reductions, then the shift), or None when it cannot; and the terminals the
    parser expected where it stopped. Simulated on a copy: nothing is built."""
    stack = list(stack)
    while True:
        row = states[stack[-1]]
        action = row.get(ttype)
        if action is None:
            return None, {t for t in row if t.isupper() or not t[:1].isalpha()}
        kind, arg = action
        if kind is Shift:
            stack.append(arg)
            return stack, set()
        size = len(arg.expansion)
        if size:
            del stack[-size:]
        goto = states[stack[-1]].get(arg.origin.name)
        if goto is None:  # reduced to the start symbol: the input is complete
            return stack, set()
        stack.append(goto[1])


class _SoftKeywords:
    """The contextual lexer, with one rule added: a soft keyword (a word of KEYWORDS
    that is not in HARD_KEYWORDS) is a keyword only where the parser can take it as
    one, and otherwise a name.

    Why: lark's contextual lexer picks a keyword whenever the keyword is in the
    lookahead set of the parser's current LALR state, and LALR merges lookahead sets
    of states that differ only in where they were reached from. After `x = 1`
    inside a block, the state that reduces `1` is shared with `const N = 1` at the
    top level, where `role` may follow; so `role` was lexed as the keyword and the
    next statement, `role = true`, failed, although `x = 1; role = true` parsed
    (after `;` no merged state is involved). Newlines must mean nothing, so each
    soft keyword is checked against the parse table itself (simulated, nothing is
    built): the keyword when the parser can shift it, a name when only a name fits.
    When both fit (`broadcast M()` may be followed by `to S` or by a statement
    `to = 1`), the next token decides, and the keyword wins a tie.

    A keyword taken as a name that the parser then rejects right away (`on Ping`
    inside a block whose `}` is missing: `on` fits as the start of `on = ...`)
    reports the error at the keyword, as if it had not been taken as a name
    (`after_retyped`)."""

    def __init__(self, inner):
        self.inner = inner
        self.last: Token | None = None  # the token handed to the parser last
        # (keyword, what the parser expected there) when `last`, or the token before it,
        # is a keyword taken as a name
        self.last_retyped: tuple[Token, set] | None = None
        self.prev_retyped: tuple[Token, set] | None = None

    def lex(self, lexer_state, parser_state):
        self.last = self.last_retyped = self.prev_retyped = None
        states = parser_state.parse_conf.states
        for tok in self.inner.lex(lexer_state, parser_state):
            self.prev_retyped, self.last_retyped = self.last_retyped, None
            if tok.type != "NAME" and tok.value in SOFT_KEYWORDS:
                stack = parser_state.state_stack
                as_kw, expected = _fed(states, stack, tok.type)
                as_name, _ = _fed(states, stack, "NAME")
                if as_name is not None and (as_kw is None or not self._next_fits(states, as_kw, lexer_state)
                                            and self._next_fits(states, as_name, lexer_state)):
                    self.last_retyped = (tok, expected or {tok.type})
                    tok = Token.new_borrow_pos("NAME", tok.value, tok)
            self.last = tok
            yield tok

    def retyped_before(self, err) -> tuple[Token, set] | None:
        """The keyword taken as a name right before the token `err` rejects, if any."""
        if not isinstance(err, lark.exceptions.UnexpectedToken) or err.token.type == "$END":
            return None
        if err.token is self.last:  # the parser rejected it
            return self.prev_retyped
        return self.last_retyped  # the lexer found nothing the parser could take after `last`

    def _next_fits(self, states: dict, stack: list, lexer_state) -> bool:
        """Whether the token after the current one can follow, with the parser at `stack`."""
        try:
            nxt = self.inner.root_lexer.next_token(copy.copy(lexer_state))
        except EOFError:
            return "$END" in states[stack[-1]]
        except lark.exceptions.LarkError:
            return False
        types = [nxt.type]
        if nxt.type != "NAME" and nxt.value in SOFT_KEYWORDS:
            types.append("NAME")
        return any(_fed(states, stack, t)[0] is not None for t in types)


def _span(item) -> Span:
    if isinstance(item, Token):
        return Span(item.line, item.column, item.end_line, item.end_column)
    return Span.from_meta(item)


def _fault_line(kind):
    """The builder of one fault kind's line: [Role] if the kind takes one, then the
    optional budget, then (pause) the length."""
    takes_role = KINDS[kind].takes_role

    def build(self, meta, c):
        role = None
        if takes_role:
            role, *c = c
            role = (str(role), _span(role)) if role is not None else None
        budget, *rest = c
        return S.FaultDecl(kind, role, budget, Span.from_meta(meta), rest[0] if rest else None)
    return build


# Top-level declarations kept in a list of the Spec, in source order.
_DECL_LISTS = {S.ConstDecl: "consts", S.EnumDecl: "enums", S.MessageDecl: "messages", S.VarDecl: "ghosts",
               S.RoleDecl: "roles", S.ScenarioDecl: "scenarios", S.RegisterDecl: "registers"}


@v_args(meta=True)
class _ToAst(Transformer_NonRecursive):
    """Builds `syntax` dataclasses from lark's tree; one method per grammar rule.
    Non-recursive: a chain of thousands of `and`s is a tree that deep."""

    # ---- declarations ----
    def start(self, meta, children):
        head, *decls = children
        spec = S.Spec(name=head[0], span=head[1])
        for d in decls:
            if d is None:
                continue
            listed = _DECL_LISTS.get(type(d))
            if listed is not None:
                getattr(spec, listed).append(d)
            elif isinstance(d, S.PropertyDecl):
                {"invariant": spec.invariants, "property": spec.properties, "measure": spec.measures}[d.kind].append(d)
            elif isinstance(d, tuple) and d[0] == "network":
                if spec.delivery_span.line:
                    raise SpecError([Diagnostic("E102", "duplicate network block", d[2],
                                                "declare the delivery mode once")])
                spec.delivery, spec.delivery_span = d[1], d[2]
            elif isinstance(d, S.TimeDecl):
                if spec.time is not None:
                    raise SpecError([Diagnostic("E102", "duplicate time block", d.span,
                                                "declare max, delivery within and skew in one time block")])
                spec.time = d
            elif isinstance(d, tuple) and d[0] == "faults":
                if spec.faults is not None:
                    raise SpecError([Diagnostic("E102", "duplicate faults block", d[2],
                                                "list every fault in one faults block")])
                spec.faults = d[1]
        return spec

    def spec_decl(self, meta, c):
        return (str(c[0]), _span(c[0]))

    def const_decl(self, meta, c):
        return S.ConstDecl(str(c[0]), _span(c[0]), c[1])

    def enum_decl(self, meta, c):
        return S.EnumDecl(str(c[0]), _span(c[0]), [(str(t), _span(t)) for t in c[1:]])

    def message_decl(self, meta, c):
        return S.MessageDecl(str(c[0]), _span(c[0]), [f for f in c[1:] if f is not None])

    def field(self, meta, c):
        return S.FieldDecl(str(c[0]), _span(c[0]), c[1])

    def ghost_decl(self, meta, c):
        return S.VarDecl(str(c[0]), _span(c[0]), c[1], c[2], persistent=True, ghost=True)

    def var_decl(self, meta, c):
        return S.VarDecl(str(c[0]), _span(c[0]), c[1], c[2])

    def persistent_var_decl(self, meta, c):
        return S.VarDecl(str(c[0]), _span(c[0]), c[1], c[2], persistent=True)

    def role_decl(self, meta, c):
        name, count, *items = c
        role = S.RoleDecl(str(name), _span(name), count, [], [], [], None)
        for item in items:
            if isinstance(item, S.VarDecl):
                role.vars.append(item)
            elif isinstance(item, S.HandlerDecl):
                role.handlers.append(item)
            elif isinstance(item, S.ActionDecl):
                role.actions.append(item)
            elif isinstance(item, tuple) and item[0] == "restart":
                if role.restart is not None:
                    raise SpecError([Diagnostic("E102", f"role '{role.name}' has two 'on restart' handlers",
                                                item[2], "merge them into one")])
                role.restart, role.restart_span = item[1], item[2]
        return role

    def handler(self, meta, c):
        msg, params, sender, guard, body = c
        return S.HandlerDecl(str(msg), _span(msg), params or [], sender, guard, body)

    def handler_params(self, meta, c):
        return [(str(t), _span(t)) for t in c if t is not None]

    def sender(self, meta, c):
        return (str(c[0]), _span(c[0]))

    def restart_handler(self, meta, c):
        return ("restart", c[0], Span.from_meta(meta))

    def action(self, meta, c):
        name, *rest = c
        body = rest[-1]
        guard = rest[-2]
        params = [p for p in rest[:-2] if isinstance(p, S.FieldDecl)]
        return S.ActionDecl(str(name), _span(name), params, guard, body)

    def network_decl(self, meta, c):
        return ("network", c[0], Span.from_meta(meta))

    def unordered(self, meta, c):
        return "unordered"

    def fifo(self, meta, c):
        return "fifo"

    def set_delivery(self, meta, c):
        return "set"

    def faults_decl(self, meta, c):
        return ("faults", list(c), Span.from_meta(meta))

    def scenario_decl(self, meta, c):
        return S.ScenarioDecl(str(c[0]), _span(c[0]), list(c[1:]))

    def time_decl(self, meta, c):
        t = S.TimeDecl(Span.from_meta(meta))
        for kind, expr, span in c:
            if getattr(t, kind) is not None:
                word = {"max": "max", "within": "delivery within", "skew": "skew"}[kind]
                raise SpecError([Diagnostic("E102", f"'{word}' appears twice in the time block", span)])
            setattr(t, kind, expr)
        return t

    def time_max(self, meta, c):
        return ("max", c[0], Span.from_meta(meta))

    def time_within(self, meta, c):
        return ("within", c[0], Span.from_meta(meta))

    def time_skew(self, meta, c):
        return ("skew", c[0], Span.from_meta(meta))

    def eventually_heal(self, meta, c):
        return S.FaultDecl("eventually_heal", None, None, Span.from_meta(meta))

    def eventually_restart(self, meta, c):
        role = (str(c[0]), _span(c[0])) if c[0] is not None else None
        return S.FaultDecl("eventually_restart", role, None, Span.from_meta(meta))

    def budget(self, meta, c):
        return c[0]

    def register_decl(self, meta, c):
        return S.RegisterDecl(str(c[0]), _span(c[0]), c[1], c[2], c[3])

    def invoke_stmt(self, meta, c):
        return S.Invoke(Span.from_meta(meta), str(c[0]), str(c[1]), [a for a in c[2:] if a is not None],
                        _span(c[0]))

    def complete_stmt(self, meta, c):
        return S.Complete(Span.from_meta(meta), str(c[0]), str(c[1]), c[2], _span(c[0]))

    def invariant_decl(self, meta, c):
        return S.PropertyDecl(str(c[0]), _span(c[0]), "invariant", c[1])

    def property_decl(self, meta, c):
        return S.PropertyDecl(str(c[0]), _span(c[0]), "property", c[1])

    def measure_decl(self, meta, c):
        return S.PropertyDecl(str(c[0]), _span(c[0]), "measure", c[1])

    # ---- types ----

    def named_type(self, meta, c):
        return S.NamedTypeExpr(_span(c[0]), str(c[0]))

    def tuple_type(self, meta, c):
        return S.TupleTypeExpr(Span.from_meta(meta), list(c))

    # ---- statements ----
    def block(self, meta, c):
        return [s for s in c if s is not None]

    def _assign(op):
        def build(self, meta, c):
            return S.Assign(Span.from_meta(meta), c[0], op, c[1])
        return build

    assign = _assign("=")
    assign_add = _assign("+=")
    assign_sub = _assign("-=")
    assign_union = _assign("|=")

    def let_stmt(self, meta, c):
        return S.Let(Span.from_meta(meta), str(c[0]), c[1], _span(c[0]))

    def local_var(self, meta, c):
        return S.LocalVar(Span.from_meta(meta), str(c[0]), c[1], c[2], _span(c[0]))

    def let_any(self, meta, c):
        return S.LetAny(Span.from_meta(meta), str(c[0]), c[1], _span(c[0]))

    def if_stmt(self, meta, c):
        cond, body, *rest = c
        orelse = rest[-1]
        branches = [(cond, body)] + [e for e in rest[:-1]]
        return S.If(Span.from_meta(meta), branches, orelse)

    def elif_clause(self, meta, c):
        return (c[0], c[1])

    def for_stmt(self, meta, c):
        return S.For(Span.from_meta(meta), str(c[0]), c[1], c[2])

    def send_stmt(self, meta, c):
        return S.Send(Span.from_meta(meta), "send", str(c[0]), [a for a in c[1:-1] if a is not None],
                      c[-1], _span(c[0]))

    def broadcast_stmt(self, meta, c):
        return S.Send(Span.from_meta(meta), "broadcast", str(c[0]), [a for a in c[1:-1] if a is not None],
                      c[-1], _span(c[0]))

    def reply_stmt(self, meta, c):
        return S.Send(Span.from_meta(meta), "reply", str(c[0]), [a for a in c[1:] if a is not None],
                      None, _span(c[0]))

    def assert_stmt(self, meta, c):
        text = None
        if c[1] is not None:
            text = bytes(str(c[1])[1:-1], "utf-8").decode("unicode_escape")
        return S.Assert(Span.from_meta(meta), c[0], text)

    # ---- expressions ----
    def _binop(op):
        def build(self, meta, c):
            return S.BinOp(Span.from_meta(meta), op, c[0], c[1])
        return build

    implies = _binop("=>")
    or_ = _binop("or")
    and_ = _binop("and")
    eq = _binop("==")
    ne = _binop("!=")
    lt = _binop("<")
    le = _binop("<=")
    gt = _binop(">")
    ge = _binop(">=")
    in_ = _binop("in")
    not_in = _binop("not in")
    has = _binop("has")
    union = _binop("|")
    intersect = _binop("&")
    add = _binop("+")
    sub = _binop("-")
    mul = _binop("*")
    div = _binop("/")
    mod = _binop("%")
    range_lit = _binop("..")
    concat = _binop("++")

    def leads_to(self, meta, c):
        return S.Temporal(Span.from_meta(meta), "leads_to", [c[0], c[1]])

    def eventually(self, meta, c):
        return S.Temporal(Span.from_meta(meta), "eventually", [c[0]])

    def always(self, meta, c):
        return S.Temporal(Span.from_meta(meta), "always", [c[0]])

    def forall(self, meta, c):
        return S.Quant(Span.from_meta(meta), "forall", str(c[0]), c[1], c[2])

    def exists(self, meta, c):
        return S.Quant(Span.from_meta(meta), "exists", str(c[0]), c[1], c[2])

    def member(self, meta, c):
        return S.Field(Span.from_meta(meta), c[0], str(c[1]), _span(c[1]))

    def index(self, meta, c):
        obj = c[0]
        if isinstance(obj, Token):  # lvalue root
            obj = S.Name(_span(obj), str(obj))
        return S.Index(Span.from_meta(meta), obj, c[1])

    def int_lit(self, meta, c):
        return S.IntLit(_span(c[0]), _int_value(c[0]))

    def name(self, meta, c):
        return S.Name(_span(c[0]), str(c[0]))

    def call(self, meta, c):
        return S.Call(Span.from_meta(meta), str(c[0]), [a for a in c[1:] if a is not None], _span(c[0]))

    def count(self, meta, c):
        return S.Count(Span.from_meta(meta), str(c[0]), c[1], c[2])

    def tuple_lit(self, meta, c):
        return S.TupleLit(Span.from_meta(meta), [a for a in c if a is not None])

    def seq_lit(self, meta, c):
        return S.SeqLit(Span.from_meta(meta), [a for a in c if a is not None])

    def set_lit(self, meta, c):
        return S.SetLit(Span.from_meta(meta), [a for a in c if a is not None])

    def map_lit(self, meta, c):
        return S.MapLit(Span.from_meta(meta), list(c))

    def map_entry(self, meta, c):
        return (c[0], c[1])

    def set_comp(self, meta, c):
        return S.SetComp(Span.from_meta(meta), c[0], str(c[1]), c[2], c[3])


# ---- error messages -------------------------------------------------------------


# Rules whose node is its syntax class built from (span, *fixed values, *children).
_PLAIN = {
    "bool_type": (S.BoolTypeExpr, ()),
    "node_type": (S.NodeTypeExpr, ()),
    "range_type": (S.RangeTypeExpr, ()),
    "set_type": (S.SetTypeExpr, ()),
    "map_type": (S.MapTypeExpr, ()),
    "seq_type": (S.SeqTypeExpr, ()),
    "optional_type": (S.OptionalTypeExpr, ()),
    "require_stmt": (S.Require, ()),
    "ite": (S.Ite, ()),
    "not_": (S.Not, ()),
    "neg": (S.Neg, ()),
    "slice": (S.Slice, ()),
    "none_lit": (S.NoneLit, ()),
    "self_lit": (S.SelfRef, ()),
    "true_lit": (S.BoolLit, (True,)),
    "false_lit": (S.BoolLit, (False,)),
}


def _plain(cls, fixed: tuple):
    def build(self, meta, c):
        return cls(Span.from_meta(meta), *fixed, *c)
    return build


for _rule, (_cls, _fixed) in _PLAIN.items():
    setattr(_ToAst, _rule, v_args(meta=True)(_plain(_cls, _fixed)))

# One transformer method per fault kind, named after its grammar alias (= keyword).
for _kw in KINDS:
    setattr(_ToAst, _kw, v_args(meta=True)(_fault_line(_kw)))

_WORDS = {"NAME": "a name", "INT": "a number", "STRING": "a string in double quotes", "$END": "end of file"}
_EXPR_START = {"INT", "NAME", "true", "false", "none", "self", "(", "[", "{", "-", "not", "count"}
_STMT_START = {"let", "var", "if", "for", "send", "broadcast", "reply", "require", "assert", "invoke", "complete"}
_DECL_START = {"const", "enum", "message", "ghost", "role", "network", "faults", "scenario",
               "invariant", "property", "measure", "time", "register"}
_OPERATORS = {"+", "-", "++", "..", "*", "/", "%", "==", "!=", "<", "<=", ">", ">=", "and", "or", "=>",
              "in", "not", "has", "|", "&", ".", "[", "leads_to"}


@functools.lru_cache(maxsize=1)
def _terminal_text() -> dict[str, str]:
    """Map lark terminal names (e.g. 'RBRACE', '__ANON_3') to the text they match."""
    out = {}
    for t in _parser().terminals:
        if t.pattern.type == "str":
            out[t.name] = t.pattern.value
    return out


def describe_expected(expected: set[str]) -> str:
    texts = {_terminal_text().get(name, name) for name in expected}
    parts: list[str] = []
    if {"INT", "NAME", "("} <= texts and len(texts & _EXPR_START) >= 5:
        parts.append("an expression")
        texts -= _EXPR_START | {"forall", "exists", "if", "eventually", "always"}
    if len(texts & _STMT_START) >= 4:
        parts.append("a statement")
        texts -= _STMT_START
    if len(texts & _DECL_START) >= 4:
        parts.append("a declaration (const, enum, message, role, faults, invariant, ...)")
        texts -= _DECL_START
    if len(texts & _OPERATORS) >= 4:
        parts.append("an operator")
        texts -= _OPERATORS
    for t in sorted(texts):
        parts.append(_WORDS.get(t, f"'{t}'"))
    if not parts:
        return "something else"
    if len(parts) == 1:
        return parts[0]
    return ", ".join(parts[:-1]) + " or " + parts[-1]


def _token_words(tok: Token) -> str:
    if tok.type == "$END":
        return "end of file"
    return f"'{tok.value}'"


def _syntax_error(err: lark.exceptions.UnexpectedInput, source: Source) -> Diagnostic:
    if isinstance(err, lark.exceptions.UnexpectedCharacters):
        ch = source.text[err.pos_in_stream] if err.pos_in_stream < len(source.text) else "?"
        hint = None
        if ch == '"':
            hint = "strings may appear only as the message of an assert"
        elif ch == "'":
            hint = "strings use double quotes"
        elif ch == "\ufeff":
            hint = "a byte-order mark is allowed only at the very start of the file"
        shown = f"'{ch}'" if ch.isprintable() else ascii(ch)
        return Diagnostic("E001", f"unexpected character {shown}", Span.point(err.line, err.column), hint)
    if isinstance(err, lark.exceptions.UnexpectedToken):
        tok = err.token
        if tok.type == "$END":
            return _unexpected_end(err, source)
        unclosed = _unclosed_before_keyword(tok, source.text)
        if unclosed is not None:
            return unclosed
        expected = describe_expected(set(err.expected))
        hint = None
        if str(tok.value) in KEYWORDS and "NAME" in err.expected:
            hint = f"'{tok.value}' is a reserved keyword and cannot be used as a name"
        span = Span(tok.line, tok.column, tok.end_line or tok.line,
                    tok.end_column or tok.column + len(str(tok.value)))
        if str(tok.value) == "=" and "==" in {_terminal_text().get(n, n) for n in err.expected}:
            hint = "use '==' to compare; '=' assigns"
        prev = _token_before(source.text, tok.start_pos)
        if hint is None and prev is not None and prev.value == "count" and prev.type != "NAME":
            hint = "'count' is a reserved keyword (count(x in S where P)) and cannot be used as a name"
        return Diagnostic("E001", f"unexpected {_token_words(tok)}, expected {expected}", span, hint)
    return Diagnostic("E001", str(err), Span.point(getattr(err, "line", 1), getattr(err, "column", 1)))


def _unexpected_end(err: lark.exceptions.UnexpectedToken, source: Source) -> Diagnostic:
    stack, _ = _braces(source.text)
    if stack:
        return Diagnostic("E002", "unexpected end of file: a '{' is never closed", Span.point(*stack[-1]),
                          "add the missing '}' (this is the innermost '{' without one)")
    line = len(source.lines) or 1
    span = Span.point(line, len(source.line(line)) + 1)
    return Diagnostic("E001", f"unexpected end of file, expected {describe_expected(set(err.expected))}", span)


def _unclosed_before_keyword(tok: Token, text: str) -> Diagnostic | None:
    """A declaration keyword (`on`, `action`, `invariant`...) where a statement or an
    expression was expected, inside a '{' that the file never closes: the missing
    '}' belongs to that '{', so point there (as rustc does), not at the keyword."""
    if str(tok.value) not in BLOCK_KEYWORDS:  # lexed as a NAME or as the keyword, depending on the state
        return None
    stack, _ = _braces(text[:tok.start_pos])
    _, depth = _braces(text)
    if not stack or depth <= 0:
        return None
    line, col = stack[-1]
    return Diagnostic("E002", f"this '{{' is never closed: '{tok.value}' at line {tok.line}:{tok.column} "
                              "begins a new declaration inside it", Span.point(line, col),
                      f"add the missing '}}' before '{tok.value}' at line {tok.line}")


def _braces(text: str) -> tuple[list[tuple[int, int]], int]:
    """The '{' still open at the end of `text` (line, column; innermost last) and the
    number of '{' minus '}', ignoring comments and strings."""
    stack = []
    depth = 0
    line, col = 1, 0
    in_comment = in_string = False
    for ch in text:
        col += 1
        if ch == "\n":
            line, col, in_comment = line + 1, 0, False
            continue
        if in_comment:
            continue
        if in_string:
            in_string = ch != '"'
            continue
        if ch == "#":
            in_comment = True
        elif ch == '"':
            in_string = True
        elif ch == "{":
            stack.append((line, col))
            depth += 1
        elif ch == "}":
            depth -= 1
            if stack:
                stack.pop()
    return stack, depth


def _tokens(text: str) -> list[Token]:
    """`text` split by a lexer that knows no context, so keywords always come out as
    keywords (the parser's contextual lexer lets `var count` lex `count` as a name).
    Stops quietly at a character no token matches."""
    out = []
    try:
        for tok in _parser().lex(text):
            out.append(tok)
    except lark.exceptions.LarkError:
        pass
    return out


def _token_before(text: str, pos: int) -> Token | None:
    before = _tokens(text[:pos])
    return before[-1] if before else None


# A name is declared right after these words (`var NAME`, `for NAME in`, ...): what it names.
_DECLARES = {"spec": "the spec", "const": "a const", "enum": "an enum", "message": "a message kind",
             "role": "a role", "var": "a variable", "action": "an action", "let": "a local",
             "for": "a loop variable", "forall": "a bound variable", "exists": "a bound variable",
             "scenario": "a scenario", "invariant": "an invariant", "property": "a property",
             "measure": "a measure", "from": "the sender"}


def _keyword_declarations(tokens: list[Token]) -> list[tuple[Token, str]]:
    """Reserved words in the place of a declared name: (the word, what it would name).
    Covers the `_DECLARES` forms, enum members, message fields, action parameters,
    handler parameters and `count(x in ...)`."""
    out = []
    open_list = None  # what names the items of an open ( or { list are, if any
    for i, tok in enumerate(tokens):
        prev = tokens[i - 1].value if i else None
        prev2 = tokens[i - 2].value if i > 1 else None
        if (tok.value == "(" and prev2 in ("message", "action", "on")) or (tok.value == "{" and prev2 == "enum"):
            open_list = {"message": "a message field", "action": "an action parameter",
                         "on": "a handler parameter", "enum": "an enum member"}[prev2]
            continue
        if tok.value in (")", "}"):
            open_list = None
            continue
        if tok.type == "NAME" or tok.value not in HARD_KEYWORDS:
            continue
        if prev in _DECLARES:
            out.append((tok, _DECLARES[prev]))
        elif prev == "(" and prev2 == "count":
            out.append((tok, "a bound variable"))
        elif open_list is not None and prev in ("(", "{", ","):
            out.append((tok, open_list))
    return out


def _keyword_name_error(tok: Token, what: str) -> Diagnostic:
    word = str(tok.value)
    role = " (the built-in count(x in S where P))" if word == "count" else ""
    return Diagnostic("E003", f"'{word}' is a reserved keyword{role} and cannot name {what}", _span(tok),
                      "pick another name; docs/language.md lists every reserved word")


def _reserved_name_before(source: Source, pos: int) -> Diagnostic | None:
    """After a syntax error: a reserved word declared as a name before it (`var count`)
    is usually its cause (`when count < 2` then fails at '<'), so report that."""
    bad = [(tok, what) for tok, what in _keyword_declarations(_tokens(source.text)) if tok.start_pos <= pos]
    return _keyword_name_error(*bad[0]) if bad else None


# What a NAME directly under these rules declares (for the E003 message).
_RULE_NAMES = {"const_decl": "a const", "enum_decl": "an enum", "message_decl": "a message kind",
               "field": "a field or parameter", "ghost_decl": "a variable", "var_decl": "a variable",
               "persistent_var_decl": "a variable", "role_decl": "a role", "handler_params": "a handler parameter",
               "sender": "the sender", "action": "an action", "let_stmt": "a local", "let_any": "a local",
               "local_var": "a local", "for_stmt": "a loop variable", "forall": "a bound variable",
               "exists": "a bound variable",
               "count": "a bound variable", "set_comp": "a bound variable", "scenario_decl": "a scenario",
               "invariant_decl": "an invariant", "property_decl": "a property",
               "measure_decl": "a measure", "spec_decl": "the spec"}


def _reject_keyword_names(tree: lark.Tree) -> None:
    """A hard keyword lexed as a NAME was used to declare something: say so.
    (`iter_subtrees` is iterative: trees may be thousands of levels deep.)"""
    bad = []
    for sub in tree.iter_subtrees():
        for i, tok in enumerate(sub.children):
            if isinstance(tok, Token) and tok.type == "NAME" and tok.value in HARD_KEYWORDS:
                what = "an enum member" if sub.data == "enum_decl" and i else _RULE_NAMES.get(sub.data, "anything")
                bad.append((tok, _keyword_name_error(tok, what)))
        if sub.data in ("role_decl", "enum_decl") and sub.children[0].value in TYPE_KEYWORDS:
            tok = sub.children[0]
            bad.append((tok, Diagnostic("E003", f"'{tok.value}' is a built-in type and cannot name a role or an enum",
                                        _span(tok), "pick another name")))
    if bad:
        raise SpecError([min(bad, key=lambda b: (b[0].line, b[0].column))[1]])


def _int_value(tok: Token) -> int:
    """An integer literal's value, if modelcheck can use it (E206 otherwise). The
    length is checked first: Python refuses to convert more than 4,300 digits."""
    digits = str(tok).lstrip("0") or "0"
    if len(digits) > len(str(S.MAX_INT)) or int(digits) > S.MAX_INT:
        raise SpecError([Diagnostic("E206", f"the number {_abbreviated(digits)} is too large", _span(tok),
                                    f"integers are limited to {S.MAX_INT:,} (2^63 - 1): a number that large "
                                    "cannot bound a finite model")])
    return int(digits)


def _abbreviated(digits: str) -> str:
    return digits if len(digits) <= 30 else f"{digits[:6]}... ({len(digits):,} digits)"


def _too_deep(spec: S.Spec) -> None:
    deep = S.too_deep(spec)
    if deep is not None:
        raise SpecError([Diagnostic(
            "E004", f"{deep.what} nested {deep.depth} levels deep here; modelcheck allows at most {S.MAX_NESTING}",
            deep.span, _DEEP_HINTS[deep.what])])


_DEEP_HINTS = {
    "expressions": "split it up: compute parts in `let` locals, or state them as separate invariants",
    "statements": "flatten it: combine conditions with `and` or `elif`, or split the body into several actions",
    "types": "simplify the type: a value nested this deep cannot be part of a small model's state",
}


def parse(source: Source) -> S.Spec:
    """Parse a spec; raises SpecError with one diagnostic on the first syntax error.
    Long `and`/`or` chains are balanced, and then nesting past `S.MAX_NESTING` is
    an error (E004), so no later pass can run out of Python's recursion."""
    try:
        tree = _parser().parse(source.text)
    except lark.exceptions.UnexpectedInput as err:
        retyped = _parser().parser.lexer.retyped_before(err)
        if retyped is not None:
            # the keyword taken as a name did not fit either: report it as the keyword it is
            err = lark.exceptions.UnexpectedToken(*retyped)
        pos = getattr(err, "pos_in_stream", None)
        if pos is None:
            pos = getattr(getattr(err, "token", None), "start_pos", None) or len(source.text)
        raise SpecError([_reserved_name_before(source, pos) or _syntax_error(err, source)]) from None
    _reject_keyword_names(tree)
    try:
        spec = _ToAst().transform(tree)
    except lark.exceptions.VisitError as err:
        if isinstance(err.orig_exc, SpecError):
            raise err.orig_exc from None
        raise
    S.balance_chains(spec)
    _too_deep(spec)
    return spec


def load(path: str) -> Source:
    """Read a spec file; a missing, unreadable, non-regular or huge file is a user
    error (exit 2). Only regular files are read: a FIFO would block for ever and a
    device like /dev/zero would never end. A byte-order mark is dropped (`Source`)."""
    data = _read_regular(path)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        line = data[:err.start].count(b"\n") + 1
        raise SpecError([_file_error(f"{path} is not UTF-8 text (byte {err.start:,}, line {line})",
                                     "save the spec as UTF-8")]) from None
    return Source(path, text.replace("\r\n", "\n").replace("\r", "\n"))


def _file_error(message: str, hint: str | None = None) -> Diagnostic:
    return Diagnostic("E000", message, Span(0, 0, 0, 0), hint)


def _read_regular(path: str) -> bytes:
    """The bytes of a regular file of at most MAX_SPEC_BYTES. Opened without blocking
    (a FIFO with no writer would hang `open`) and checked with fstat on the open file."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except FileNotFoundError:
        raise SpecError([_file_error(f"no such spec file: {path}",
                                     "check the path; spec files usually end in .ha")]) from None
    except IsADirectoryError:
        raise SpecError([_file_error(f"{path} is a directory, not a spec file", "name a .ha file")]) from None
    except (OSError, ValueError) as err:
        raise SpecError([_file_error(f"cannot read {path}: {err}")]) from None
    try:
        mode = os.fstat(fd).st_mode
        if stat.S_ISDIR(mode):
            raise SpecError([_file_error(f"{path} is a directory, not a spec file", "name a .ha file")])
        if not stat.S_ISREG(mode):
            raise SpecError([_file_error(f"{path} is not a regular file",
                                         "a spec must be a regular file: reading a FIFO, socket or device "
                                         "could block or never end; copy it to a file first")])
        data = _read_at_most(fd, MAX_SPEC_BYTES + 1)
    except OSError as err:
        raise SpecError([_file_error(f"cannot read {path}: {err}")]) from None
    finally:
        os.close(fd)
    if len(data) > MAX_SPEC_BYTES:
        raise SpecError([_file_error(f"{path} is too large: more than {MAX_SPEC_BYTES // 2**20} MB",
                                     "a spec is a small text file; check that this is the right file")])
    return data


def _read_at_most(fd: int, limit: int) -> bytes:
    chunks, size = [], 0
    while size < limit:
        chunk = os.read(fd, min(1 << 20, limit - size))
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks)
