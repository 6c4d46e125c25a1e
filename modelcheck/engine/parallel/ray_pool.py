"""Workers on a Ray cluster (`verify --cluster ADDRESS`): the same Worker class and
search loop as the local pool, each worker a Ray actor on some machine.

A forked worker inherits the search's compiled model; an actor cannot (a compiled
model holds generated code and closures, which do not pickle, and another machine
has none of this process's memory). So each actor builds the model again from the
spec's text (`Recipe`), applies the reductions the search decided on with the
search's own dead-message analyses (`WorkerSetup.dead_analyses`: z3 is not run
again, so every worker prunes alike), and checks that its model's signature is
the search's: a machine with another modelcheck, or another spec, is refused
before the search starts rather than giving wrong counts.

Everything else crosses as it does between forked workers: batches are bytes
(engine/parallel/wire.py), and the values behind the ids travel with them, so
states mean the same on every machine. The search process forwards the batches,
so every round goes through it: the cost of a cluster is that round trip and the
bytes handed over, which the workers line of the report shows.

Ray is optional (`pip install 'modelcheck[distributed]'`): nothing here imports it
until a pool is made. On one machine, `--workers` uses forked processes: a Ray
start-up costs seconds that a small run never wins back (docs/language.md,
"Workers across machines").
"""
from __future__ import annotations

import logging
import os
import traceback
from dataclasses import dataclass

from .local import WorkerFailed, WorkerLost, WorkerOutOfMemory, _unwrap, answer

# How long the actors may take to be placed and to build the model
START_TIMEOUT = 300.0


class ClusterError(Exception):
    """The cluster cannot run the search: Ray missing, no cluster at the address,
    too few CPUs, or workers that built another model. A user's error (exit 2),
    with a hint."""

    def __init__(self, message: str, hint: str):
        super().__init__(message)
        self.hint = hint


@dataclass(frozen=True)
class Recipe:
    """How a worker builds the search's model on its own: the spec's text and what
    `api.build_model` was given."""

    path: str
    text: str
    overrides: tuple  # the consts given to load, as (name, value) pairs
    no_faults: bool = False
    scenario: str | None = None
    invariants: tuple = ()
    properties: tuple = ()

    def build(self):
        from ... import api
        spec = api.from_text(self.text, dict(self.overrides), name=self.path)
        return api.build_model(spec, no_faults=self.no_faults, scenario=self.scenario,
                               invariants=self.invariants, properties=self.properties)


def ray_module():
    """The `ray` package, or ClusterError saying how to install it."""
    try:
        import ray
    except ImportError:
        raise ClusterError("--cluster needs Ray, which is not installed",
                           "pip install 'modelcheck[distributed]' (on every machine of the cluster)") from None
    return ray


# Whether this process connected itself (and so disconnects when its pool closes)
_connected_here = False


def connect(address: str) -> None:
    """Connect this process to the cluster at `address` (a Ray address, or "auto"
    for the one `ray start` began on this machine), unless it already is."""
    global _connected_here
    ray = ray_module()
    if ray.is_initialized():
        return
    try:
        _probe(address)  # Ray itself retries an address with nothing behind it for minutes
        ray.init(address=address, logging_level=logging.ERROR, log_to_driver=False)
    except (ConnectionError, RuntimeError, ValueError, OSError) as err:
        first = str(err).splitlines()[0] if str(err) else type(err).__name__
        raise ClusterError(f"cannot reach a Ray cluster at {address}: {first}", HINT_START) from None
    _connected_here = True


HINT_START = ("start one with `ray start --head` (then join machines with `ray start --address HEAD:6379`), "
              "and give --cluster the head's address, or auto on the head")
# Seconds to wait for the head's port to answer before giving up on an address
PROBE_TIMEOUT = 10.0


def _probe(address: str) -> None:
    """Raise OSError when nothing listens at a HOST:PORT address ("auto" and the
    like are Ray's to resolve)."""
    import socket
    rest = address.split("://", 1)[-1]
    host, sep, port = rest.rpartition(":")
    if not sep or not port.isdigit() or not host:
        return
    with socket.create_connection((host.strip("[]"), int(port)), timeout=PROBE_TIMEOUT):
        pass


def disconnect() -> None:
    """Close the connection `connect` made, if it made one."""
    global _connected_here
    if _connected_here:
        import ray
        if ray.is_initialized():
            ray.shutdown()
        _connected_here = False


def cluster_cpus(address: str) -> int:
    """The CPUs the cluster at `address` offers (connecting to it)."""
    connect(address)
    return int(ray_module().cluster_resources().get("CPU", 0))


class RayWorker:
    """One worker as a Ray actor: builds the model, then answers the search's calls
    as a forked worker does (local._serve), errors as values."""

    def __init__(self, recipe: Recipe, setup, wid: int):
        self.worker = None
        self.failure = None
        try:
            from ..explorer import Options
            from ... import prune
            from .search import build_worker, packed_parts
            from .wire import model_signature
            model = recipe.build()
            model.dead_analyses.update(setup.dead_analyses)
            skip, drop = setup.reductions
            model, _ = prune.apply(model, setup.plan, Options(skip_partitions=skip, drop_dead_messages=drop))
            pm, psym, sym = packed_parts(model, setup.plan)
            if model_signature(pm) != setup.signature:
                self.failure = ("mismatch", os.uname().nodename)
                return
            self.worker = build_worker(wid, setup, model, pm, psym, sym)
        except BaseException:  # noqa: BLE001 - reported to the search process
            self.failure = ("error", traceback.format_exc())

    def ready(self):
        if self.failure is not None:
            return self.failure
        import ray
        return ("ok", ray.get_runtime_context().get_node_id())

    def call(self, method: str, args: tuple):
        reply = answer(self.worker, method, args)
        if reply[0] == "memory":
            self.worker = None  # its memory back; the search stops
        return reply


class RayPool:
    """`n` workers as actors on the Ray cluster at `address`, one CPU each, spread
    over its machines (the same calls as local.LocalPool)."""

    def __init__(self, n: int, setup, address: str, recipe: Recipe):
        ray = ray_module()
        self.ray, self.n = ray, n
        self.actors: list = []
        connect(address)
        try:
            cpus = int(ray.cluster_resources().get("CPU", 0))
            if cpus < n:
                raise ClusterError(f"the Ray cluster at {address} has {cpus} CPU{'s' if cpus != 1 else ''}; "
                                   f"--workers {n} needs one per worker",
                                   f"use --workers {max(cpus, 1)}, or add machines (ray start --address ...)")
            actor = ray.remote(num_cpus=1, max_restarts=0)(RayWorker)
            self.actors = [actor.options(scheduling_strategy="SPREAD").remote(recipe, setup, wid) for wid in range(n)]
            try:
                replies = ray.get([a.ready.remote() for a in self.actors], timeout=START_TIMEOUT)
            except ray.exceptions.GetTimeoutError:
                raise ClusterError(f"the cluster did not start {n} workers within {START_TIMEOUT:.0f} s",
                                   "check `ray status`: its CPUs may be taken by other jobs") from None
            except ray.exceptions.RayError as err:
                raise WorkerLost(str(err)) from None
            nodes = []
            for status, detail in replies:
                if status == "mismatch":
                    raise ClusterError(f"a worker on {detail} built another model from the spec",
                                       "install the same modelcheck version on every machine of the cluster")
                if status == "error":
                    raise WorkerFailed(detail)
                nodes.append(detail)
            spread = len(set(nodes))
            self.placement = (f"--cluster {address}: {n} workers on {spread} Ray node{'s' if spread != 1 else ''}")
        except BaseException:
            self.kill()
            raise

    def call_all(self, method: str, args: list[tuple]) -> list:
        refs = [a.call.remote(method, x) for a, x in zip(self.actors, args)]
        return [_unwrap(r) for r in self._get(refs)]

    def call(self, wid: int, method: str, *args):
        return _unwrap(self._get([self.actors[wid].call.remote(method, args)])[0])

    def _get(self, refs: list) -> list:
        try:
            return self.ray.get(refs)
        except self.ray.exceptions.RayActorError as err:
            raise WorkerLost(str(err).splitlines()[0] if str(err) else "a worker died") from None

    def close(self) -> None:
        self.kill()

    def kill(self) -> None:
        for a in self.actors:
            try:
                self.ray.kill(a)
            except Exception:  # noqa: BLE001 - already gone
                pass
        self.actors = []
        disconnect()


class RayPoolFactory:
    """Options.pool_factory for `--cluster`: a RayPool on `address` building its
    workers from `recipe`."""

    def __init__(self, address: str, recipe: Recipe):
        self.address, self.recipe = address, recipe

    def __call__(self, n: int, factory, setup) -> RayPool:
        return RayPool(n, setup, self.address, self.recipe)
