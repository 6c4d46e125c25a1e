"""Messages that z3 proves dead: in flight, but no delivery of them can ever change
anything again.

A `RequestVote(t)` or `Vote(t)` of an old term, once the receiver's persistent
`term` has moved past `t`, is typical: its handler ignores stale terms, and the
term never goes back. Such a message still sits in the state, and every place it
can sit multiplies the states. This module finds, per role and message kind, a
condition `C` on the message's fields and the receiving node's own variables
(`t < term`) and proves with z3, for every node of the role and every sender:

1. no-op: in any state where C holds, every handler of the kind either does not
   fire (guard false, `require` fails) or completes without changing a variable
   or a ghost, without sending and without raising: delivering it only consumes
   it;
2. stable: C, once true, stays true: no step of the model (any delivery, action,
   crash, restart or other fault) makes it false, for the same message. This is
   an induction step over every transition of `prove`'s encoding (symbolic.py),
   assuming only the facts true in every reachable state (types, a crashed
   node's volatile variables at their initial values).

Then the message can be dropped as soon as C holds (prune/dead.py does it while
exploring). The argument: the state with the message and the state without it
have the same futures, up to the message's own deliveries, which are no-ops (a
loss or duplication of it, or a budget spent on it, changes nothing either), and
invariants cannot see messages in flight. A trace of the reduced model is a trace
of the full model in which the message is simply never delivered.

C is searched among conjunctions of up to three literals built from the boolean
atoms of the kind's handlers (their guards, `if`/`elif` and `require`
conditions) that read only the message's fields, its sender, the node's own
variables and constants. A role with no handler for a kind collects every such
message (C is `true`: it can never be delivered). Where no candidate is proved,
or the spec cannot be encoded, nothing is dropped, and the reason is returned
(`modelcheck check` shows it as a hint).

The solver runs under a resource limit (`rlimit`), not a clock, so the rules, and
with them every state count, are the same on every machine.
"""
from __future__ import annotations

import ctypes
import itertools
from dataclasses import dataclass, field

import z3

from . import solver as new_solver

from .. import limits
from ..lang import syntax as S
from ..lang.types import BoolT, IntT
from .symbolic import AND, NOT, OR, TRUE, Symbolic, Unsupported, _Exec, _f, _t, eq, lift

# Literals per candidate condition, and candidates tried per (role, message kind).
MAX_LITERALS = 3
MAX_CANDIDATES = 200
# z3's deterministic resource limit per query (about a second of work).
RLIMIT = 5_000_000
# The models of the last satisfiable induction queries kept, each a concrete state and
# step that may break the next literal too (_Analyser._witnessed)
WITNESS_MODELS = 8

_FUNCS = {"len", "min", "max", "last", "keys"}  # builtins that read only their argument
_FLIP = {"<": ">=", "<=": ">", ">": "<=", ">=": "<", "==": "!=", "!=": "=="}


@dataclass(frozen=True, eq=False)  # compared by identity: each is made once
class Literal:
    atom: S.Expr
    positive: bool


@dataclass(eq=False)  # hashed by identity (prune/dead.py keeps the rules that fired)
class Rule:
    """Messages of `kind` to a node of `role` are dead while every literal holds,
    evaluated with `names` bound (field index, or -1 for the sender)."""

    role: str
    kind: int
    message: str
    # Dead while one of these conjunctions holds; ((),): always (no handler for it).
    conditions: tuple[tuple[Literal, ...], ...]
    names: dict  # atom name -> field index in the payload, or -1 for the sender
    text: str  # "t < term", for reports ("": always)

    def describe(self) -> str:
        return f"{self.message} to {self.role} " + (f"when {self.text}" if self.text else "(it has no handler)")


@dataclass
class Analysis:
    rules: list[Rule] = field(default_factory=list)
    # (role, message, why nothing is collected) for each pair not collected
    kept: list[tuple[str, str, str]] = field(default_factory=list)
    why_none: str | None = None  # the spec as a whole could not be analysed


def analyse(model, rlimit: int = RLIMIT, deadline: float | None = None) -> Analysis:
    """The dead-message rules of `model` (an engine.model.Model under its faults).
    A Ctrl-C or SIGTERM inside a z3 call comes out as the KeyboardInterrupt it is
    (z3 reports it as "canceled", ctypes as an ArgumentError). At `deadline` (a
    time.monotonic() value: the run's --timeout) the analysis stops with
    limits.StopSearch("timeout"), its z3 call cancelled, and gives no rules."""
    with limits.z3_deadline(deadline) as clock:
        try:
            try:
                sym = Symbolic(model)
            except Unsupported as err:
                return Analysis(why_none=f"z3 cannot encode this spec: {err.what}")
            out = _Analyser(model, sym, rlimit, clock).run()
        except (z3.Z3Exception, ctypes.ArgumentError) as err:
            if clock.passed() and not limits.signalled():
                raise limits.StopSearch("timeout") from None
            # a signal's KeyboardInterrupt inside a z3 call (also a matrix worker's SIGUSR1,
            # which limits does not see) comes out wrapped: it is still that stop
            if not (limits.signalled() or "KeyboardInterrupt" in str(err)):
                raise
            raise limits.stop_signal() from None
        clock.check()  # (a query cancelled at the deadline answered "unknown")
        return out


class _Analyser:
    def __init__(self, model, sym: Symbolic, rlimit: int, clock: limits.z3_deadline):
        self.model, self.sym, self.c, self.rlimit = model, sym, model.checked, rlimit
        self.clock = clock  # the run's --timeout: checked before each query
        self.pre = sym.frame("dead")
        self._steps: dict = {}  # see steps
        self._encodings: dict = {}  # see _encoded
        self.step_domain: list = []  # type constraints of the steps' message fields
        self.by_index = {m.index: m for m in model.checked.messages.values()}
        self._atom_cache: dict = {}  # see _literal
        self._models: list = []  # see _witnessed, newest first
        self.names: dict = {}  # the (role, kind) pair being analysed: its field names
        self.source = model.source

    def steps(self, n: int, reads: frozenset) -> list:
        """(enabled, node n's variables after) for every step that may write one of
        n's variables `reads`: its handlers (for a message from any sender with any
        payload: whether such a message can be in flight is not asked, which only
        makes the proof harder) and actions that assign one, and every fault step."""
        key = (n, reads)
        if key in self._steps:
            return self._steps[key]
        pre, sym, c = self.pre, self.sym, self.c
        role = c.node_roles[n]
        out = []
        for kind, handlers in sorted(self.model.handlers_by_kind[role.name].items()):
            msg = self.by_index[kind]
            srcs = sorted({sym.messages[j][0] for j in sym.by_dst_kind.get((n, kind), ())})
            for h in handlers:
                w = _writes(h.decl)
                if w is not None and not w & reads:
                    continue
                for src in srcs:
                    out.append(self._encoded(("h", n, id(h), src), lambda: self._delivery(h, msg, n, src)))
        for a in self.model.actions[role.name]:
            w = _writes(a.decl)
            if w is not None and not w & reads:
                continue
            for combo in a.combos:
                out.append(self._encoded(("a", n, id(a), combo), lambda: self._action(a, combo, n)))
        slot = 0
        for f in self.model.faults:
            b = None
            if f.budget is not None:
                b, slot = slot, slot + 1
            for inst in self._encoded(("f", id(f)), lambda: sym._fault(pre, f, b, f"dead.f{id(f)}")):
                if any((n, i) in inst.nodes for i in reads) and not _f(inst.ok):
                    out.append((inst.ok, [inst.nodes.get((n, i), v) for i, v in enumerate(pre.nodes[n])]))
        self._steps[key] = out
        return out

    def _encoded(self, key, make):
        """One step's encoding, made once however many variable sets ask for it."""
        hit = self._encodings.get(key)
        if hit is None:
            hit = self._encodings[key] = make()
        return hit

    def _delivery(self, h, msg, n, src):
        payload = [self.sym.fresh(t, f"dead.s{len(self._encodings)}.{f}", self.step_domain) for f, t in msg.fields]
        x = self._run(h, payload, n, src)
        return x.alive, x.vars

    def _action(self, a, combo, n):
        env = {name: lift(v) for (name, _, _), v in zip(a.params, combo)}
        x = self._exec(a.decl.guard, a.decl.body, env, n, None)
        return x.alive, x.vars

    def _exec(self, guard, body, env, n, src) -> _Exec:
        """Run a guard and body symbolically from the frame, for node n."""
        pre, sym = self.pre, self.sym
        x = _Exec(list(pre.nodes[n]), list(pre.ghosts), env, n, src, TRUE, [], [])
        x.tag = "dead"
        if guard is not None:
            g, ge = sym.ev(guard, x)
            x.fail(ge)
            x.alive = AND(x.alive, g.z)
        if not _f(x.alive):
            sym.run(body or [], x)
        return x

    def _run(self, h, payload, n, src) -> _Exec:
        """Handler h of node n receiving a message with fields `payload` from src."""
        env = {p: payload[i] for i, p in enumerate(h.params) if p is not None}
        if h.sender:
            env[h.sender] = lift(src)
        return self._exec(h.decl.guard, h.decl.body, env, n, src)

    def run(self) -> Analysis:
        out = Analysis()
        c, sym = self.c, self.sym
        kinds = sorted({m[2] for m in sym.messages})
        by_index = {m.index: m for m in c.messages.values()}
        for role in c.roles:
            for kind in kinds:
                msg = by_index[kind]
                dsts = [n for n in role.node_ids if (n, kind) in sym.by_dst_kind]
                if not dsts:
                    continue
                srcs = sorted({sym.messages[j][0] for n in dsts for j in sym.by_dst_kind[(n, kind)]})
                try:
                    rule, why = self._pair(role, msg, dsts, srcs)
                except Unsupported as err:
                    rule, why = None, f"z3 cannot encode its handlers: {err.what}"
                if rule is not None:
                    out.rules.append(rule)
                else:
                    out.kept.append((role.name, msg.name, why))
        return out

    # ---- one (role, message kind) -------------------------------------------------------------

    def _pair(self, role, msg, dsts, srcs):
        handlers = self.model.handlers_by_kind[role.name].get(msg.index, [])
        if not handlers:
            return Rule(role.name, msg.index, msg.name, ((),), {}, ""), None
        names = self.names = _names(handlers)
        atoms = []
        seen = set()
        for h in handlers:
            if any(names.get(p) != i for i, p in enumerate(h.params) if p is not None):
                continue  # its names mean other fields than the first handler's
            if h.sender and names.get(h.sender) != -1:
                continue
            for a in _atoms(h.decl):
                if not _readable(a, names):
                    continue
                for b in [a] + _orders(a, names):
                    key = _atom_text(self.source, b)
                    if key not in seen:
                        seen.add(key)
                        atoms.append(b)
        if not atoms:
            return None, "its handlers test nothing on the message alone (no stale-message test to prove)"
        pre = self.pre
        payload_dom: list = []
        payload = [self.sym.fresh(t, f"dead.{msg.name}.{f}", payload_dom) for f, t in msg.fields]
        combos = [(n, s) for n in dsts for s in srcs]
        literals = [Literal(a, pos) for a in atoms for pos in (True, False)]
        # per (node, sender): each literal's value in the frame, and "a delivery changes something"
        values = {}
        effect = {}
        for n, src in combos:
            env = {name: (lift(src) if i == -1 else payload[i]) for name, i in names.items()}
            for lit in literals:
                values[(lit, n, src)] = self._literal(lit, pre.nodes[n], env, n, src)
            effect[(n, src)] = OR(*[self._effect(h, payload, n, src) for h in handlers])
        solver = new_solver()
        solver.set("rlimit", self.rlimit)
        solver.add(*pre.domain, *payload_dom)

        def cond(cand, n, src):
            return AND(*[values[(lit, n, src)] for lit in cand])

        def check(formula) -> z3.CheckSatResult:
            self.clock.check()
            solver.push()
            solver.add(formula)
            r = solver.check()
            solver.pop()
            return r

        def noop(cand) -> bool:
            return check(OR(*[AND(cond(cand, n, s), effect[(n, s)]) for n, s in combos])) == z3.unsat

        # A conjunction of literals that each stay true once true stays true: only
        # those literals are combined, so each needs one induction query, not each
        # candidate (a conjunction stable only as a whole is not found; that only
        # collects less).
        stable = [lit for lit in literals if self._stable((lit,), names, payload, payload_dom, combos, role)]
        proved: list[tuple] = []  # no-op conjunctions of stable literals, none implied by another
        tried = 0
        for size in range(1, MAX_LITERALS + 1):
            for cand in itertools.combinations(stable, size):
                if len({id(lit.atom) for lit in cand}) < size:
                    continue  # a and not a
                if any(set(p) <= set(cand) for p in proved):
                    continue  # a weaker candidate is already proved
                tried += 1
                if tried > MAX_CANDIDATES:
                    break
                if check(OR(*[cond(cand, n, s) for n, s in combos])) != z3.sat:
                    continue  # never holds (or z3 gave up): it would collect nothing
                if proved and check(OR(*[AND(cond(cand, n, s), NOT(OR(*[cond(p, n, s) for p in proved])))
                                         for n, s in combos])) != z3.sat:
                    continue  # it holds only where a proved one does: it adds nothing
                if noop(cand):
                    proved.append(cand)
        if not proved:
            unstable = next((lit for lit in literals if lit not in stable and noop((lit,))), None)
            if unstable is not None:
                return None, (f"'{self._text((unstable,))}' makes every handler a no-op, but z3 could not prove "
                              "that it stays true (some step may make it false again)")
            return None, "z3 proved no test on the message that makes every handler a no-op and stays true"
        return Rule(role.name, msg.index, msg.name, tuple(proved), names,
                    " or ".join(self._text(c) for c in proved)), None

    # ---- the two proofs ----------------------------------------------------------------------

    def _literal(self, lit, vars_, env, n, src, key=None):
        """z3: the literal holds for node n with variables `vars_` (raising: false).
        The atom's encoding is kept per node, sender (when it reads it) and `key`
        (which variables: None for the frame's own, else the step instance's).
        The cache holds the atom itself next to its encoding: keyed by id() alone, a
        freed atom's id could be reused by another one and hit its encoding."""
        atom = lit.atom
        ck = (id(atom), n, src if _reads_sender(atom, self.names) else None, key)
        hit = self._atom_cache.get(ck)
        if hit is None or hit[0] is not atom:
            x = _Exec(list(vars_), list(self.pre.ghosts), dict(env), n, src, TRUE, [], [])
            x.tag = "dead"
            v, err = self.sym.ev(atom, x)
            hit = self._atom_cache[ck] = (atom, v.z, err)
        _, v, err = hit
        return AND(v if lit.positive else NOT(v), NOT(err))

    def _effect(self, h, payload, n, src):
        """z3: delivering the message to node n with handler h changes something (a
        variable, a ghost, a send) or raises."""
        pre = self.pre
        x = self._run(h, payload, n, src)
        changed = [NOT(eq(v, pre.nodes[n][i])) for i, v in enumerate(x.vars) if v is not pre.nodes[n][i]]
        changed += [NOT(eq(v, pre.ghosts[i])) for i, v in enumerate(x.ghosts) if v is not pre.ghosts[i]]
        changed += [c for c, *_ in x.sends]
        return OR(x.err, AND(x.alive, OR(*changed)))

    def _stable(self, cand, names, payload, payload_dom, combos, role) -> bool:
        """Whether no step makes the candidate false for a message it holds for."""
        reads = set()
        for lit in cand:
            reads |= _var_reads(lit.atom, role)
        if not reads:
            return True  # it reads only the message and constants
        pre = self.pre
        bads = []
        if not any(_reads_sender(lit.atom, names) for lit in cand):
            combos = list(dict.fromkeys((n, combos[0][1]) for n, _ in combos))  # the sender does not matter
        for n, src in combos:
            env = {name: (lift(src) if i == -1 else payload[i]) for name, i in names.items()}
            before = AND(*[self._literal(lit, pre.nodes[n], env, n, src) for lit in cand])
            for k, (ok, post) in enumerate(self.steps(n, frozenset(reads))):
                after = AND(*[self._literal(lit, post, env, n, src, (frozenset(reads), k)) for lit in cand])
                bads.append(AND(ok, before, NOT(after)))
        if not bads:
            return True
        domain = (*pre.domain, *payload_dom, *self.step_domain)
        if self._witnessed(bads, domain):
            return False
        self.clock.check()
        s = new_solver()
        s.set("rlimit", self.rlimit)
        s.add(*domain)
        s.add(OR(*bads))
        r = s.check()
        if r == z3.sat:
            self._models.insert(0, s.model())
            del self._models[WITNESS_MODELS:]
        return r == z3.unsat

    def _witnessed(self, bads: list, domain: tuple) -> bool:
        """Whether a model z3 gave for an earlier literal's query also satisfies the
        domain and one of `bads`: a concrete state and step that make this literal
        false too. The query below could then only answer sat (or unknown): "not
        stable" either way, so the answer is the same without it. Most literals are
        not stable, and those of one message kind are often broken by the same
        step; evaluating a model costs milliseconds, where the query took 0.2-1.7 s
        on Raft (16 of its 49 queries saved: 17.6 -> 14.1 s). Only models of
        deterministic queries (rlimit, not time) are kept, so which queries run
        never depends on timing."""
        if not self._models:
            return False
        dom = AND(*domain)
        for mdl in self._models:
            if not _t(mdl.eval(dom, model_completion=True)):
                continue
            for bad in bads:
                if _t(mdl.eval(bad, model_completion=True)):
                    return True
        return False

    def _text(self, cand) -> str:
        return " and ".join(_literal_text(self.source, lit) for lit in cand)


def _names(handlers) -> dict:
    """The first handler's names for the message's fields (-1: its sender)."""
    h = handlers[0]
    names = {p: i for i, p in enumerate(h.params) if p is not None}
    if h.sender:
        names[h.sender] = -1
    return names


def _atoms(decl) -> list[S.Expr]:
    """The boolean leaves of a handler's guard and of its if/elif/require conditions."""
    conds = [decl.guard] if decl.guard is not None else []
    for s in S.walk(decl.body):
        if isinstance(s, S.If):
            conds += [c for c, _ in s.branches]
        elif isinstance(s, S.Require):
            conds.append(s.cond)
    out = []

    def leaves(e):
        if isinstance(e, S.BinOp) and e.op in ("and", "or", "=>"):
            leaves(e.left)
            leaves(e.right)
        elif isinstance(e, S.Not):
            leaves(e.operand)
        elif isinstance(e, S.BoolLit):
            pass
        elif isinstance(e.type, BoolT):
            out.append(e)
    for cond in conds:
        leaves(cond)
    return out


def _readable(e: S.Expr, names: dict) -> bool:
    """Whether atom `e` reads only the message (`names`), the node's own variables
    and constants: what a dead-message condition may depend on."""
    for x in S.walk(e):
        if isinstance(x, S.Name):
            kind = x.ref[0] if x.ref else None
            if kind == "local":
                if x.id not in names:
                    return False
            elif kind not in ("var", "const", "enum", "role"):
                return False
        elif isinstance(x, S.Field):
            if not isinstance(x.obj, S.SelfRef):
                return False
        elif isinstance(x, S.Call):
            if x.func not in _FUNCS:
                return False
        elif isinstance(x, (S.Quant, S.Count, S.SetComp)):
            return False
    return True


def _reads_sender(atom: S.Expr, names) -> bool:
    """Whether the atom names the message's sender (bound to -1 in `names`)."""
    return any(isinstance(x, S.Name) and names.get(x.id) == -1 and x.ref and x.ref[0] == "local"
               for x in S.walk(atom))


def _writes(decl) -> set[int] | None:
    """Indexes of the node variables a handler or action assigns (None: not known)."""
    out = set()
    for x in S.walk(decl.body):
        if isinstance(x, S.Assign):
            t = x.target
            while isinstance(t, S.Index):
                t = t.obj
            if isinstance(t, S.Name) and t.ref and t.ref[0] == "var":
                out.add(t.ref[1].index)
            elif not (isinstance(t, S.Name) and t.ref and t.ref[0] in ("ghost", "localvar")):
                return None
    return out


def _var_reads(e: S.Expr, role) -> set[int]:
    """Indexes of the node's own variables that atom `e` reads."""
    out = set()
    for x in S.walk(e):
        if isinstance(x, S.Name) and x.ref and x.ref[0] == "var":
            out.add(x.ref[1].index)
        elif isinstance(x, S.Field) and isinstance(x.obj, S.SelfRef):
            out.add(role.var(x.name).index)
    return out


def _orders(a: S.Expr, names: dict) -> list[S.Expr]:
    """For a comparison of two integers that reads the message (`t == term`), the
    strict orders between the same operands (`t < term`, `t > term`): a stale test
    is an order even where the handler only tests equality."""
    if not (isinstance(a, S.BinOp) and a.op in _FLIP and isinstance(a.left.type, IntT)
            and isinstance(a.right.type, IntT)):
        return []
    if not any(isinstance(x, S.Name) and x.id in names for x in S.walk(a)):
        return []
    out = []
    for op in ("<", ">"):
        if op != a.op:
            b = S.BinOp(a.span, op, a.left, a.right)
            b.type = a.type
            out.append(b)
    return out


def _atom_text(source, a: S.Expr, op: str | None = None) -> str:
    if isinstance(a, S.BinOp) and a.op in _FLIP:
        return f"{source.slice(a.left.span)} {op or a.op} {source.slice(a.right.span)}"
    return source.slice(a.span)


def _literal_text(source, lit: Literal) -> str:
    a = lit.atom
    if lit.positive:
        return _atom_text(source, a)
    if isinstance(a, S.BinOp) and a.op in _FLIP:
        return _atom_text(source, a, _FLIP[a.op])
    return f"not ({source.slice(a.span)})"
