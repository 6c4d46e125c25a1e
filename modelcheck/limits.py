"""Stops that come from outside the model: signals and memory.

A search can be stopped by Ctrl-C, by SIGTERM (what a CI job's timeout sends) or by
running out of memory. Each must end like a bound does: exit 3 and a summary of
what was done, never "internal error". Two mechanisms make that uniform:

- SIGTERM is delivered as `Terminated`, a `KeyboardInterrupt`, so every place that
  already turns Ctrl-C into an "interrupted" summary handles both; `interrupted_text()`
  says which one it was, for the summary.
- `MemoryGuard` is polled by the explorers (every few hundred new states, a 3 µs
  read of /proc/self/statm) and asks them to stop before the process hits the
  machine's memory or its address-space limit; a `MemoryError` that still happens
  is caught by the same code and reported as the same stop.
"""
from __future__ import annotations

import os
import re
import resource
import signal
import sys
from dataclasses import dataclass

# The share of the machine's memory (or of the process's address-space limit) that
# a search may use by default: the rest is for the OS, the summary and the trace.
DEFAULT_SHARE = 0.8

_last_signal = "SIGINT"
_signalled = False  # a SIGINT or SIGTERM has arrived (our handler ran, or z3 was interrupted for it)


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised where Ctrl-C would be, so both stop a search the same way."""


def _on_signal(signum, frame) -> None:  # noqa: ARG001 - the signal module's signature
    global _last_signal, _signalled
    _last_signal = "SIGTERM" if signum == signal.SIGTERM else "SIGINT"
    _signalled = True
    raise Terminated() if signum == signal.SIGTERM else KeyboardInterrupt()


def install_signal_handlers() -> None:
    """SIGINT and SIGTERM both raise a KeyboardInterrupt in the main thread."""
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            signal.signal(sig, _on_signal)
        except (ValueError, OSError):  # not the main thread, or a platform without it
            pass
    sys.unraisablehook = _quiet_after_signal


_default_unraisable = sys.unraisablehook


def _quiet_after_signal(unraisable) -> None:
    """After a SIGINT or SIGTERM, a KeyboardInterrupt that lands in a destructor (z3's
    `AstRef.__del__` while the stop unwinds) is the same stop, not a second error:
    Python would print its traceback under the summary."""
    if _signalled and (isinstance(unraisable.exc_value, KeyboardInterrupt) or _half_built_z3(unraisable)):
        return
    _default_unraisable(unraisable)


def _half_built_z3(unraisable) -> bool:
    """A z3 object whose constructor the stop interrupted has no `ctx` yet, so its
    `__del__` raises AttributeError when it is collected: part of the same stop."""
    module = getattr(unraisable.object, "__module__", None) or ""
    return isinstance(unraisable.exc_value, AttributeError) and module.split(".")[0] == "z3"


def signalled() -> bool:
    """Whether a SIGINT or SIGTERM has arrived: then an exception from a library in
    the middle of a call (z3's "canceled", ctypes' ArgumentError wrapping the
    KeyboardInterrupt raised while it converted arguments) is that signal's doing."""
    return _signalled


def stop_signal() -> KeyboardInterrupt:
    """The exception the last SIGINT or SIGTERM stands for (to re-raise it where a
    library turned it into its own error)."""
    return Terminated() if _last_signal == "SIGTERM" else KeyboardInterrupt()


def interrupted_text() -> str:
    return "interrupted (SIGTERM)" if _last_signal == "SIGTERM" else "interrupted (Ctrl-C)"


# ---- memory -----------------------------------------------------------------------

_UNITS = {"": 1, "b": 1, "k": 1 << 10, "kb": 1000, "kib": 1 << 10, "m": 1 << 20, "mb": 1000 ** 2,
          "mib": 1 << 20, "g": 1 << 30, "gb": 1000 ** 3, "gib": 1 << 30, "t": 1 << 40, "tb": 1000 ** 4,
          "tib": 1 << 40}


def parse_size(text: str) -> int | None:
    """'2G', '512MiB', '1.5GB', '75%' (of the machine's memory) or 'none' as bytes
    (None: no limit). Raises ValueError with a message for anything else."""
    t = text.strip().lower()
    if t in ("none", "off", "unlimited"):
        return None
    m = re.fullmatch(r"([0-9]+(?:\.[0-9]+)?)\s*(%|[a-z]*)", t, flags=re.ASCII)
    if m is None or (m.group(2) not in _UNITS and m.group(2) != "%"):
        raise ValueError(f"'{text}' is not a size (for example 4G, 512M, 75% or none)")
    number = float(m.group(1))
    if m.group(2) == "%":
        if not 0 < number <= 100:
            raise ValueError(f"'{text}': a percentage of the machine's memory must be in (0, 100]")
        return int(available_memory() * number / 100)
    size = int(number * _UNITS[m.group(2)])
    if size < 1 << 20:
        raise ValueError(f"'{text}' is less than 1 MiB: too little to explore anything")
    return size


def available_memory() -> int:
    """The memory this process may use at most: the machine's, its cgroup's limit
    or its address-space limit, whichever is least."""
    sizes = []
    try:
        with open("/proc/meminfo", "rb") as fh:
            for line in fh:
                if line.startswith(b"MemTotal:"):
                    sizes.append(int(line.split()[1]) * 1024)
                    break
    except (OSError, ValueError, IndexError):
        pass
    for path in ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"):
        try:
            with open(path, "rb") as fh:
                value = fh.read().strip()
            if value.isdigit() and int(value) < 1 << 60:
                sizes.append(int(value))
        except OSError:
            pass
    limit = _address_space_limit()
    if limit is not None:
        sizes.append(limit)
    if not sizes:
        try:
            sizes.append(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
        except (ValueError, OSError, AttributeError):
            sizes.append(8 << 30)
    return min(sizes)


def _address_space_limit() -> int | None:
    try:
        soft, _ = resource.getrlimit(resource.RLIMIT_AS)
    except (ValueError, OSError, AttributeError):
        return None
    return None if soft == resource.RLIM_INFINITY else soft


def default_memory_limit() -> int:
    return int(available_memory() * DEFAULT_SHARE)


_statm: tuple[int, int] | None = None  # (pid, fd): /proc/self is resolved when opened


def _memory_use() -> tuple[int, int] | None:
    """(virtual size, resident size) of this process in bytes; None off Linux."""
    global _statm
    pid = os.getpid()
    try:
        if _statm is None or _statm[0] != pid:  # a forked worker opens its own
            _statm = (pid, os.open("/proc/self/statm", os.O_RDONLY))
        fields = os.pread(_statm[1], 128, 0).split()
        page = os.sysconf("SC_PAGE_SIZE")
        return int(fields[0]) * page, int(fields[1]) * page
    except (OSError, ValueError, IndexError, AttributeError):
        return None


@dataclass
class MemoryGuard:
    """Tells a search when to stop for memory.

    `limit` bounds the resident memory (what the machine gives). When the process
    also has an address-space limit (ulimit -v, RLIMIT_AS), its virtual size is held
    to DEFAULT_SHARE of that too: Python reserves address space ahead of use, and
    the limit fails allocations however little is resident."""

    limit: int | None
    vm_limit: int | None = None

    def __post_init__(self) -> None:
        aslimit = _address_space_limit()
        if aslimit is not None:
            self.vm_limit = int(aslimit * DEFAULT_SHARE)

    def exceeded(self) -> bool:
        """True when the process uses more memory than allowed (a 3 µs read: call it
        every few hundred states)."""
        return self.above(1.0)

    def above(self, share: float) -> bool:
        """True when the process uses more than `share` of what it is allowed (a
        search that can trade time for memory does so from there)."""
        if self.limit is None and self.vm_limit is None:
            return False
        use = _memory_use()
        if use is None:
            return False
        vm, rss = use
        return (self.limit is not None and rss > share * self.limit) or \
            (self.vm_limit is not None and vm > share * self.vm_limit)


class StopSearch(Exception):
    """Raised by `Budget.tick` inside a long computation that has no natural stop
    point of its own (the liveness phase): the caller reports `reason`."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason  # "timeout" | "memory"


@dataclass
class Budget:
    """A deadline and a memory guard, checked every `every` ticks (a tick is one
    unit of work: a state visited, an edge followed)."""

    deadline: float | None = None  # time.monotonic() value
    memory: MemoryGuard | None = None
    every: int = 4096
    _n: int = 0

    def tick(self) -> None:
        self._n += 1
        if self._n % self.every:
            return
        import time
        if self.deadline is not None and time.monotonic() > self.deadline:
            raise StopSearch("timeout")
        if self.memory is not None and self.memory.exceeded():
            raise StopSearch("memory")


class z3_deadline:
    """While active, a z3 call still running at `deadline` (a time.monotonic() value,
    or None: no deadline) is cancelled, and `passed()` tells the caller to stop: a
    --timeout shorter than a spec's z3 analysis ends the run at the timeout, not when
    the analysis is done. A timer thread asks z3 to stop (Context.interrupt); the
    check returns "unknown", which the caller must not take as an answer."""

    def __init__(self, deadline: float | None):
        self.deadline = deadline
        self._timer = None
        self._fired = False

    def __enter__(self):
        import threading
        import time
        if self.deadline is not None:
            self._timer = threading.Timer(max(self.deadline - time.monotonic(), 0.0), self._fire)
            self._timer.daemon = True
            self._timer.start()
        return self

    def _fire(self) -> None:
        import z3
        self._fired = True
        try:
            z3.main_ctx().interrupt()
        except Exception:  # noqa: BLE001 - best effort: passed() still stops the caller
            pass

    def passed(self) -> bool:
        import time
        return self._fired or (self.deadline is not None and time.monotonic() > self.deadline)

    def check(self) -> None:
        """Between two z3 calls: StopSearch("timeout") once the deadline has passed."""
        if self.passed():
            raise StopSearch("timeout")

    def __exit__(self, *exc) -> None:
        if self._timer is not None:
            self._timer.cancel()


class z3_interruptible:
    """While active, SIGINT and SIGTERM also cancel a running z3 call.

    Python runs a signal's handler only between bytecodes, so a long `check()` in
    z3's C code would hold a SIGTERM back until it returns. The C-level handler does
    write the signal's number to the wakeup fd at once; a thread waiting on it asks
    z3 to stop (`Context.interrupt`), the check returns "unknown" (canceled), and the
    Python handler then raises as usual."""

    def __enter__(self):
        import threading
        self._old = None
        try:
            self._r, self._w = os.pipe()
            os.set_blocking(self._w, False)
            self._old = signal.set_wakeup_fd(self._w, warn_on_full_buffer=False)
        except (ValueError, OSError):  # not the main thread
            return self
        self._thread = threading.Thread(target=self._watch, daemon=True)
        self._thread.start()
        return self

    def _watch(self) -> None:
        global _signalled, _last_signal
        import z3
        while True:
            try:
                data = os.read(self._r, 64)
            except OSError:
                return
            if not data or data == b"\0":  # the pipe closed, or __exit__'s wake-up
                return
            if not {signal.SIGINT, signal.SIGTERM} & set(data):  # another signal (a timer): not a stop
                continue
            _signalled = True
            _last_signal = "SIGTERM" if signal.SIGTERM in set(data) else "SIGINT"
            try:
                z3.main_ctx().interrupt()
            except Exception:  # noqa: BLE001 - best effort: the Python handler still runs
                pass

    def __exit__(self, *exc) -> None:
        if self._old is None:
            return
        signal.set_wakeup_fd(self._old)
        try:
            os.write(self._w, b"\0")
        except OSError:
            pass
        self._thread.join(timeout=1)
        os.close(self._w)
        os.close(self._r)
