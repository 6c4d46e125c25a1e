"""The transition system: states, labelled steps, and the successor function.

This is the whole contract between the language and the explorer (the shape of
stateright's `init_states` / `actions` / `next_state`): an initial `State`, and
`successors(state)` returning `Transition`s in a fixed, deterministic order,
with the invariants, properties and symmetric roles (contract.py writes the
contract down). The explorer knows nothing else about specs.
"""
from __future__ import annotations

import copy
import itertools
from dataclasses import dataclass, field
from typing import Callable

from ..lang import syntax as S
from ..faults import ASSUMPTION_KINDS, ENVIRONMENT_STEPS, KINDS
from ..lang.checker import CheckedSpec, FaultInfo, RoleInfo
from .compiler import Compiler, Ctx, Disabled
from .memo import AdaptiveMemo
from ..lang.diagnostics import Diagnostic, Source, SpecError
from ..network import MODES
from ..lang.types import BoolT, EnumT, IntT, MapT, NodeT, OptT, Type
from ..lang.values import Renderer, SpecRuntimeError, value_checker
from .state import State, Step, Transition, new_state as _new_state


# Most outcomes memoised by Model._run; the table is emptied when it reaches this size.
MEMO_LIMIT = 1_000_000
# The invariants' memo (keyed by every node's variables: as many keys as states where
# the network alone does not tell states apart) is smaller, and stores only while it
# hits (memo.AdaptiveMemo).
INV_MEMO_LIMIT = 1 << 17

# Environment steps (every fault kind, and `clocks`): see modelcheck/faults.
FAULT_KINDS = ENVIRONMENT_STEPS


def fairness_key(step: Step) -> tuple | None:
    """The fairness unit a step belongs to (docs/language.md, "Liveness"): who does
    what, regardless of `any` choices and of a message's age; None for an
    environment step, which no fairness assumption covers. Both searches that record
    a state graph (explorer._unit, packed.PackedModel.labelled) number units by it."""
    if step.kind in FAULT_KINDS:
        return None
    message = step.message[:4] if step.message is not None else None  # a message's age is not who it is
    return step.kind, step.node, step.name, tuple(v for _, v, _ in step.params), message


def fairness_unit(ids: dict, step: Step) -> int:
    """The number of a step's fairness unit in `ids` (fairness_key -> number, in the
    order units are first met; a new unit is added), or -1 (liveness.FAULT) for an
    environment step: how a recorded graph labels its edges."""
    key = fairness_key(step)
    return -1 if key is None else ids.setdefault(key, len(ids))


@dataclass
class CompiledInvariant:
    name: str
    decl: S.PropertyDecl
    holds: Callable[[State], bool]
    # the parts of a state it reads (CodeGen.source_parts); None: any
    parts: frozenset | None = None


@dataclass
class CompiledMeasure:
    """A `measure`: `value` is its int in a state (it reads what an invariant reads:
    node variables, ghosts, which nodes are up, the time; engine/measures.py)."""

    name: str
    decl: S.PropertyDecl
    value: Callable[[State], int]


@dataclass
class PropertyInstance:
    """A property with its leading `forall` variables bound to one value each."""

    binding: tuple  # ((var, value, type), ...)
    q: Callable[[State], bool]  # P of eventually / always / always eventually; Q of leads_to
    p: Callable[[State], bool] | None = None  # P of `P leads_to Q`
    env: dict = field(default_factory=dict)


@dataclass
class CompiledProperty:
    name: str
    decl: S.PropertyDecl
    op: str  # eventually | always | always_eventually | leads_to
    q_expr: S.Expr
    p_expr: S.Expr | None
    instances: list[PropertyInstance]


@dataclass
class _Handler:
    role: RoleInfo
    decl: S.HandlerDecl
    kind: int
    params: list[str | None]
    sender: str | None
    guard: Callable | None
    body: Callable


@dataclass
class _Action:
    role: RoleInfo
    decl: S.ActionDecl
    params: list[tuple[str, Type, list]]  # (name, type, values)
    guard: Callable | None
    body: Callable
    combos: list = field(default_factory=list)  # every parameter combination, in order
    # per combination, built once: (its bindings, the step label); see compute_outcomes
    calls: list = field(default_factory=list)

    def __post_init__(self) -> None:
        for combo in self.combos:
            env = {name: v for (name, _, _), v in zip(self.params, combo)}
            params = tuple((name, v, t) for (name, t, _), v in zip(self.params, combo))
            self.calls.append((env, ("action", self.decl.name, params, None, self.decl.span)))


@dataclass
class Model:
    """A compiled spec, ready to explore."""

    checked: CheckedSpec
    source: Source
    faults: list[FaultInfo]
    invariant_decls: list[S.PropertyDecl]
    property_decls: list[S.PropertyDecl] = field(default_factory=list)
    initial: State = field(init=False)

    def __post_init__(self) -> None:
        c = self.checked
        self.compiler = Compiler(c, self.source)
        self.invariants = [self._compile_invariant(d) for d in self.invariant_decls]
        self._inv_memo = AdaptiveMemo(INV_MEMO_LIMIT)  # see violated_invariants
        self.render = Renderer(c.node_names)
        self.network = MODES[c.delivery]()
        self.n_nodes = len(c.node_names)
        self.time = c.time
        self.within = c.time.within if c.time is not None else None
        self._compile_roles()
        self._set_faults(self.faults)
        self.initial = self._initial_state()
        self.properties = [self._compile_property(d) for d in self.property_decls]
        self.measures = [self._compile_measure(d) for d in c.measures]
        # Dead-message collection (modelcheck/prune/dead.py), when a search uses it:
        # every successor's dead messages are dropped (with_collector).
        self.collector = None
        # (fault lines, assumptions) as written, when a reduction left some out of
        # `faults` (modelcheck/prune): reports list these
        self.shown_faults = None
        self.dead_analyses: dict = {}  # fault lines -> smt.dead.Analysis (prune._analysis)

    def _set_faults(self, faults: list[FaultInfo]) -> None:
        c = self.checked
        # `eventually heal` / `eventually restart` lines are liveness assumptions, not steps
        self.assumptions = [f for f in faults if f.kind in ASSUMPTION_KINDS]
        self.faults = [f for f in faults if f.kind not in ASSUMPTION_KINDS]
        self.heal_eventually = any(f.kind == "eventually_heal" for f in self.assumptions)
        self.must_be_up = sorted({n for f in self.assumptions if f.kind == "eventually_restart"
                                  for n, r in enumerate(c.node_roles) if f.role is None or r.name == f.role})
        self.budget_slot = {}
        for i, f in enumerate(self.faults):
            if f.budget is not None:
                self.budget_slot[i] = len(self.budget_slot)
        self.fault_kinds = [KINDS[f.kind] for f in self.faults]  # parallel to self.faults

    def with_faults(self, faults: list[FaultInfo]) -> "Model":
        """The same compiled model under other fault lines (a scenario): compilation
        is shared, only the fault set-up and the initial budgets change."""
        other = copy.copy(self)
        other._set_faults(faults)
        other.shown_faults = None
        other.initial = self.initial._replace(
            budgets=tuple(f.budget for f in other.faults if f.budget is not None))
        return other

    def with_collector(self, collector) -> "Model":
        """The same model, dropping dead messages from every state it produces."""
        other = copy.copy(self)
        other.collector = collector
        other.initial = collector.state(self.initial)
        return other

    def settled(self, state: State) -> bool:
        """Whether `state` may lie on a liveness cycle given the spec's assumptions
        (`eventually heal`: no link is cut; `eventually restart`: those nodes are up)."""
        if self.heal_eventually and state.cut:
            return False
        return all(state.up[n] for n in self.must_be_up)

    def symmetric_roles(self) -> list[str]:
        """The roles whose nodes the spec cannot tell apart (symmetry.symmetric_roles):
        the explorer's symmetry reduction asks the model, not the syntax tree."""
        from .symmetry import symmetric_roles
        return symmetric_roles(self.checked)

    # ---- compilation --------------------------------------------------------------

    def _reads_global(self, mark: int) -> bool:
        """Whether the code generated since `mark` (one handler's or action's guard
        and body) reads beyond its own node, ghosts and bindings: another node's
        variables, whether a node is up, a clock. Generated code is the only place
        such reads happen, and codegen records each one where it emits it
        (CodeGen.source_reads), so the answer is exact and does not depend on how
        the generated text spells a read."""
        return any(self.compiler.codegen.source_reads[mark:])

    def _compile_roles(self) -> None:
        comp = self.compiler
        # role -> whether some handler or action of it reads beyond its node (_outcomes)
        self._role_reads_global: dict[str, bool] = {}
        # role -> whether its handlers or actions read or write a ghost variable
        self._role_uses_ghosts: dict[str, bool] = {}
        self._memo: dict = {}
        self.handlers_by_kind: dict[str, dict[int, list[_Handler]]] = {}
        self.actions: dict[str, list[_Action]] = {}
        self.restart: dict[str, Callable | None] = {}
        for r in self.checked.roles:
            reads_global = False
            hs = []
            for h in r.decl.handlers:
                msg = self.checked.messages[h.name]
                params = [None if p == "_" else p for p, _ in h.params]
                sender = h.sender[0] if h.sender and h.sender[0] != "_" else None
                mark = len(comp.codegen.sources)
                hs.append(_Handler(r, h, msg.index, params, sender,
                                   comp.expr(h.guard) if h.guard is not None else None, comp.block(h.body)))
                reads_global = reads_global or self._reads_global(mark)
            by_kind: dict[int, list[_Handler]] = {}
            for h in hs:
                by_kind.setdefault(h.kind, []).append(h)
            self.handlers_by_kind[r.name] = by_kind
            acts = []
            for a in r.decl.actions:
                params = []
                for p in a.params:
                    t = a.param_types[p.name]
                    params.append((p.name, t, _values_of(t, self.checked)))
                mark = len(comp.codegen.sources)
                acts.append(_Action(r, a, params, comp.expr(a.guard) if a.guard is not None else None,
                                    comp.block(a.body),
                                    list(itertools.product(*[vals for _, _, vals in params]))))
                reads_global = reads_global or self._reads_global(mark)
            self.actions[r.name] = acts
            self.restart[r.name] = comp.block(r.decl.restart) if r.decl.restart else None
            self._role_reads_global[r.name] = reads_global
            self._role_uses_ghosts[r.name] = _uses_ghosts(r.decl.handlers + r.decl.actions)

    def _compile_invariant(self, decl: S.PropertyDecl) -> CompiledInvariant:
        f = self.compiler.expr(decl.expr)

        def holds(state: State) -> bool:
            return bool(f(Ctx(ghosts=state.ghosts, nodes=state.nodes, up=state.up,
                              now=state.time[0] if state.time else None)))
        return CompiledInvariant(decl.name, decl, holds, self.compiler.codegen.source_parts[-1])

    def _compile_measure(self, decl: S.PropertyDecl) -> CompiledMeasure:
        f = self.compiler.expr(decl.expr)

        def value(state: State) -> int:
            return f(Ctx(ghosts=state.ghosts, nodes=state.nodes, up=state.up,
                         now=state.time[0] if state.time else None))
        return CompiledMeasure(decl.name, decl, value)

    def _compile_property(self, decl: S.PropertyDecl) -> CompiledProperty:
        """Split `forall x in S: ... OP` into one instance per binding; the domains are
        evaluated in the initial state (like TLA+'s non-temporal expressions)."""
        e, binders = decl.expr, []
        while isinstance(e, S.Quant):
            binders.append((e.var, e.domain))
            e = e.body
        assert isinstance(e, S.Temporal), e
        p_expr = None
        if e.op == "leads_to":
            op, (p_expr, q_expr) = "leads_to", e.args
        elif e.op == "always" and isinstance(e.args[0], S.Temporal) and e.args[0].op == "eventually":
            op, q_expr = "always_eventually", e.args[0].args[0]
        else:
            op, q_expr = e.op, e.args[0]
        qf = self.compiler.expr(q_expr)
        pf = self.compiler.expr(p_expr) if p_expr is not None else None
        init = self.initial
        bindings: list[tuple] = [()]
        for var, dom in binders:
            values = self.compiler.domain(dom)
            elem = _element_type(dom.type)
            try:
                bindings = [b + ((var, v, elem),) for b in bindings
                            for v in values(Ctx(env={n: x for n, x, _ in b}, nodes=init.nodes, ghosts=init.ghosts,
                                                up=init.up))]
            except SpecRuntimeError as err:  # a domain is fixed when the model is built: a spec error
                raise SpecError([Diagnostic(
                    "E211", f"property '{decl.name}': the domain of '{var}' cannot be evaluated in the initial "
                            f"state: {err.message}", err.span if err.span.line else dom.span,
                    "a property's quantifier domains are evaluated once, in the initial state")]) from None
        instances = []
        for b in bindings:
            env = {n: x for n, x, _ in b}
            instances.append(PropertyInstance(b, _predicate(qf, env), _predicate(pf, env) if pf else None, env))
        return CompiledProperty(decl.name, decl, op, q_expr, p_expr, instances)

    def _initial_state(self) -> State:
        c = self.checked
        errors = []
        nodes = []
        self.volatile_init = []
        for n, role in enumerate(c.node_roles):
            values = []
            for v in role.vars:
                val = self._init_value(v, Ctx(self_id=n, vars=[], ghosts=[]), errors, c.node_names[n])
                values.append(val)
            nodes.append(tuple(values))
            self.volatile_init.append(tuple(values))
        ghosts = tuple(self._init_value(g, Ctx(vars=[], ghosts=[]), errors, None) for g in c.ghosts)
        # after the spec's ghosts, one hidden slot per register: its history monitor
        ghosts += tuple(m.initial() for m in self.compiler.monitors)
        if errors:
            raise SpecError(errors)
        budgets = tuple(f.budget for f in self.faults if f.budget is not None)
        time = ()
        if self.time is not None:
            # with skew, the clocks are set by a first "clocks" step (None until then)
            offsets = None if self.time.skew else (0,) * self.n_nodes
            time = (0, offsets, (0,) * self.n_nodes)
        return State(tuple(nodes), (True,) * self.n_nodes, self.network.empty, frozenset(), ghosts, budgets, time)

    def _init_value(self, v, ctx, errors, node_name):
        where = f" on {node_name}" if node_name else ""
        try:
            val = self.compiler.expr(v.init)(ctx)
        except SpecRuntimeError as err:
            errors.append(Diagnostic("E211", f"initial value of '{v.name}'{where}: {err.message}", v.init.span))
            return None
        fits = value_checker(v.type, {r.name: r.node_ids for r in self.checked.roles})
        if fits is not None and not fits(val):
            errors.append(Diagnostic("E211", f"initial value of '{v.name}'{where} is {self.render.text(val, v.type)}, "
                                             f"outside its type {v.type}", v.init.span))
        return val

    # ---- successors ---------------------------------------------------------------

    def successors(self, state: State, skip: Callable[[Step], bool] | None = None) -> list[Transition]:
        """Every transition from `state`, in a fixed order: node steps (by node:
        deliveries, then actions), then faults in faults-block order. Node steps for
        which `skip` says yes are left out before their target state is built (sleep
        sets, modelcheck/engine/reduction.py)."""
        out: list[Transition] = []
        if state.time and state.time[1] is None:
            return self._clock_choices(state)
        inbox: dict[int, list] = {}
        cut = state.cut
        for msg, net_after in self.network.deliverable(state.net):
            if not cut or (msg[0], msg[1]) not in cut:
                box = inbox.get(msg[1])
                if box is None:
                    inbox[msg[1]] = [(msg, net_after)]
                else:
                    box.append((msg, net_after))
        paused = state.time[2] if state.time else None
        due = False  # a message that must arrive by now can be delivered: time may not pass
        up, within, outcomes_of, apply = state.up, self.within, self._outcomes, self._apply
        for n in range(self.n_nodes):
            if not up[n] or (paused and paused[n]):
                continue
            box = inbox.get(n)
            if box is not None:
                for msg, net_after in box:
                    outcomes = outcomes_of(state, n, msg)
                    if outcomes:
                        apply(state, n, outcomes, net_after, out, skip)
                        if within is not None and msg[4] >= within:
                            due = True
            apply(state, n, outcomes_of(state, n, None), state.net, out, skip)
        if state.time and state.time[0] < self.time.max and not due:
            out.append(self._tick(state))
        for i, f in enumerate(self.faults):
            slot = self.budget_slot.get(i)
            if slot is not None and state.budgets[slot] <= 0:
                continue
            out.extend(self.fault_kinds[i].successors(self, state, f, self._spend(state, slot)))
        if self.collector is not None:
            self.collector.transitions(out)
        return out

    def fault_members(self, f: FaultInfo) -> list[int]:
        """The nodes a node fault line applies to: those of its role, or all."""
        roles = self.checked.node_roles
        return [n for n in range(self.n_nodes) if f.role is None or roles[n].name == f.role]

    # ---- time (docs/language.md, Time) -------------------------------------------------------

    def _stamp(self, msgs: list) -> list:
        """With `delivery within`, a message in flight carries its age in ticks."""
        if self.within is None or not msgs:
            return msgs
        return [m + (0,) for m in msgs]

    def _tick(self, state: State) -> Transition:
        """True time advances one tick: pauses count down, messages age (capped at the
        delivery bound: older is the same as due, so such states merge)."""
        now, offsets, paused = state.time
        net = self.network.age(state.net, self.within) if self.within is not None else state.net
        time = (now + 1, offsets, tuple(p - 1 if p else 0 for p in paused))
        return Transition(Step("tick", detail=now + 1),
                          State(state.nodes, state.up, net, state.cut, state.ghosts, state.budgets, time))

    def _clock_choices(self, state: State) -> list[Transition]:
        """The first step with `skew K`: every node's clock offset in -K..K."""
        k = self.time.skew
        out = []
        order = [0] + [x for d in range(1, k + 1) for x in (-d, d)]  # exact clocks first: plainer traces
        for offsets in itertools.product(order, repeat=self.n_nodes):
            time = (state.time[0], offsets, state.time[2])
            out.append(Transition(Step("clocks", detail=offsets),
                                  State(state.nodes, state.up, state.net, state.cut, state.ghosts, state.budgets,
                                        time)))
        return out

    def _outcomes(self, state: State, n: int, msg) -> list:
        """What node n's code does in `state`: the outcomes of every handler for
        `msg`, or of every action (msg None), in declaration and parameter order, as
        (step, new variables of n, new ghosts, sent messages, error).

        They depend only on what the code can read: the node's own variables, the
        ghosts, the message or parameters and, for code that reads other nodes,
        clocks or liveness, those. Most states share their per-node parts, so the
        outcomes are looked up instead of re-run (the explorer's dominant cost).
        """
        role = self.checked.node_roles[n]
        ghosts = self._role_uses_ghosts[role.name]
        key = (n, msg, state.nodes[n], state.ghosts if ghosts else None)
        if self._role_reads_global[role.name]:
            key += (state.nodes, state.up, state.time)
        outcomes = self._memo.get(key)
        if outcomes is not None:
            return outcomes
        if len(self._memo) >= MEMO_LIMIT:
            self._memo.clear()
        outcomes = self._memo[key] = self.compute_outcomes(state, n, msg)
        return outcomes

    def compute_outcomes(self, state: State, n: int, msg) -> list:
        """_outcomes without the memo (the packed explorer keeps its own)."""
        role = self.checked.node_roles[n]
        ghosts = self._role_uses_ghosts[role.name]
        outcomes: list = []
        if msg is not None:
            src, payload = msg[0], msg[3]
            for h in self.handlers_by_kind[role.name].get(msg[2], ()):
                env = {p: v for p, v in zip(h.params, payload) if p is not None}
                if h.sender:
                    env[h.sender] = src
                label = ("deliver", h.decl.name, (), msg, h.decl.span)
                self._record(self._execute(state, n, h.guard, h.body, env, src, label, state.net), n, ghosts,
                             outcomes)
        else:
            # Most combinations of most actions are disabled by their guard: test it on
            # one shared context first, and run the step (which tests it again, and
            # reports a guard that raises) only when it holds or raises.
            clock = state.time[0] + state.time[1][n] if state.time else None
            probe = Ctx(vars=state.nodes[n], ghosts=state.ghosts, self_id=n, nodes=state.nodes, up=state.up,
                        clock=clock)
            for a in self.actions[role.name]:
                guard = a.guard
                for env, label in a.calls:
                    if guard is not None:
                        probe.env = env
                        try:
                            if not guard(probe):
                                continue
                        except SpecRuntimeError:
                            pass
                    # a copy: the body adds its own bindings
                    self._record(self._execute(state, n, guard, a.body, dict(env), None, label, state.net), n,
                                 ghosts, outcomes)
        return outcomes

    @staticmethod
    def _record(transitions: list[Transition], n: int, ghosts: bool, outcomes: list) -> None:
        """Keep what a transition changed: n's variables, the ghosts (None: code that
        never touches ghosts leaves them as they are), the messages sent."""
        for tr in transitions:
            if tr.state is None:
                outcomes.append((tr.step, None, None, None, tr.error))
            else:
                outcomes.append((tr.step, tr.state.nodes[n], tr.state.ghosts if ghosts else None, tr.step.sent, None))

    def _apply(self, state: State, n: int, outcomes: list, net, out: list, skip=None) -> None:
        """Append the transitions of `outcomes` (see _outcomes) taken from `state`.
        (The explorer's innermost loop: locals and no keyword arguments on purpose.)"""
        before, after = state.nodes[:n], state.nodes[n + 1:]
        up, cut, ghosts0, budgets, time = state.up, state.cut, state.ghosts, state.budgets, state.time
        send, stamp = self.network.send, self.within is not None
        for step, values, ghosts, sent, error in outcomes:
            if error is not None:
                out.append(Transition(step, None, error))
                continue
            if skip is not None and skip(step):
                continue
            if sent:
                new_net = send(net, self._stamp(list(sent)) if stamp else sent)
            else:
                new_net = net
            out.append(Transition(step, _new_state((before + (values,) + after, up, new_net, cut,
                                                    ghosts0 if ghosts is None else ghosts, budgets, time))))

    def _execute(self, state: State, n: int, guard, body, env: dict, sender, label: tuple, net) -> list[Transition]:
        """Run the code for real (see _run)."""
        out = []
        clock = state.time[0] + state.time[1][n] if state.time else None
        if guard is not None:
            # The guard reads only: evaluate it once, on the state's own tuples (most
            # guards are false, and copying the variables would dominate).
            ctx = Ctx(vars=state.nodes[n], ghosts=state.ghosts, env=env, self_id=n, sender=sender,
                      nodes=state.nodes, up=state.up, clock=clock)
            try:
                if not guard(ctx):
                    return out
            except SpecRuntimeError as err:
                return [Transition(_step(label, n, ctx), None, err)]
        choices: list[int] = []
        while True:
            # `env` is shared by re-runs: a body only adds bindings or, for a `var` local,
            # sets one by its declaration before any statement of that run reads it; block
            # scoping means a stale one is never read.
            ctx = Ctx(vars=list(state.nodes[n]), ghosts=list(state.ghosts), env=env,
                      self_id=n, sender=sender, nodes=state.nodes, up=state.up, choices=choices,
                      clock=clock)
            try:
                body(ctx)
                nodes = state.nodes[:n] + (tuple(ctx.vars),) + state.nodes[n + 1:]
                new = State(nodes, state.up, self.network.send(net, self._stamp(ctx.out)), state.cut,
                            tuple(ctx.ghosts), state.budgets, state.time)
                out.append(Transition(_step(label, n, ctx), new))
            except Disabled:
                pass
            except SpecRuntimeError as err:
                out.append(Transition(_step(label, n, ctx), None, err))
            choices = _next_choices(ctx.choices, ctx.sizes)
            if choices is None:
                return out

    def _spend(self, state: State, slot: int | None) -> tuple:
        if slot is None:
            return state.budgets
        b = list(state.budgets)
        b[slot] -= 1
        return tuple(b)

    def _after_crash(self, values: tuple, n: int) -> tuple:
        """A crashed node's memory is gone: volatile vars return to their initial values."""
        role = self.checked.node_roles[n]
        init = self.volatile_init[n]
        return tuple(values[v.index] if v.persistent else init[v.index] for v in role.vars)

    # ---- invariants ---------------------------------------------------------------

    def global_ctx(self, state: State) -> Ctx:
        return Ctx(ghosts=state.ghosts, nodes=state.nodes, up=state.up, now=state.time[0] if state.time else None)

    def violated_invariants(self, state: State, every: bool = False) -> list[tuple[CompiledInvariant, SpecRuntimeError | None]]:
        """The invariants that fail in `state`, in declaration order: only the first
        unless `every`. A run-time error while evaluating one counts as failing.

        Invariants read only the nodes' variables, the ghosts, which nodes are up and
        the time (Model._compile_invariant), and far fewer distinct combinations of
        those occur than states (1,590 for the 30,420 states of majority_election
        with LOSS=0): the answer is looked up by them."""
        key = (state.nodes, state.ghosts, state.up, state.time[0] if state.time else None, every)
        memo = self._inv_memo
        out = memo.table.get(key)
        if out is not None:
            memo.hits[0] += 1
            return out
        return memo.store(key, self.evaluate_invariants(state, every))

    def evaluate_invariants(self, state: State, every: bool) -> list:
        """`violated_invariants` without its memo (for a search that keeps its own)."""
        out = []
        for inv in self.invariants:
            try:
                if inv.holds(state):
                    continue
                out.append((inv, None))
            except SpecRuntimeError as err:
                out.append((inv, err))
            if not every:
                break
        return out


def _predicate(f, env: dict) -> Callable[[State], bool]:
    def holds(state: State) -> bool:
        return bool(f(Ctx(ghosts=state.ghosts, nodes=state.nodes, up=state.up, env=env,
                          now=state.time[0] if state.time else None)))
    return holds


def ghosts_named(tree) -> set[str]:
    """The ghost variables a piece of syntax (a node, or lists of them) names."""
    return {x.id for x in S.walk(tree) if isinstance(x, S.Name) and x.ref and x.ref[0] == "ghost"}


def _uses_ghosts(decls: list) -> bool:
    """Whether any of these handlers/actions names a ghost variable (read or write),
    or records a client operation (which updates a register's monitor, a hidden ghost)."""
    return bool(ghosts_named(decls)) or records_operations(decls)


def records_operations(tree) -> bool:
    """Whether this syntax records a client operation (`invoke`/`complete`): it then
    reads and writes its register's monitor, a hidden ghost slot."""
    return any(isinstance(x, (S.Invoke, S.Complete)) for x in S.walk(tree))


def _element_type(t: Type) -> Type:
    if isinstance(t, MapT):
        return t.key
    return getattr(t, "elem", t)


def _values_of(t: Type, c: CheckedSpec) -> list:
    if isinstance(t, BoolT):
        return [False, True]
    if isinstance(t, IntT):
        return list(range(t.lo, t.hi + 1))
    if isinstance(t, EnumT):
        return list(range(len(t.members)))
    if isinstance(t, NodeT):
        if t.role is None:
            return list(range(len(c.node_names)))
        return list(next(r for r in c.roles if r.name == t.role).node_ids)
    if isinstance(t, OptT):
        return [None] + _values_of(t.inner, c)
    raise AssertionError(t)


def _next_choices(choices: list[int], sizes: list[int]) -> list[int] | None:
    """The next `any` choice vector in lexicographic order, or None when done."""
    for p in range(len(sizes) - 1, -1, -1):
        if choices[p] + 1 < sizes[p]:
            return choices[:p] + [choices[p] + 1]
    return None


def _step(label: tuple, n: int, ctx: Ctx) -> Step:
    kind, name, params, message, span = label
    return Step(kind, n, name, params, message, tuple(ctx.out), tuple(ctx.chosen), None, span,
                tuple(ctx.ops) if ctx.ops else ())


def build(checked: CheckedSpec, source: Source, use_faults: bool = True,
          invariant_names: list[str] | None = None, property_names: list[str] | None = None,
          faults: list[FaultInfo] | None = None) -> Model:
    """Compile a checked spec into a Model. Unknown invariant or property names are
    user errors. With names of either kind given, only the named ones are checked.
    `faults` replaces the faults block (a scenario's lines)."""
    invs, props = checked.invariants, checked.properties
    if invariant_names or property_names:
        invs = _select(invs, invariant_names or [], "invariant")
        props = _select(props, property_names or [], "property")
    if faults is None:
        faults = checked.faults if use_faults else []
    return Model(checked, source, faults, invs, props)


def _select(decls: list[S.PropertyDecl], names: list[str], kind: str) -> list[S.PropertyDecl]:
    from ..lang.diagnostics import NO_SPAN, did_you_mean

    known = {d.name for d in decls}
    for name in names:
        if name not in known:
            guess = did_you_mean(name, known)
            plural = "invariants" if kind == "invariant" else "properties"
            hint = f"did you mean '{guess}'?" if guess else (f"{plural}: " + (", ".join(sorted(known)) or "none"))
            raise SpecError([Diagnostic("E104", f"--{kind} {name}: the spec has no {kind} '{name}'", NO_SPAN, hint)])
    return [d for d in decls if d.name in names]
