"""Workers as processes on this machine (`multiprocessing`, forked).

Forking after the model is compiled gives every worker the model, its generated
successor code and its intern tables as they are, at no start-up cost: a pool of
two starts in milliseconds, where a Ray cluster takes seconds (engine/parallel/ray_pool.py
runs the same Worker class on Ray). The search talks to each worker over a pipe,
one call at a time per worker, all workers at once (`call_all`); batches between
workers travel through the search process (it only forwards bytes).
"""
from __future__ import annotations

import multiprocessing
import os
import signal
import traceback


class WorkerFailed(Exception):
    """A worker raised: its traceback, as text (an internal error)."""


class WorkerOutOfMemory(Exception):
    """A worker ran out of memory (MemoryError there)."""


class WorkerLost(Exception):
    """A worker process ended without answering: killed (the kernel's out-of-memory
    killer, a signal) or, on a cluster, its machine left. The search stops there,
    incomplete (stop reason "worker-lost")."""


def available() -> bool:
    return "fork" in multiprocessing.get_all_start_methods()


def _serve(conn, factory, wid: int) -> None:
    # Ctrl-C reaches every process of the terminal's group: the search process
    # handles it and stops the workers; SIGTERM (from the pool's close) just ends one.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    try:
        worker = factory(wid)
    except BaseException:  # noqa: BLE001 - reported to the search process
        conn.send(("error", traceback.format_exc()))
        return
    conn.send(("ok", None))
    while True:
        try:
            msg = conn.recv()
        except (EOFError, OSError):
            return
        if msg is None:
            return
        reply = answer(worker, *msg)
        conn.send(reply)
        if reply[0] == "memory":
            return


def answer(worker, method: str, args: tuple) -> tuple:
    """`worker.method(*args)` as a reply every pool's search process reads (`_unwrap`):
    ("ok", value), ("memory", None) after a MemoryError, ("error", traceback)."""
    try:
        return ("ok", getattr(worker, method)(*args))
    except MemoryError:
        return ("memory", None)
    except BaseException:  # noqa: BLE001 - reported to the search process
        return ("error", traceback.format_exc())


class LocalPool:
    """`n` forked worker processes, each running `factory(wid)`'s Worker (`setup`,
    what a worker elsewhere would build its own from, is not needed here)."""

    def __init__(self, n: int, factory, setup=None):
        ctx = multiprocessing.get_context("fork")
        self.n = n
        self.conns, self.procs = [], []
        for wid in range(n):
            mine, theirs = ctx.Pipe()
            proc = ctx.Process(target=_serve, args=(theirs, factory, wid), daemon=True, name=f"modelcheck-worker-{wid}")
            proc.start()
            theirs.close()
            self.conns.append(mine)
            self.procs.append(proc)
        for conn in self.conns:
            _unwrap(conn.recv())

    def call_all(self, method: str, args: list[tuple]) -> list:
        """Call `method` on every worker (worker w with args[w]), all at once."""
        try:
            for conn, a in zip(self.conns, args):
                conn.send((method, a))
            replies = [conn.recv() for conn in self.conns]
        except (EOFError, OSError) as err:
            raise WorkerLost(self._lost(err)) from None
        return [_unwrap(r) for r in replies]

    def call(self, wid: int, method: str, *args):
        try:
            self.conns[wid].send((method, args))
            reply = self.conns[wid].recv()
        except (EOFError, OSError) as err:
            raise WorkerLost(self._lost(err)) from None
        return _unwrap(reply)

    def _lost(self, err) -> str:
        gone = [f"worker {w} (exit code {p.exitcode})" for w, p in enumerate(self.procs) if not p.is_alive()]
        return ", ".join(gone) or str(err) or type(err).__name__

    def close(self) -> None:
        for conn in self.conns:
            try:
                conn.send(None)
            except (OSError, ValueError):
                pass
        for proc in self.procs:
            proc.join(timeout=2)
            if proc.is_alive():
                proc.terminate()
                proc.join(timeout=2)
            if proc.is_alive():
                os.kill(proc.pid, signal.SIGKILL)
        for conn in self.conns:
            conn.close()

    def kill(self) -> None:
        """Stop at once (Ctrl-C, a timeout mid-call): replies still owed are dropped."""
        for proc in self.procs:
            if proc.is_alive():
                proc.terminate()
        for proc in self.procs:
            proc.join(timeout=2)
        for conn in self.conns:
            conn.close()


def _unwrap(reply):
    status, value = reply
    if status == "ok":
        return value
    if status == "memory":
        raise WorkerOutOfMemory()
    raise WorkerFailed(value)
