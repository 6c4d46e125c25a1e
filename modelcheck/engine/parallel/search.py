"""The partitioned breadth-first search: the level loop over a pool of workers.

Stern and Dill's parallel Murphi, TLC's distributed mode and PReach share out the
state space by a hash of each state; so does this search (engine/parallel/wire.Owner),
with levels synchronised so that it reports what the one-process packed search
(engine/explorer._explore_packed) reports, with any number of workers:

- the states, transitions and depth, level by level (a state is counted once, by
  its owner);
- the first violation: the one-process search stops at the first bad state in
  its discovery order, and every candidate carries its discovery key
  (engine/parallel/worker.py), so the search takes the bad state of least key;
  the counts at that moment are rebuilt from keys too (states found before it,
  transitions taken before it), so a violated run reports the same numbers;
- its trace: parent links are kept as ranks, the chain is read from the owners,
  and the steps are replayed from the initial state, the owner of each state
  telling which successor is its state (the one-process search's rule: the first
  successor in the model's order that is stored under the next key);
- --max-states: the bound falls inside a level; the state that reaches it is the
  one whose rank in that level completes the count, and what came before it in
  discovery order (violations, errors) is what the one-process search saw;
- --max-depth, measures (each end's first state in discovery order), symmetry's
  unreduced count, --collect (every invariant's first violation).

What depends on time (--timeout, Ctrl-C, SIGTERM, the memory limit) stops between
two rounds of a level and reports the counts reached, as the one-process search does
at its own stopping point.

A worker expands at most ROUND states (and ROUND_SECONDS) between two exchanges, so a level of any size goes
through memory in slices and the search can stop within a level.
"""
from __future__ import annotations

import time
from dataclasses import dataclass

from .. import growth, measures, packed
from ..explorer import Progress, _growth, _if_complete, _orbits_start, _result
from ..invariants import check_state, runtime_violation
from ..result import Finding, Result, Stats
from ..stops import STOPPING, Stops
from ..visited import fingerprint_budget
from ...limits import MemoryGuard
from .local import LocalPool, WorkerFailed, WorkerLost, WorkerOutOfMemory
from .wire import Owner, choose_parts, model_signature
from .worker import KEY_BITS, Worker

# Frontier states a worker expands between two exchanges of batches, at most, and
# for at most ROUND_SECONDS: a round ends when its slowest worker does, so rounds of
# equal time rather than equal states keep the others from waiting
ROUND = 16384
ROUND_SECONDS = 0.05


@dataclass(frozen=True)
class WorkerSetup:
    """Everything a worker is built from besides the model itself, in picklable form:
    a forked worker inherits the search's model; a worker on a Ray cluster builds
    the model again from the spec (engine/parallel/ray_pool.py) and then from this."""

    n: int  # workers
    parts: tuple | None  # the nodes the owner hashes (wire.choose_parts)
    fingerprints: bool
    collect: bool
    memory_limit: int | None  # per worker
    plan: object  # the search's Plan (symmetric roles; what the reductions were decided on)
    reductions: tuple  # (skip_partitions, drop_dead_messages): Options' part that shapes the model
    dead_analyses: dict  # the z3 dead-message analyses the search's model used (not redone per worker)
    signature: int  # model_signature of the search's model: a worker's own must equal it
    fingerprint_memory: int | None = None  # per worker: its fingerprint table's budget (visited.py)


def packed_parts(model, plan):
    """(PackedModel, PackedSymmetry or None, Symmetry or None) of `model` for `plan`."""
    pm = packed.PackedModel(model)
    psym = sym = None
    if plan.symmetric_roles:
        from ..symmetry import PackedSymmetry, Symmetry
        sym = Symmetry(model, plan.symmetric_roles)
        psym = PackedSymmetry(pm, sym)
    return pm, psym, sym


def build_worker(wid: int, setup: WorkerSetup, model, pm, psym, sym) -> Worker:
    """Worker `wid` of a search set up by `setup`, on its own (or an inherited) model."""
    owner = Owner(pm, sym, setup.n, setup.parts)
    return Worker(wid, setup.n, pm, psym, owner, model, setup.fingerprints, setup.collect,
                  measures.tracker(model), MemoryGuard(setup.memory_limit), setup.fingerprint_memory)


def _per_worker(budget: int | None, n: int) -> int | None:
    return None if budget is None else budget // n


def explore_parallel(model, options, plan, start: float, workers: int, pool_factory=None) -> Result:
    """`explore` on `workers` processes (see the module docstring). `pool_factory(n,
    factory, setup)` makes the pool: `factory(wid)` builds worker `wid` in a process
    forked from this one, `setup` (WorkerSetup) is what a worker elsewhere builds it
    from (default: forked local processes, engine/parallel/local.py)."""
    stats = Stats()
    try:
        pm, psym, sym = packed_parts(model, plan)
    except STOPPING as err:
        stats.seconds = time.monotonic() - start
        return Result("incomplete", stats, model.initial, stop_reason=Stops.reason(err),
                      invariants=[i.name for i in model.invariants])
    return _Search(model, options, plan, start, workers, pm, psym, sym, pool_factory or LocalPool).run()


class _Search:
    def __init__(self, model, options, plan, start, n, pm, psym, sym, pool_factory):
        self.model, self.options, self.plan, self.start, self.n = model, options, plan, start, n
        self.pm, self.psym, self.sym = pm, psym, sym
        self.pool_factory = pool_factory
        self.stats = Stats()
        self.collect = options.collect_all
        self.findings: dict = {}
        self.stops = Stops(options, start)
        self.mt = measures.tracker(model)
        if self.mt is not None:
            self.mt.to_state = pm.unpack
        self.pool = None
        self.explored = False
        self.states = 1  # states stored in the levels done
        self.frontier = 0
        self.unreduced = None  # with symmetry: the states the stored ones stand for (None: unknown)
        self.recent = None  # samples of the last levels, for the growth hint (growth.Recent)
        self.placement = None

    # ---- the run --------------------------------------------------------------------

    def run(self) -> Result:
        pm, model, collect = self.pm, self.model, self.collect
        init = pm.initial if self.psym is None else self.psym.canon(pm.initial)
        self.unreduced = None if self.psym is None else _orbits_start(self.psym)
        self.recent = growth.Recent(pm.unpack(init))
        read0 = pm.reads(init)
        bads = check_state(model, pm.unpack(init), collect, memo=False)
        if self.mt is not None:
            bads = bads + self.mt.see(init, read0, (0, 0))
        for bad in bads:
            if not collect:
                return self.finish("violated", Finding(bad), 1)
            self.findings.setdefault(bad.name or "", Finding(bad))
        limit, n, options = self.options.memory_limit, self.n, self.options
        self.parts = choose_parts(pm, self.sym, n)
        setup = WorkerSetup(n, self.parts, self.plan.fingerprints, collect, limit // n if limit else None,
                            self.plan, (options.skip_partitions, options.drop_dead_messages),
                            dict(getattr(model, "dead_analyses", None) or {}), model_signature(pm),
                            _per_worker(fingerprint_budget(options), n))

        def factory(wid: int) -> Worker:
            return build_worker(wid, setup, model, pm, self.psym, self.sym)

        try:
            self.pool = self.pool_factory(n, factory, setup)
            self.placement = getattr(self.pool, "placement", None)  # where a cluster put the workers
            self.pool.call_all("seed", [()] * n)
            return self._levels()
        except STOPPING as err:
            self._kill()
            return self.finish("incomplete", None, self.states + self.frontier, stop_reason=Stops.reason(err))
        except WorkerOutOfMemory:
            self._kill()
            return self.finish("incomplete", None, self.states + self.frontier, stop_reason="memory")
        except WorkerLost as err:
            self._kill()
            result = self.finish("incomplete", None, self.states + self.frontier, stop_reason="worker-lost")
            result.notes.append(f"a worker was lost: {err}")
            return result
        finally:
            if self.pool is not None:
                self.pool.close()

    def _kill(self) -> None:
        if self.pool is not None:
            self.pool.kill()
            self.pool = None

    def _levels(self) -> Result:
        n, stats, stops, pool = self.n, self.stats, self.stops, self.pool
        transitions, depth = 0, 0
        max_states = self.options.max_states
        while True:
            probe = stops.at_depth_bound(depth)
            stopped = self._rounds(depth, transitions)
            if stopped is not None:
                return stopped
            fin = pool.call_all("finish_level", [()] * n)
            keys = [f[0] for f in fin]
            errors = [f[1] for f in fin if f[1] is not None]
            level_transitions = sum(f[2] for f in fin)
            n_new = sum(len(b) for b in keys) // 8
            if probe:  # at the depth bound: is anything cut off?
                stats.transitions = transitions
                if n_new or errors:
                    return self.finish("incomplete", None, self.states, stop_reason="max-depth")
                break
            if not n_new and not errors:
                transitions += level_transitions
                break
            pool.call_all("rank", [(keys,)] * n)
            cutoff = None
            nstop = None if max_states is None else max(max_states, 2)
            if nstop is not None and self.states + n_new >= nstop:
                cutoff = nstop - self.states  # the states of rank below this one are stored
            checks = pool.call_all("check", [(n_new if cutoff is None else cutoff, depth + 1)] * n)
            result = self._events(depth, transitions, errors, checks, cutoff, n_new)
            if result is not None:
                return result
            transitions += level_transitions
            self.states += n_new
            self.frontier = 0
            depth += 1
            stats.depth = depth
            stats.transitions = transitions
            if not n_new:
                break
            reason = stops.after_level(True)
            if reason is not None:
                return self.finish("incomplete", None, self.states, stop_reason=reason)
        stats.transitions = transitions
        self.explored = True
        if self.findings:
            return self.finish("violated", next(iter(self.findings.values())), self.states)
        return self.finish("holds", None, self.states)

    def _rounds(self, depth: int, transitions: int) -> Result | None:
        """Expand the level in rounds until every frontier is empty and every batch
        taken; a Result if a time- or memory-dependent rule stops the search."""
        n, pool, progress = self.n, self.pool, self.options.on_progress
        incoming: list = [[] for _ in range(n)]
        deadline = self.stops.deadline
        while True:
            replies = pool.call_all("step", [(incoming[w], ROUND, ROUND_SECONDS) for w in range(n)])
            incoming = [[] for _ in range(n)]
            left = cands = level_transitions = 0
            memory = moving = False
            for w, (out, rest, c, tr, mem) in enumerate(replies):
                for j, batch in enumerate(out):
                    if batch is not None:
                        incoming[j].append((w, batch))
                        moving = True
                left += rest
                cands += c
                level_transitions += tr
                memory = memory or mem
            self.frontier = cands
            self.stats.transitions = transitions + level_transitions
            if progress is not None:
                progress(Progress(self.states + cands, transitions + level_transitions, depth + 1, left + cands,
                                  time.monotonic() - self.start))
            if memory:
                return self.finish("incomplete", None, self.states + cands, stop_reason="memory")
            if deadline is not None and time.monotonic() > deadline and (left or moving):
                return self.finish("incomplete", None, self.states + cands, stop_reason="timeout")
            if not left and not moving:
                return None

    def _events(self, depth: int, transitions: int, errors: list, checks: list, cutoff, n_new: int):
        """What the one-process search meets in this level, in discovery order: steps
        that raise, bad states, the state that reaches --max-states. A Result when
        one of them stops the search; None to go on."""
        n, pool, collect, stats = self.n, self.pool, self.collect, self.stats
        err = min(errors) if errors else None
        bad = sorted((key, rank, vs) for check in checks for rank, key, vs in check[0])
        kc = None
        if cutoff is not None:
            kc = next(k for k in pool.call_all("key_at", [(cutoff - 1,)] * n) if k is not None)
        if err is not None and kc is not None and err > kc:
            err = None  # beyond the bound
        # the rank of the last state of this level the one-process search stores before it stops (None: all)
        last = None if cutoff is None else cutoff - 1
        stop = None
        if not collect:
            first_bad = bad[0] if bad else None
            if err is not None and (first_bad is None or err < first_bad[0]):
                stop = ("error", err)
                last = self._count_below(err) - 1
            elif first_bad is not None:
                stop = ("bad", first_bad)
                last = first_bad[1]
            elif kc is not None:
                stop = ("cut", kc)
        self._absorb_measures(checks, depth + 1, last, n_new)
        if self.unreduced is not None:
            for check in checks:
                self.unreduced = None if check[1] is None or self.unreduced is None else self.unreduced + check[1]
        self.recent.add(depth + 1, [st for _, st in sorted(((r, st) for c in checks for r, st in c[3]),
                                                           key=lambda x: x[0])])
        if collect:
            events = []
            if err is not None and "" not in self.findings:
                events.append((err, 0, "error", None))
            for key, rank, vs in bad:
                for v in vs:
                    events.append((key, 1, rank, v))
            for key, _, rank, v in sorted(events, key=lambda e: (e[0], e[1])):
                if rank == "error":
                    if "" not in self.findings:
                        self.findings[""] = self._error_finding(depth, key)
                elif (v.name or "") not in self.findings:
                    self.findings[v.name or ""] = Finding(v, self._trace(depth + 1, rank))
            if kc is not None:
                stop = ("cut", kc)
            else:
                return None
        if stop is None:
            return None
        kind, what = stop
        key = what if kind != "bad" else what[0]
        stats.depth = max(stats.depth, depth + 1)
        stats.transitions = transitions + self._transitions_to(key)
        if kind == "error":
            return self.finish("violated", self._error_finding(depth, key), self.states + last + 1)
        if kind == "bad":
            _, rank, vs = what
            return self.finish("violated", Finding(vs[0], self._trace(depth + 1, rank)), self.states + rank + 1)
        return self.finish("incomplete", None, self.states + cutoff, stop_reason="max-states")

    def _count_below(self, key: int) -> int:
        return sum(self.pool.call_all("count_below", [(key,)] * self.n))

    def _transitions_to(self, key: int) -> int:
        """Transitions of the level up to and including the one with discovery key `key`."""
        parent, idx = key >> KEY_BITS, key & ((1 << KEY_BITS) - 1)
        return sum(self.pool.call_all("transitions_before", [(parent,)] * self.n)) + idx + 1

    def _absorb_measures(self, checks: list, depth: int, last, n_new: int) -> None:
        """Fold the workers' records of where the level's extremes improved, up to
        rank `last` (None: the whole level), into the running extremes."""
        mt = self.mt
        if mt is None:
            return
        last = n_new if last is None else last
        for i in range(len(mt.measures)):
            for end, better in ((0, lambda a, b: a < b), (1, lambda a, b: a > b)):
                best = None
                for check in checks:
                    records = check[2][end][i]
                    rec = None
                    for rank, v in records:
                        if rank > last:
                            break
                        rec = (rank, v)
                    if rec is not None and (best is None or better(rec[1], best[1])
                                            or (rec[1] == best[1] and rec[0] < best[0])):
                        best = rec
                if best is None:
                    continue
                ends = mt.lo if end == 0 else mt.hi
                if ends[i] is None or better(best[1], ends[i][0]):
                    ends[i] = (best[1], (depth, best[0]))

    # ---- traces ---------------------------------------------------------------------

    def _trace(self, depth: int, rank: int) -> list:
        """The steps from the initial state to the state (depth, rank): the parent
        chain from the owners, then a replay from the initial state."""
        n, pool, model = self.n, self.pool, self.model
        chain, owners = [rank], []
        for d in range(depth, 0, -1):
            replies = pool.call_all("parent_of", [(d, chain[-1])] * n)
            w = next(w for w, r in enumerate(replies) if r is not None)
            owners.append(w)
            chain.append(replies[w])
        chain.reverse()
        owners.reverse()
        steps, cur = [], model.initial
        for d in range(1, depth + 1):
            trs = list(model.successors(cur))
            i = pool.call(owners[d - 1], "match", d, chain[d], [tr.state for tr in trs])
            steps.append((trs[i].step, trs[i].state))
            cur = trs[i].state
        return steps

    def _error_finding(self, depth: int, key: int) -> Finding:
        """A step that raised, from the state (depth, parent rank of `key`)."""
        trace = self._trace(depth, key >> KEY_BITS)
        last = trace[-1][1] if trace else self.model.initial
        tr = next(t for t in self.model.successors(last) if t.error is not None)
        return Finding(runtime_violation(tr.error), trace + [(tr.step, None)])

    # ---- the result -----------------------------------------------------------------

    def finish(self, verdict: str, finding, n_states: int, **kw) -> Result:
        stats, mt = self.stats, self.mt
        stats.states_without_symmetry = _if_complete(self.unreduced, verdict, self.collect)
        if mt is not None:
            trace_of = (lambda key: self._trace(*key)) if self.pool is not None else None
            kw["measures"] = mt.results(self.explored, trace_of)
        if verdict == "incomplete":
            stats.frontier = self.frontier
            if self.recent is not None:
                kw["growth"] = _growth(self.model, self.recent)
        if self.pool is not None:
            try:
                stats.workers = [list(c) for c in self.pool.call_all("counts", [()] * self.n)]
                stats.fingerprints_on_disk = sum(w[5] for w in stats.workers) or None
            except (WorkerFailed, WorkerOutOfMemory, WorkerLost, OSError, EOFError):
                pass
        result = _result(verdict, finding, self.model, stats, self.start, n_states, self.findings,
                         self.plan.fingerprints, symmetric_roles=self.plan.symmetric_roles, **kw)
        if self.placement is not None:
            result.notes.append(self.placement)
        return result
