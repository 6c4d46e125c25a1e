"""The contract between a model and the explorer: what a search may ask of a model.

`Explorable` is all the breadth-first search needs (the shape of stateright's
`init_states` / `actions` / `next_state`, plus invariants): an initial state, the
successors of a state in a fixed order, and the invariants a state breaks. States
are opaque to the explorer: any hashable value (the test doubles use ints).

A model may offer more, and the explorer then does more. Each optional capability
is a Protocol of its own, tested with `isinstance` once, before the search starts
(explorer.Options.validate); a model without it is searched without it:

- `Temporal`: temporal properties, checked on the recorded state graph after the
  search (the liveness phase), and `settled`, the spec's fairness assumptions.
- `Symmetric`: the roles whose nodes the spec cannot tell apart, so renamed states
  can be explored once (symmetry reduction). The model decides this from its
  spec; the explorer never reads the syntax tree.

Three reductions work on a compiled spec's internals rather than through a
contract, and say themselves whether a model qualifies: the packed fast path
(`packed.applicable`: an `engine.model.Model`), the symmetry canonicaliser it
builds from `Symmetric.symmetric_roles` (`symmetry.Symmetry`), and sleep-set
pruning (`reduction.applicable`). `engine.model.Model` meets every Protocol here.
"""
from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import Any, Protocol, runtime_checkable


class Invariant(Protocol):
    """A named state predicate, as the explorer reports it."""

    name: str
    decl: Any  # its declaration; `decl.expr.span` locates it in the spec (for reports)


class Transition(Protocol):
    """One successor of a state: the step taken, and the state it reaches, or the
    run-time error the step raised (then `state` is None)."""

    step: Any  # engine.model.Step: what happened, for traces and reports
    state: Hashable | None
    error: Any  # a lang.values.SpecRuntimeError, or None


@runtime_checkable
class Explorable(Protocol):
    """What every model must offer the explorer."""

    # The state the search starts from. Traces are rebuilt by replaying
    # `successors` from it, so it must be the same value on every read.
    initial: Hashable
    # The invariants checked in every reachable state, in declaration order (their
    # names head the report, and `violated_invariants` returns these objects).
    invariants: Sequence[Invariant]

    def successors(self, state: Hashable) -> Sequence[Transition]:
        """Every transition out of `state`, in a fixed, deterministic order: the
        first successor reaching a state is the step a trace shows, and liveness
        numbers edges by their position in this list."""
        ...

    def violated_invariants(self, state: Hashable, every: bool = False) -> Sequence[tuple[Invariant, Any]]:
        """The invariants `state` breaks, in declaration order, each with the
        run-time error that evaluating it raised (None: it is simply false): only
        the first one unless `every` (the matrix wants all of them)."""
        ...


class Property(Protocol):
    """A temporal property (engine.model.CompiledProperty)."""

    name: str
    decl: Any  # its declaration; `decl.expr.span` locates it in the spec
    op: str  # eventually | always | always_eventually | leads_to
    # One per binding of its leading `forall` variables: each with `binding`, `q`
    # and `p` (predicates on states; p is None but for leads_to).
    instances: Sequence[Any]


@runtime_checkable
class Temporal(Protocol):
    """Optional: temporal properties. Without this capability (or with no
    properties) the search checks invariants only and records no state graph."""

    # Checked after a complete search on its recorded state graph (liveness.py).
    properties: Sequence[Property]

    def settled(self, state: Hashable) -> bool:
        """Whether `state` may lie on a liveness cycle under the spec's assumptions
        (`eventually heal`, `eventually restart`): a cycle through an unsettled
        state is not a counterexample."""
        ...


@runtime_checkable
class Symmetric(Protocol):
    """Optional: symmetry reduction. Without it every state is stored as it is."""

    def symmetric_roles(self) -> list[str]:
        """The roles whose nodes are interchangeable (possibly none): states that
        differ by a renaming of such nodes are explored once. Asked only when the
        search uses symmetry (Options.symmetry, and no state graph is recorded)."""
        ...
