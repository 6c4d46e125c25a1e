"""A BFS level that moves its states to disk once it is large (fingerprint mode).

Why: with `--fingerprints` the visited set costs at most 16 bytes a state
(engine/visited.py), but the states waiting in the next level are whole packed
tuples, about 100-200 bytes each, and on a wide model one level holds a large share
of all states. Past `spill_at` states in memory a level writes them, in order, to an
unnamed temporary file with `marshal` (packed states are tuples of ints and bytes),
and reads them back one chunk at a time when the level is expanded. Exact mode
never spills: there the level's states are the visited set's own keys, so a level
costs only its list.

The interface is the list's that the search uses: `append`, `len`, truth, iteration
(in append order, repeatable), and `consume()` (iteration that frees each chunk as it
goes). `sample(step)` gives states evenly spaced over the level for
`growth.Recent` without reading the file again."""
from __future__ import annotations

import marshal
import tempfile

SPILL_AT = 1 << 20  # states held in memory before a level starts writing to disk
CHUNK = 1 << 14  # states per marshalled block on disk
SAMPLE_KEEP = 1024  # states kept aside for sample(): more than growth.SAMPLE


class SpillingLevel:
    def __init__(self, spill_at: int | None = None, log_dir: str | None = None):
        self._spill_at = SPILL_AT if spill_at is None else spill_at
        self._dir = log_dir
        self._head: list = []  # the newest states, in memory
        self._file = None
        self._spilled = 0  # states on disk
        self._samples: list = []  # states at positions 0, every, 2*every... of the spilled part
        self._every = 1

    def append(self, s) -> None:
        head = self._head
        head.append(s)
        if len(head) >= self._spill_at:
            self._spill()

    def __len__(self) -> int:
        return self._spilled + len(self._head)

    def __bool__(self) -> bool:
        return bool(self._head) or self._spilled > 0

    @property
    def spilled(self) -> int:
        """States written to disk so far."""
        return self._spilled

    def _spill(self) -> None:
        head = self._head
        if self._file is None:
            self._file = tempfile.TemporaryFile(prefix="modelcheck-level-", dir=self._dir)
        self._keep_samples(head)
        chunk = max(CHUNK, 1)
        for i in range(0, len(head), chunk):
            marshal.dump(head[i:i + chunk], self._file)
        self._spilled += len(head)
        self._head = []

    def _keep_samples(self, block: list) -> None:
        first = (-self._spilled) % self._every  # the first position in `block` that is a multiple
        self._samples.extend(block[first::self._every])
        while len(self._samples) > SAMPLE_KEEP:
            self._samples = self._samples[::2]
            self._every *= 2

    def sample(self, step: int) -> list:
        """About len(self) // step states, evenly spaced (at least every `step`-th)."""
        if not self._spilled:
            return self._head[::step]
        first = (-self._spilled) % self._every
        out = self._samples + self._head[first::self._every]
        wanted = max(1, len(self) // max(step, 1))
        return out[::max(1, len(out) // wanted)]

    def _blocks(self, free: bool):
        if self._file is not None:
            f = self._file
            f.flush()
            f.seek(0)
            left = self._spilled
            while left > 0:
                block = marshal.load(f)
                left -= len(block)
                yield block
            if free:
                f.close()
                self._file = None
            else:
                f.seek(0, 2)  # appends go on at the end
        yield self._head

    def __iter__(self):
        for block in self._blocks(free=False):
            yield from block

    def consume(self):
        """The states in order, each dropped once taken (the level is empty after)."""
        for block in self._blocks(free=True):
            for i in range(len(block)):
                s = block[i]
                block[i] = None
                yield s
        self._head, self._spilled, self._samples, self._every = [], 0, [], 1

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
        self._head, self._spilled = [], 0
