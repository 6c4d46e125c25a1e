"""The visited set of `--fingerprints` mode: 64-bit fingerprints in one flat buffer,
parent links on disk.

Why not a dict: a dict from a fingerprint to its parent's costs about 100 bytes per
state in CPython (the entry, its index slot, and two int objects of 36 bytes), which
is what capped a fingerprinted run near TLC's exact runs. Here a fingerprint is 8 bytes
in an `array('q')` with open addressing (linear probing), kept between 50% and 75%
full, so 10.7-16 bytes per state; TLC's in-memory FPSet is the same idea. Probing is
plain Python, and measured as fast as a dict lookup on a big table (a dict of
millions of int keys misses the CPU cache just the same): 2 million inserts and
2 million hits, 1.40 s here against 1.85 s for a dict.

The parent links, which only a counterexample trace needs, go to unnamed temporary
files, fingerprints in one and parents in the other, in the order states were found
(`ParentLog`).
A trace is rebuilt backwards: a state's parent was found before it, so its record is
found by searching the file backwards from the child's record (`mmap.rfind`, at
memory speed); each search goes back about one BFS level.

When memory runs short the table goes to disk (TLC's DiskFPSet idea): `memory` bounds the
table's bytes (by default a quarter of --memory-limit, see `fingerprint_budget`); when
the table would grow past it, its fingerprints are sorted and merged into one sorted
file (`DiskFingerprints`) and the table starts again empty, at the same size. A
fingerprint not in the table is then looked up in the file: a binary search in an index
of every 1,024th fingerprint (8 bytes per 1,024 states in memory), then in one page of
the mapped file, about 2 µs. Only new states and repeats of states spilled earlier pay
it; the search's order, counts and traces do not change.

The interface is the dict's that the searches use (`in`, `[k] = parent`, `[k]`,
`len`, `clear`), plus `add` (store unless stored), and `slot` and `put` for a search loop
that probes the table inline: in the packed search's hot loop a method call per
transition cost more than the probe itself. Keys are Python `hash` values (signed 64-bit); 0 marks an empty slot, so a
state hashing to 0 is stored as 1 (one more way to collide, inside the reported
birthday bound)."""
from __future__ import annotations

import heapq
import mmap
import os
import struct
import tempfile
from array import array
from bisect import bisect_left, bisect_right
from itertools import islice

_KEY = struct.Struct("=q")  # as array("q") writes it
# The table is rebuilt 1.5x larger when 75% full: it stays 50-75% full, 10.7-16 bytes a state.
_MAX_LOAD = 0.75
_GROWTH = 1.5
_FIRST = 1 << 16


class FingerprintSet:
    """Visited fingerprints with their parents (see the module docstring)."""

    def __init__(self, capacity: int = _FIRST, log_dir: str | None = None, parents: bool = True,
                 memory: int | None = None):
        self._cap = max(capacity, 8)
        if memory is not None:  # a table of at least 8 slots, within the budget
            self._cap = max(8, min(self._cap, memory // 8))
        self._table = array("q", bytes(8 * self._cap))
        self._n = 0  # fingerprints stored, in the table and on disk
        self._in_table = 0
        self._limit = int(self._cap * _MAX_LOAD)
        # parents=False: a plain set of fingerprints (a parallel worker keeps its
        # parent links per level, by rank: engine/parallel/worker.py)
        self._log = ParentLog(log_dir) if parents else None
        self._memory = memory  # the table's budget in bytes; None: unbounded
        self._dir = log_dir
        # the fingerprints spilled from the table, once it reached its budget
        self.disk: DiskFingerprints | None = None

    def __len__(self) -> int:
        return self._n

    @property
    def spilled(self) -> bool:
        """Whether some fingerprints are on disk (then a miss in the table must also
        miss `disk`)."""
        return self.disk is not None

    def slot(self, h: int) -> int:
        """The slot holding `h` (already `h or 1`), or the empty slot where it would go:
        linear probing from `h % capacity`. The packed search inlines this loop."""
        table, cap = self._table, self._cap
        i = h % cap
        v = table[i]
        while v != h and v != 0:
            i += 1
            if i == cap:
                i = 0
            v = table[i]
        return i

    def __contains__(self, h: int) -> bool:
        h = h or 1
        return self._table[self.slot(h)] != 0 or (self.disk is not None and h in self.disk)

    def add(self, h: int, parent) -> bool:
        """Store `h` found from `parent` unless stored: whether it was new."""
        i = self.slot(h or 1)
        if self._table[i] or (self.disk is not None and (h or 1) in self.disk):
            return False
        self.put(i, h, parent)
        return True

    def __setitem__(self, h: int, parent) -> None:
        """Store `h` found from `parent` (as `add`)."""
        self.add(h, parent)

    @property
    def table(self) -> array:
        """The slots, for a search loop that probes inline (see `put`)."""
        return self._table

    @property
    def capacity(self) -> int:
        return self._cap

    def put(self, i: int, h: int, parent) -> bool:
        """Store `h` in slot `i`, which `slot(h or 1)` (or its inlined copy) found
        empty, and which is not on `disk`. True when the table grew or went to disk:
        then re-read `table`, `capacity` and `spilled`."""
        self._table[i] = h or 1
        self._n += 1
        self._in_table += 1
        if self._log is not None:
            self._log.append(h, parent)
        if self._in_table > self._limit:
            if self._memory is not None and 8 * (int(self._cap * _GROWTH) + 1) > self._memory:
                self._spill()
            else:
                self._grow()
            return True
        return False

    def _spill(self) -> None:
        """Move the table's fingerprints into the sorted file; the table starts again
        empty. The table is sorted a slice at a time (each slice a sorted run on
        disk), so sorting takes little memory beside the table."""
        runs = []
        step = 1 << 20
        table = self._table
        for a in range(0, self._cap, step):
            run = array("q", sorted(filter(None, table[a:a + step])))
            if run:
                f = tempfile.TemporaryFile(prefix="modelcheck-run-", dir=self._dir)
                run.tofile(f)
                runs.append((f, len(run)))
        self._table = table = None  # freed before its successor is allocated
        self._table = array("q", bytes(8 * self._cap))
        self._in_table = 0
        if self.disk is None:
            self.disk = DiskFingerprints(self._dir)
        self.disk.merge(runs)

    def __getitem__(self, h: int):
        """The parent fingerprint of `h`, None for the initial state."""
        return self._log.parent(h)

    def chain(self, h: int) -> list:
        """`h` and its ancestors' fingerprints back to the initial state's."""
        return self._log.chain(h)

    @property
    def table_bytes(self) -> int:
        """The table's bytes in memory (its budget is `memory`)."""
        return 8 * self._cap

    def _grow(self) -> None:
        old = self._table
        cap = int(self._cap * _GROWTH) + 1
        table = array("q", bytes(8 * cap))
        for h in old:
            if h:
                i = h % cap
                while table[i]:
                    i += 1
                    if i == cap:
                        i = 0
                table[i] = h
        self._table, self._cap, self._limit = table, cap, int(cap * _MAX_LOAD)

    def bytes_used(self) -> int:
        """Memory held by the table and the disk file's index (the parent log and the
        spilled fingerprints are on disk)."""
        return 8 * self._cap + (0 if self.disk is None else self.disk.index_bytes())

    def clear(self) -> None:
        self._table = array("q")
        self._cap, self._n, self._in_table, self._limit = 1, 0, 0, 0
        if self._log is not None:
            self._log.close()
        if self.disk is not None:
            self.disk.close()
            self.disk = None


class DiskFingerprints:
    """Fingerprints in one sorted file of 64-bit ints (mapped read-only), with an
    index in memory of every PAGE-th one: `h in disk` is a binary search in the index,
    then in one page of the file. `merge` adds sorted runs: a k-way merge of the runs
    and the file into a new file, written a block at a time."""

    PAGE = 1024
    BLOCK = 1 << 16  # ints read or written at a time while merging

    def __init__(self, log_dir: str | None = None):
        self._dir = log_dir
        self._file = None
        self._map = None
        self._keys = memoryview(b"").cast("q")
        self._index = array("q")
        self.count = 0

    def __len__(self) -> int:
        return self.count

    def __contains__(self, h: int) -> bool:
        j = bisect_right(self._index, h) - 1
        if j < 0:
            return False
        lo = j * self.PAGE
        page = self._keys[lo:lo + self.PAGE]
        i = bisect_left(page, h)
        return i < len(page) and page[i] == h

    def _blocks(self, f, n: int):
        """The n ints of file f from its start, a block at a time."""
        f.seek(0)
        while n > 0:
            block = array("q")
            block.fromfile(f, min(n, self.BLOCK))
            n -= len(block)
            yield from block

    def merge(self, runs: list) -> None:
        """Merge the sorted runs ((file, count) pairs, none sharing a fingerprint with
        this file) into it; the run files are closed."""
        out = tempfile.TemporaryFile(prefix="modelcheck-fingerprints-", dir=self._dir)
        sources = [self._blocks(f, n) for f, n in runs]
        if self._file is not None:
            sources.append(self._blocks(self._file, self.count))
        merged = heapq.merge(*sources)
        total = 0
        while True:
            block = array("q", islice(merged, self.BLOCK))
            if not block:
                break
            block.tofile(out)
            total += len(block)
        out.flush()
        for f, _ in runs:
            f.close()
        self.close()
        if not total:  # nothing at all (an empty file cannot be mapped)
            out.close()
            return
        self._file, self.count = out, total
        self._map = mmap.mmap(out.fileno(), 0, access=mmap.ACCESS_READ)
        self._keys = memoryview(self._map).cast("q")
        self._index = array("q", self._keys[::self.PAGE])

    def index_bytes(self) -> int:
        return 8 * len(self._index)

    def close(self) -> None:
        self._keys.release()
        self._keys = memoryview(b"").cast("q")
        if self._map is not None:
            self._map.close()
            self._map = None
        if self._file is not None:
            self._file.close()
            self._file = None
        self._index, self.count = array("q"), 0


class ParentLog:
    """(fingerprint, parent) records in the order states were found: fingerprints in
    one unnamed temporary file, parents in another at the same offsets (both gone
    when closed or when the process ends), each with a buffer in memory. The first
    record is the initial state's: its parent is None."""

    BUFFER = 1 << 16  # records kept in memory before they are written out

    def __init__(self, log_dir: str | None = None):
        self._dir = log_dir
        self._files = None  # (keys, parents) once something was written
        self._keys, self._parents = array("q"), array("q")
        self._count = 0  # records written to the files
        self._maps = None  # mmaps of both files as of the last search
        self._mapped = -1  # records those mmaps cover

    def append(self, h: int, parent) -> None:
        self._keys.append(h)
        self._parents.append(0 if parent is None else parent)
        if len(self._keys) >= self.BUFFER:
            self._flush()

    def _flush(self) -> None:
        if not self._keys:
            return
        if self._files is None:
            self._files = tuple(tempfile.TemporaryFile(prefix=f"modelcheck-{what}-", dir=self._dir)
                                for what in ("states", "parents"))
        self._keys.tofile(self._files[0])
        self._parents.tofile(self._files[1])
        self._count += len(self._keys)
        self._keys, self._parents = array("q"), array("q")

    def _records(self) -> tuple:
        """(fingerprints, parents): the whole log as two buffers (mmaps of the files)."""
        self._flush()
        if self._files is None:
            return b"", b""
        if self._mapped != self._count:
            self.unmap()
            for f in self._files:
                f.flush()
            self._maps = tuple(mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) for f in self._files)
            self._mapped = self._count
        return self._maps

    def parent(self, h: int):
        """The parent stored with `h` (None for the first record); KeyError if `h` was
        never stored."""
        keys, parents = self._records()
        pos = self._find(keys, h, len(keys))
        return None if pos == 0 else _KEY.unpack_from(parents, pos)[0]

    def chain(self, h: int) -> list:
        """`h`, its parent, its parent's parent... up to the first record's key. Each
        parent was found before its child, so each search starts at the child's
        record: the whole chain costs about one backward pass over the log."""
        keys, parents = self._records()
        out = [h]
        pos = self._find(keys, h, len(keys))
        while pos != 0:
            h = _KEY.unpack_from(parents, pos)[0]
            out.append(h)
            pos = self._find(keys, h, pos)
        return out

    @staticmethod
    def _find(data, h: int, end: int) -> int:
        """The offset of the last record keyed `h` that starts before `end`."""
        key = _KEY.pack(h)
        while True:
            pos = data.rfind(key, 0, end)
            if pos < 0:
                raise KeyError(h)
            if pos % 8 == 0:  # a whole fingerprint, not one straddling two
                return pos
            end = pos + 7  # matches that start before this one

    def unmap(self) -> None:
        if self._maps is not None:
            for m in self._maps:
                m.close()
            self._maps, self._mapped = None, -1

    def close(self) -> None:
        self.unmap()
        if self._files is not None:
            for f in self._files:
                f.close()
            self._files = None
        self._keys, self._parents, self._count = array("q"), array("q"), 0


def disk_dir() -> str | None:
    """Where fingerprint mode writes its parent log and spilled frontier:
    $MODELCHECK_TMPDIR, else the system's temporary directory."""
    return os.environ.get("MODELCHECK_TMPDIR") or None


# The share of --memory-limit the in-memory fingerprint table may take by default.
# Spilling sorts the table a slice at a time, so the process needs little beside it;
# the rest of the limit is for the levels, the memo tables and the interpreter.
TABLE_SHARE = 4


def fingerprint_budget(options) -> int | None:
    """The in-memory fingerprint table's budget in bytes for a search's Options:
    `fingerprint_memory` if set, else a quarter of `memory_limit`, else None (the
    table grows without bound, as it did before the disk tier existed)."""
    if options.fingerprint_memory is not None:
        return options.fingerprint_memory
    if options.memory_limit is not None:
        return options.memory_limit // TABLE_SHARE
    return None
