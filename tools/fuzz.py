#!/usr/bin/env python3
"""A permanent fuzz harness for the `modelcheck` command line (grammar-independent).

    python tools/fuzz.py --inputs 100000 --seed 1 --workers 2 --out bench/out/fuzz

Input kinds (input i is a pure function of (--seed, i), so every finding can be
regenerated with `--index i`):

  spec-mutation  token-level mutations of specs/*.ha (delete / duplicate / swap /
                 replace / insert tokens from a vocabulary harvested from the specs,
                 truncation, deep nesting, huge and unicode integers, BOM and other
                 encoding damage, identifiers that are keywords or Python builtins),
                 run through verify / check / simulate / graph / matrix -j 1 / prove
                 --k 2 with small bounds;
  random-bytes   random bytes as the spec;
  random-text    random printable text (or a soup of spec tokens) as the spec;
  cli            fuzzed command lines (weird --const values, bounds, formats,
                 invariant / property / scenario names, odd spec paths, bad options);
  replay         tampered JSON traces (from `verify --trace-out`) for `replay`.

Oracle, for every input: exit code in {0, 1, 2, 3}; no "internal error" and no
"Traceback" in the output; the run ends within --hang-seconds (each run gets its
own small --timeout / --max-states so the bound is meaningful).

Inputs run in-process through the real entry point `modelcheck.cli.main()` (sys.argv
set, SystemExit = exit code; for exit 70 the escaped exception is the SystemExit's
__context__, which gives the traceback), in one worker process per core. A CPU-time timer
(setitimer ITIMER_PROF, so a busy machine does not fake hangs) raises `Hang` (a BaseException, so no `except Exception` in modelcheck swallows
it); a watchdog in the parent kills a worker stuck in C code, and a worker that
dies (segfault, OOM) is reported as a crash and respawned.

Findings are grouped by (category, exit code, exception type, innermost
modelcheck frame); per group the smallest reproducer is kept in
OUT/findings/<group>/ (spec.ha, trace.json, cmd.sh, output.txt, meta.json),
and with --minimize (default) a shrunk one in OUT/findings/<group>/min/.
"""
from __future__ import annotations

import argparse
import contextlib
import hashlib
import io
import json
import os
import random
import re
import shlex
import shutil
import signal
import string
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from dataclasses import asdict, dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SPECS_DIR = ROOT / "specs"
OK_CODES = frozenset({0, 1, 2, 3})
KINDS = ("spec-mutation", "random-bytes", "random-text", "cli", "replay")
KIND_WEIGHTS = (46, 4, 5, 30, 15)
COMMANDS = ("verify", "check", "simulate", "graph", "matrix", "prove")
SPEC_PH, TRACE_PH, TMP_PH = "@SPEC@", "@TRACE@", "@TMP@"
TRACEBACK_MARK = "Traceback (most recent call last)"


# ---------------------------------------------------------------------------
# corpus and vocabulary (harvested from specs/*.ha with a plain regex, not the grammar)
# ---------------------------------------------------------------------------

TOKEN_RE = re.compile(r'#[^\n]*|"(?:[^"\\\n]|\\.)*"|\s+|\d+|[^\W\d]\w*|\.\.|==|!=|<=|>=|=>|->|\+=|-=|\|=|&=|\|\||&&|.',
                      re.S)
IDENT_RE = re.compile(r"[^\W\d]\w*\Z")
INT_RE = re.compile(r"\d+\Z")

PY_WORDS = ("None", "True", "False", "and", "as", "assert", "async", "await", "break", "class", "continue", "def",
            "del", "elif", "else", "except", "finally", "for", "from", "global", "if", "import", "in", "is",
            "lambda", "nonlocal", "not", "or", "pass", "raise", "return", "try", "while", "with", "yield", "match",
            "case", "print", "len", "id", "type", "object", "int", "str", "list", "dict", "set", "frozenset",
            "tuple", "range", "min", "max", "sum", "any", "all", "eval", "exec", "open", "super", "self", "cls",
            "__class__", "__init__", "__dict__", "__builtins__", "__name__", "_", "__", "s", "st", "state", "model",
            "result", "msg", "net", "node", "nodes", "i", "n", "k", "v", "x", "env", "ctx", "frame", "key",
            "hash", "iter", "next", "bool", "float", "bytes", "format", "sorted", "reversed", "enumerate", "zip",
            "map", "filter", "abs", "round", "divmod", "pow", "math", "sys", "os")
ODD_IDENTS = ("é", "ℕ", "ｘ", "x\u0301", "𝔸", "Ω", "ß", "İ", "ﬁ", "a" * 300, "A" * 5000, "_0", "Server_0", "x1",
              "Λλ", "\u00aa", "ǅ", "ⅰ")
HUGE_INTS = ("9" * 19, "9" * 20, str(2 ** 31), str(2 ** 32), str(2 ** 63 - 1), str(2 ** 63), str(2 ** 64),
             "9" * 40, "1" + "0" * 400, "1" * 4300, "1" * 4301, "7" * 20000, "0" * 60 + "1", "00", "007",
             "1000000", "100000000", "65536", "255", "256", "1023", "1024")
SMALL_INTS = ("0", "1", "2", "3", "4", "5", "7", "10", "16", "64")
UNICODE_DIGITS = ("١٢", "٣", "３", "²", "߁", "໑", "𝟙", "१", "Ⅻ", "½", "¹⁰", "٠", "᠑", "𝟘𝟘", "౩")
ODD_CHARS = ("\ufeff", "\x00", "\u200b", "\u202e", "\u2028", "\u00a0", "\x0c", "\x0b", "\t", "\r", "\r\n", "\x1b[31m",
             "\ud800", "\uffff", "\U0010ffff", "\\", "\"", "'", "`", "$", "@", "~", "^", "\u0301", "…", "—", "≤", "≠",
             "→", "∧", "¬")
NEST_PREFIXES = ("not ", "(", "-", "!", "[", "{", "if true then ", "not (", "((", "- -", "eventually ", "always ",
                 "exists x in Server: ", "some(")
NEST_SIZES = (30, 100, 300, 1000, 3000, 10000, 50000)


def _tokens(text: str) -> list[str]:
    return TOKEN_RE.findall(text)


def _significant(tok: str) -> bool:
    return not tok.isspace() and not tok.startswith("#")


@dataclass
class Corpus:
    specs: dict[str, str]
    vocab: list[str]
    idents: list[str]
    consts: dict[str, list[str]]
    invariants: dict[str, list[str]]
    properties: dict[str, list[str]]
    scenarios: dict[str, list[str]]
    lines: list[str]


def load_corpus(spec_dir: Path = SPECS_DIR) -> Corpus:
    specs = {p.name: p.read_text(encoding="utf-8") for p in sorted(spec_dir.glob("*.ha"))}
    vocab, idents, lines = set(), set(), []
    consts, invs, props, scens = {}, {}, {}, {}
    for name, text in specs.items():
        toks = [t for t in _tokens(text) if _significant(t)]
        vocab.update(toks)
        idents.update(t for t in toks if IDENT_RE.match(t))
        lines.extend(ln for ln in text.splitlines() if ln.strip() and not ln.lstrip().startswith("#"))
        consts[name] = re.findall(r"^\s*const\s+(\w+)", text, re.M)
        invs[name] = re.findall(r"^\s*invariant\s+(\w+)", text, re.M)
        props[name] = re.findall(r"^\s*property\s+(\w+)", text, re.M)
        scens[name] = re.findall(r"^\s*scenario\s+(\w+)", text, re.M)
    return Corpus(specs, sorted(vocab), sorted(idents), consts, invs, props, scens, lines)


# ---------------------------------------------------------------------------
# inputs
# ---------------------------------------------------------------------------

@dataclass
class FuzzInput:
    index: int
    kind: str
    command: str
    argv: list[str]                 # placeholders @SPEC@ @TRACE@ @TMP@
    spec: bytes | None = None       # written to @SPEC@ (None: @SPEC@ does not occur, or a literal path is used)
    trace: bytes | None = None      # written to @TRACE@
    note: str = ""                  # what the generator did

    def size(self) -> int:
        return len(self.spec or b"") + len(self.trace or b"") + sum(len(a) for a in self.argv)


def _geom(rng: random.Random, p: float = 0.5, cap: int = 6) -> int:
    n = 1
    while n < cap and rng.random() < p:
        n += 1
    return n


class Generator:
    """Input i = Generator(seed, corpus, base_traces).make(i): deterministic."""

    def __init__(self, seed: int, corpus: Corpus, base_traces: dict[str, dict], kinds=KINDS):
        self.seed = seed
        self.corpus = corpus
        self.traces = base_traces
        kinds = [k for k in kinds if k != "replay" or base_traces]
        self.kinds = kinds
        self.weights = [KIND_WEIGHTS[KINDS.index(k)] for k in kinds]
        self.spec_names = list(corpus.specs)

    def rng(self, index: int) -> random.Random:
        return random.Random(f"modelcheck-fuzz:{self.seed}:{index}")

    def make(self, index: int) -> FuzzInput:
        rng = self.rng(index)
        kind = rng.choices(self.kinds, self.weights)[0]
        return getattr(self, "_" + kind.replace("-", "_"))(rng, index)

    # ---- spec mutations ----------------------------------------------------------------

    def mutate_text(self, rng: random.Random, text: str, n_ops: int) -> tuple[str | bytes, list[str]]:
        notes = []
        toks = _tokens(text)
        raw_ops = []
        for _ in range(n_ops):
            op = rng.choices(
                ["delete", "delete_span", "duplicate", "swap", "replace_vocab", "replace_same", "insert_vocab",
                 "int_small", "int_huge", "int_unicode", "ident_keyword", "ident_odd", "nest", "truncate",
                 "line_delete", "line_duplicate", "line_swap", "line_splice", "odd_char", "encoding"],
                [6, 3, 4, 4, 6, 10, 5, 16, 4, 3, 9, 3, 4, 3, 6, 5, 3, 6, 3, 3])[0]
            sig = [i for i, t in enumerate(toks) if _significant(t)]
            if op in ("truncate", "encoding"):
                raw_ops.append(op)
                continue
            if not sig:
                toks.append(rng.choice(self.corpus.vocab))
                notes.append("append")
                continue
            i = rng.choice(sig)
            if op == "delete":
                toks[i] = ""
            elif op == "delete_span":
                j = min(len(toks), i + rng.randint(2, 40))
                del toks[i:j]
            elif op == "duplicate":
                j = min(len(toks), i + rng.choice([1, 1, 2, 5, 20]))
                toks[i:i] = toks[i:j]
            elif op == "swap":
                k = rng.choice(sig)
                toks[i], toks[k] = toks[k], toks[i]
            elif op == "replace_vocab":
                toks[i] = rng.choice(self.corpus.vocab)
            elif op == "replace_same":
                same = [toks[k] for k in sig if IDENT_RE.match(toks[k])] if IDENT_RE.match(toks[i]) else \
                       [toks[k] for k in sig]
                toks[i] = rng.choice(same or self.corpus.vocab)
            elif op == "insert_vocab":
                toks[i:i] = [rng.choice(self.corpus.vocab), " "]
            elif op in ("int_small", "int_huge", "int_unicode"):
                ints = [k for k in sig if INT_RE.match(toks[k])]
                k = rng.choice(ints) if ints else i
                pool = {"int_small": SMALL_INTS, "int_huge": HUGE_INTS, "int_unicode": UNICODE_DIGITS}[op]
                val = rng.choice(pool)
                if op == "int_small" and rng.random() < 0.15:
                    val = "-" + val
                toks[k] = val
            elif op in ("ident_keyword", "ident_odd"):
                ids = [k for k in sig if IDENT_RE.match(toks[k])]
                k = rng.choice(ids) if ids else i
                pool = (PY_WORDS + tuple(self.corpus.idents)) if op == "ident_keyword" else ODD_IDENTS
                new = rng.choice(pool)
                if rng.random() < 0.5:  # rename every occurrence: keeps the spec consistent, reaches codegen
                    old = toks[k]
                    toks = [new if t == old else t for t in toks]
                else:
                    toks[k] = new
            elif op == "nest":
                prefix = rng.choice(NEST_PREFIXES)
                n = rng.choice(NEST_SIZES)
                closer = {"(": ")", "[": "]", "{": "}", "not (": ")", "((": "))", "some(": ")"}.get(prefix)
                toks[i] = prefix * n + toks[i] + (closer * n if closer and rng.random() < 0.7 else "")
                op = f"nest({prefix!r}*{n})"
            elif op.startswith("line_"):
                lines = "".join(toks).split("\n")
                a = rng.randrange(len(lines))
                if op == "line_delete":
                    del lines[a:a + rng.choice([1, 1, 2, 4])]
                elif op == "line_duplicate":
                    lines.insert(a, lines[a])
                elif op == "line_swap":
                    b = rng.randrange(len(lines))
                    lines[a], lines[b] = lines[b], lines[a]
                else:
                    lines.insert(a, rng.choice(self.corpus.lines))
                toks = _tokens("\n".join(lines))
            elif op == "odd_char":
                toks[i:i] = [rng.choice(ODD_CHARS)]
            notes.append(op)
        text = "".join(toks)
        data: str | bytes = text
        for op in raw_ops:
            if op == "truncate":
                cut = rng.randrange(len(text) + 1) if text else 0
                text = text[:cut]
                data = text
                notes.append(f"truncate@{cut}")
            else:
                b = text.encode("utf-8", "surrogatepass")
                how = rng.choice(["bom", "bom_mid", "nul", "latin1", "invalid", "crlf", "cr", "surrogate",
                                  "utf16", "double_bom"])
                if how == "bom":
                    b = b"\xef\xbb\xbf" + b
                elif how == "double_bom":
                    b = b"\xef\xbb\xbf\xef\xbb\xbf" + b
                elif how == "bom_mid":
                    p = rng.randrange(len(b) + 1)
                    b = b[:p] + b"\xef\xbb\xbf" + b[p:]
                elif how == "nul":
                    p = rng.randrange(len(b) + 1)
                    b = b[:p] + b"\x00" + b[p:]
                elif how == "latin1":
                    b = text.replace("#", "é#", 1).encode("latin-1", "replace")
                elif how == "invalid":
                    p = rng.randrange(len(b) + 1)
                    b = b[:p] + rng.choice([b"\xff", b"\xc3", b"\x80", b"\xfe\xff", b"\xf4\x90\x80\x80"]) + b[p:]
                elif how == "crlf":
                    b = b.replace(b"\n", b"\r\n")
                elif how == "cr":
                    b = b.replace(b"\n", b"\r")
                elif how == "surrogate":
                    p = rng.randrange(len(b) + 1)
                    b = b[:p] + b"\xed\xa0\x80" + b[p:]
                else:
                    b = text.encode("utf-16")
                data = b
                text = b.decode("utf-8", "replace")
                notes.append("encoding:" + how)
        return data, notes

    def _spec_args(self, rng: random.Random, command: str) -> list[str]:
        """A command line for a (mutated) spec: always with small bounds."""
        if command == "verify":
            argv = ["verify", SPEC_PH, "--max-states", str(rng.choice([50, 200, 500, 2000])), "--timeout", "2"]
            for opt, p in (("--no-symmetry", 0.2), ("--fingerprints", 0.15), ("--prune", 0.15), ("--no-faults", 0.15),
                           ("-q", 0.3)):
                if rng.random() < p:
                    argv.append(opt)
            if rng.random() < 0.2:
                argv += ["--format", rng.choice(["json", "mermaid", "text"])]
            if rng.random() < 0.15:
                argv += ["--max-depth", str(rng.choice([0, 1, 3, 10]))]
            if rng.random() < 0.1:
                argv += ["--trace-out", TMP_PH + "/t.json"]
            if rng.random() < 0.05:
                argv += ["--html", TMP_PH + "/r.html"]
            return argv
        if command == "check":
            return ["check", SPEC_PH] + (["--strict"] if rng.random() < 0.3 else [])
        if command == "simulate":
            argv = ["simulate", SPEC_PH, "--runs", "20", "--depth", "20", "--timeout", "2",
                    "--seed", str(rng.randrange(100))]
            if rng.random() < 0.2:
                argv += ["--format", "json"]
            if rng.random() < 0.2:
                argv.append("--no-swarm")
            return argv
        if command == "graph":
            return ["graph", SPEC_PH, "--max-states", str(rng.choice([50, 300]))] + \
                (["--format", "mermaid"] if rng.random() < 0.3 else [])
        if command == "matrix":
            return ["matrix", SPEC_PH, "-j", "1", "--max-states", "300", "--timeout", "1", "-q"] + \
                (["--format", rng.choice(["json", "markdown"])] if rng.random() < 0.3 else [])
        return ["prove", SPEC_PH, "--k", "2", "--timeout", "2"] + (["--format", "json"] if rng.random() < 0.2 else [])

    def _pick_command(self, rng: random.Random) -> str:
        return rng.choices(COMMANDS, [55, 15, 12, 7, 6, 5])[0]

    def _spec_mutation(self, rng, index):
        name = rng.choice(self.spec_names)
        data, notes = self.mutate_text(rng, self.corpus.specs[name], _geom(rng, 0.3))
        command = self._pick_command(rng)
        spec = data if isinstance(data, bytes) else data.encode("utf-8", "surrogatepass")
        return FuzzInput(index, "spec-mutation", command, self._spec_args(rng, command), spec,
                         note=f"{name}: {', '.join(notes)}")

    def _random_bytes(self, rng, index):
        n = rng.choice([0, 1, 2, 8, 64, 512, 4096])
        data = bytes(rng.getrandbits(8) for _ in range(n))
        command = rng.choice(["verify", "check", "simulate"])
        return FuzzInput(index, "random-bytes", command, self._spec_args(rng, command), data, note=f"{n} bytes")

    def _random_text(self, rng, index):
        how = rng.choice(["printable", "soup", "soup_lines"])
        n = rng.choice([1, 10, 80, 400, 2000])
        if how == "printable":
            text = "".join(rng.choice(string.printable) for _ in range(n))
        elif how == "soup":
            text = " ".join(rng.choice(self.corpus.vocab) for _ in range(n // 4 + 1))
        else:
            text = "\n".join(rng.choice(self.corpus.lines) for _ in range(n // 40 + 1))
        command = rng.choice(["verify", "check", "simulate", "graph"])
        return FuzzInput(index, "random-text", command, self._spec_args(rng, command),
                         text.encode("utf-8"), note=f"{how} {n}")

    # ---- command lines -----------------------------------------------------------------

    def _const_value(self, rng) -> str:
        if rng.random() > _P_WEIRD[0] * 2:
            return rng.choice(["0", "1", "2", "3", "4", "5"])
        return rng.choice(["0", "1", "2", "3", "-1", "-0", "+2", " 2 ", "4", "5", "8", "20", "100", "1000",
                           "1000000", "9" * 19, str(2 ** 63), "9" * 400, "1" * 5000, "1e3", "2.0", "0x10",
                           "1_000", "", "abc", "=", "٣", "３", "²", "nan", "inf", "None", "true", "'2'"])

    def _const(self, rng, name: str) -> str:
        names = self.corpus.consts.get(name) or []
        cname = rng.choice(names) if names and rng.random() > _P_WEIRD[0] else \
            rng.choice(["N", "X", "", " ", "n", "SILENCE", "Server", "self", "None", "é", "A" * 200])
        shape = rng.random()
        if shape > _P_WEIRD[0] * 0.5:
            return f"{cname}={self._const_value(rng)}"
        return rng.choice([cname, f"={self._const_value(rng)}", f"{cname}=={self._const_value(rng)}",
                           f"{cname}={self._const_value(rng)}={self._const_value(rng)}", "", "="])

    def _name(self, rng, pool: list[str]) -> str:
        if pool and rng.random() > _P_WEIRD[0]:
            return rng.choice(pool)
        return rng.choice(["", "x", "no-faults", "faults", "nope", "ALL", "*", "-", "--", "é", "a" * 300,
                           "atomicity ", "None", "0"] + self.corpus.idents[:20])

    def _cli(self, rng, index):
        name = rng.choice(self.spec_names)
        spec_text = self.corpus.specs[name]
        note = [name]
        if rng.random() < 0.25:  # a small semantic tweak keeps it valid-ish
            data, notes = self.mutate_text(rng, spec_text, 1)
            spec = data if isinstance(data, bytes) else data.encode("utf-8", "surrogatepass")
            note += notes
        else:
            spec = spec_text.encode("utf-8")
        command = rng.choices(COMMANDS + ("replay", "other"), [40, 12, 14, 8, 8, 8, 3, 7])[0]
        _P_WEIRD[0] = rng.choice([0.0, 0.0, 0.05, 0.15, 0.4])
        consts = [a for _ in range(rng.choice([0, 0, 1, 1, 2, 3])) for a in ("--const", self._const(rng, name))]
        invs, props, scens = (self.corpus.invariants.get(name, []), self.corpus.properties.get(name, []),
                              self.corpus.scenarios.get(name, []))
        weird_int = ["0", "-1", "1", "abc", "1e3", "", "2.5", "9" * 30, " 5"]
        weird_float = ["0", "-1", "0.001", "1e-300", "nan", "inf", "-inf", "abc", "", "1e308", "0.5", "1"]
        if command == "verify":
            argv = ["verify", SPEC_PH] + consts
            ms = _pick(rng, ["50", "500", "2000"], weird_int) if rng.random() < 0.9 else None
            to = _pick(rng, ["1", "2"], weird_float) if rng.random() < 0.8 else None
            if ms is not None:
                argv += ["--max-states", ms]
            if to is not None:
                argv += ["--timeout", to]
            if not _sane_int(ms, 5000) and not _sane_float(to, 3):
                argv += ["--max-states", "2000"]
            if rng.random() < 0.3:
                argv += ["--max-depth", _pick(rng, ["0", "1", "2", "5", "100000"], ["-1", "x"])]
            for _ in range(rng.choice([0, 0, 1, 2])):
                argv += ["--invariant", self._name(rng, invs)]
            for _ in range(rng.choice([0, 0, 0, 1])):
                argv += ["--property", self._name(rng, props)]
            if rng.random() < 0.25:
                argv += ["--scenario", self._name(rng, scens)]
            for opt, p in (("--no-symmetry", 0.3), ("--symmetry", 0.05), ("--fingerprints", 0.3), ("--prune", 0.3),
                           ("--no-prune", 0.05), ("--no-faults", 0.2), ("-q", 0.3)):
                if rng.random() < p:
                    argv.append(opt)
            if rng.random() < 0.4:
                argv += ["--format", _pick(rng, ["json", "mermaid", "text"], ["JSON", "dot", ""])]
            if rng.random() < 0.15:
                argv += ["--trace-out", _pick(rng, [TMP_PH + "/t.json", "/dev/null"], [TMP_PH, "/nonexistent/dir/t.json",
                                                                                   "/dev/full", ""])]
            if rng.random() < 0.08:
                argv += ["--html", _pick(rng, [TMP_PH + "/r.html"], ["/nonexistent/r.html", TMP_PH, "/dev/full"])]
        elif command == "check":
            argv = ["check", SPEC_PH] + consts + (["--strict"] if rng.random() < 0.4 else [])
        elif command == "simulate":
            argv = ["simulate", SPEC_PH] + consts
            runs = _pick(rng, ["1", "20"], ["0", "-1", "x", "100000"])
            depth = _pick(rng, ["1", "20"], ["0", "-3", "x", "100000"])
            to = _pick(rng, ["2", "1"], weird_float)
            argv += ["--runs", runs, "--depth", depth, "--timeout", to]
            if not _sane_float(to, 3) and not (_sane_int(runs, 100) and _sane_int(depth, 100)):
                argv += ["--runs", "20", "--depth", "20"]
            if rng.random() < 0.5:
                argv += ["--seed", _pick(rng, ["0", "1", "-1", "9" * 50, str(2 ** 64)], ["x", "1.5"])]
            for opt, p in (("--no-swarm", 0.3), ("--no-faults", 0.2), ("-q", 0.3)):
                if rng.random() < p:
                    argv.append(opt)
            if rng.random() < 0.25:
                argv += ["--scenario", self._name(rng, scens)]
            if rng.random() < 0.3:
                argv += ["--format", _pick(rng, ["json", "text"], ["mermaid"])]
            if rng.random() < 0.1:
                argv += ["--trace-out", _pick(rng, [TMP_PH + "/s.json"], ["/nonexistent/s.json", "/dev/full"])]
        elif command == "graph":
            argv = ["graph", SPEC_PH] + consts + ["--max-states", _pick(rng, ["1", "10", "300"], ["0", "-1", "x"])]
            if rng.random() < 0.4:
                argv += ["--format", _pick(rng, ["dot", "mermaid"], ["json"])]
            if rng.random() < 0.2:
                argv.append("--no-faults")
            if rng.random() < 0.25:
                argv += ["--scenario", self._name(rng, scens)]
        elif command == "matrix":
            argv = ["matrix", SPEC_PH, "-j", _pick(rng, ["1"], ["0", "-1", "x"]), "-q"] + consts
            argv += ["--max-states", _pick(rng, ["1", "50", "300"], ["0", "x"]), "--timeout",
                     _pick(rng, ["1", "0.5", "0.01"], ["0", "-1", "x"])]
            if rng.random() < 0.3:
                argv += ["--max-depth", _pick(rng, ["0", "1", "3"], ["-1"])]
            for _ in range(rng.choice([0, 0, 1, 2])):
                argv += ["--scenario", self._name(rng, scens + ["no-faults", "faults"])]
            if rng.random() < 0.3:
                argv += ["--format", _pick(rng, ["json", "markdown", "text"], ["mermaid"])]
            if rng.random() < 0.3:
                argv.append("--fail-on-violation")
        elif command == "prove":
            argv = ["prove", SPEC_PH, "--k", _pick(rng, ["1", "2"], ["0", "51", "-1", "x"]), "--timeout",
                    _pick(rng, ["2", "1", "0.1"], ["0", "x"])] + consts
            for _ in range(rng.choice([0, 0, 1])):
                argv += ["--invariant", self._name(rng, invs)]
            for opt, p in (("--no-faults", 0.2), ("--no-infer", 0.3)):
                if rng.random() < p:
                    argv.append(opt)
            if rng.random() < 0.25:
                argv += ["--scenario", self._name(rng, scens)]
            if rng.random() < 0.3:
                argv += ["--format", rng.choice(["json", "text"])]
            if rng.random() < 0.1:
                argv += ["--trace-out", _pick(rng, [TMP_PH + "/p.json"], ["/nonexistent/p.json"])]
        elif command == "replay":
            argv = ["replay", SPEC_PH, rng.choice(["/nonexistent.json", SPEC_PH, TMP_PH, "/dev/null", ""])] + consts
        else:
            argv = rng.choice([[], ["--help"], ["--version"], ["bogus", SPEC_PH], ["verify"], ["verify", "--help"],
                               ["verify", SPEC_PH, SPEC_PH], ["verify", SPEC_PH, "--bogus"], ["-x"],
                               ["verify", "--max-states", "5", "--timeout", "1", SPEC_PH, "--", "-q"],
                               ["check", "--", SPEC_PH], ["VERIFY", SPEC_PH], ["verify", "--const"],
                               ["prove", SPEC_PH, "--k"], ["matrix", "--help"], ["replay", SPEC_PH]])
            command = argv[0] if argv else "(none)"
        if SPEC_PH in argv and rng.random() < 0.05:  # an odd spec path instead of the file
            odd = rng.choice(["/nonexistent/dir/x.ha", TMP_PH, "/dev/null", "", "-", "specs", "/",
                              "x" * 5000 + ".ha", "/proc/self/status", "spec\nname.ha"])
            argv = [odd if a == SPEC_PH else a for a in argv]
            note.append(f"spec path {odd[:40]!r}")
            spec = None
        return FuzzInput(index, "cli", command, argv, spec if SPEC_PH in argv else None, note=", ".join(note))

    # ---- tampered traces ---------------------------------------------------------------

    def _weird_value(self, rng, doc_strings: list[str]):
        return rng.choice([None, True, False, 0, 1, -1, 2, 10 ** 30, -(10 ** 400), 1.5, float("nan"), float("inf"),
                           "", "x", "0", "null", [], {}, [None], {"": None}, [[[]]], "é" * 3, "\x00",
                           rng.choice(doc_strings) if doc_strings else "Server[0]",
                           rng.choice(doc_strings) if doc_strings else "Server[1]",
                           "Server[99]", "Server[-1]", "Server[", "$DEEP$"])

    def tamper_trace(self, rng, doc: dict, n_ops: int) -> tuple[bytes, list[str]]:
        doc = json.loads(json.dumps(doc))
        notes = []
        strings: list[str] = []

        def walk(node, path):
            out = [(node, path)]
            if isinstance(node, dict):
                for k, v in node.items():
                    if isinstance(k, str):
                        strings.append(k)
                    out += walk(v, path + [k])
            elif isinstance(node, list):
                for i, v in enumerate(node):
                    out += walk(v, path + [i])
            elif isinstance(node, str):
                strings.append(node)
            return out

        raw = None
        for _ in range(n_ops):
            strings.clear()
            nodes = walk(doc, [])
            node, path = rng.choice(nodes[1:] or nodes)
            parent = doc
            for p in path[:-1]:
                parent = parent[p]
            key = path[-1] if path else None
            op = rng.choice(["delete", "replace", "replace", "retype", "dup", "swap", "steal", "rename", "clear",
                             "add_key", "raw"])
            notes.append(f"{op}:{'.'.join(map(str, path))[:60]}")
            if key is None or op == "raw":
                raw = rng.choice(["truncate", "deep", "nonutf8", "bom", "empty", "notjson", "huge", "nan",
                                  "dupkeys", "toplevel"])
                notes[-1] = "raw:" + raw
                continue
            if op == "delete":
                del parent[key]
            elif op == "replace":
                parent[key] = self._weird_value(rng, strings)
            elif op == "retype":
                v = parent[key]
                parent[key] = (str(v) if isinstance(v, (int, float, bool)) else
                               (int(v) if isinstance(v, str) and v.isdigit() else
                                (list(v.values()) if isinstance(v, dict) else
                                 ({str(i): x for i, x in enumerate(v)} if isinstance(v, list) else 0))))
            elif op == "dup" and isinstance(node, list) and node:
                i = rng.randrange(len(node))
                node.insert(i, json.loads(json.dumps(node[i])))
            elif op == "swap" and isinstance(node, list) and len(node) > 1:
                i, j = rng.randrange(len(node)), rng.randrange(len(node))
                node[i], node[j] = node[j], node[i]
            elif op == "steal":
                other, _ = rng.choice(nodes)
                parent[key] = json.loads(json.dumps(other)) if other is not doc else {}
            elif op == "rename" and isinstance(parent, dict):
                parent[str(key) + rng.choice(["_", "X", " "])] = parent.pop(key)
            elif op == "clear" and isinstance(node, (list, dict)):
                node.clear()
            elif op == "add_key" and isinstance(node, dict):
                node[rng.choice(strings or ["x"])] = self._weird_value(rng, strings)
            else:
                parent[key] = self._weird_value(rng, strings)
        text = json.dumps(doc, indent=rng.choice([None, 2]))
        if "$DEEP$" in text:
            n = rng.choice([50, 1000, 100000])
            text = text.replace('"$DEEP$"', "[" * n + "]" * n)
        data = text.encode("utf-8", "surrogatepass")
        if raw == "truncate":
            data = data[:rng.randrange(len(data) + 1)]
        elif raw == "deep":
            n = rng.choice([1000, 100000, 1000000])
            data = data.replace(b'"steps"', b'"steps": ' + b"[" * n + b"]" * n + b', "x"', 1)
        elif raw == "nonutf8":
            p = rng.randrange(len(data) + 1)
            data = data[:p] + b"\xff\xfe" + data[p:]
        elif raw == "bom":
            data = b"\xef\xbb\xbf" + data
        elif raw == "empty":
            data = b""
        elif raw == "notjson":
            data = rng.choice([b"[]", b"null", b"1", b'"x"', b"{", b"NaN", b"{}", b"[{}]", b"\x00"])
        elif raw == "huge":
            data = re.sub(rb"\b\d+\b", lambda m: b"9" * 5000, data, count=3)
        elif raw == "nan":
            data = re.sub(rb"\b\d+\b", rng.choice([b"NaN", b"Infinity", b"-Infinity", b"1e999", b"-0", b"1.0"]),
                          data, count=rng.choice([1, 5]))
        elif raw == "dupkeys":
            data = data.replace(b'"format"', b'"format": 1, "format"', 1)
        elif raw == "toplevel":
            data = b"[" + data + b"]"
        return data, notes

    def _replay(self, rng, index):
        trace_spec = rng.choice(sorted(self.traces))
        data, notes = self.tamper_trace(rng, self.traces[trace_spec], _geom(rng, 0.4, 4))
        spec_name = trace_spec_name(trace_spec) if rng.random() < 0.85 else rng.choice(self.spec_names)
        spec_text = self.corpus.specs[spec_name]
        note = [f"trace of {trace_spec}", f"spec {spec_name}"]
        if rng.random() < 0.2:
            mutated, mnotes = self.mutate_text(rng, spec_text, 1)
            spec = mutated if isinstance(mutated, bytes) else mutated.encode("utf-8", "surrogatepass")
            note += mnotes
        else:
            spec = spec_text.encode("utf-8")
        argv = ["replay", SPEC_PH, TRACE_PH]
        _P_WEIRD[0] = 0.25
        if rng.random() < 0.15:
            argv += ["--const", self._const(rng, spec_name)]
        return FuzzInput(index, "replay", "replay", argv, spec, data, note="; ".join(note + notes))


_P_WEIRD = [0.25]  # per-input probability of a weird option value (set by Generator._cli)


def _pick(rng: random.Random, sane: list[str], weird: list[str]) -> str:
    return rng.choice(weird if rng.random() < _P_WEIRD[0] else sane)


def _sane_int(v: str | None, hi: int) -> bool:
    try:
        return v is not None and 1 <= int(v) <= hi
    except ValueError:
        return False


def _sane_float(v: str | None, hi: float) -> bool:
    try:
        return v is not None and 0 < float(v) <= hi
    except ValueError:
        return False


# ---------------------------------------------------------------------------
# running one input in-process, and the oracle
# ---------------------------------------------------------------------------

class Hang(BaseException):
    """Raised by SIGPROF when an input runs past the time bound (a BaseException, so
    modelcheck's own `except Exception` cannot swallow it)."""


_HANG_ARMED = False
_HANG_FIRED = [False]


def _on_alarm(signum, frame):  # noqa: ARG001
    if _HANG_ARMED:
        _HANG_FIRED[0] = True
        raise Hang()


@dataclass
class Outcome:
    code: int
    seconds: float
    stdout: str
    stderr: str
    category: str | None = None     # None: the oracle holds
    key: str = ""                   # grouping key of a finding
    exc_type: str = ""
    exc_msg: str = ""
    tb: str = ""
    cpu_seconds: float = -1.0       # in-process runs only


def _frame_str(fs: traceback.FrameSummary, line: bool = True) -> str:
    path = fs.filename
    i = path.rfind("/modelcheck/")
    short = path[i + 1:] if i >= 0 else os.path.basename(path)
    return f"{short}:{fs.lineno}:{fs.name}" if line else f"{short}:{fs.name}"


def _key_frames(tb_obj, line: bool = True) -> tuple[str, str]:
    """(innermost modelcheck frame, innermost frame)."""
    frames = traceback.extract_tb(tb_obj)
    if not frames:
        return "", ""
    ours = [f for f in frames if "/modelcheck/" in f.filename.replace("\\", "/")
            and "/tools/" not in f.filename]
    inner = _frame_str(frames[-1], line)
    return (_frame_str(ours[-1], line) if ours else inner), inner


def _stage(tb_obj) -> str:
    """Where a hang happened, coarsely: the outermost modelcheck frame below cli.py (file:function),
    e.g. parser.py:parse or simulate.py:simulate; one slow stage is one group, wherever inside it
    the alarm happened to fire."""
    for fs in traceback.extract_tb(tb_obj):
        path = fs.filename.replace("\\", "/")
        if "/modelcheck/" in path and "/tools/" not in path and not path.endswith("/cli.py"):
            return _frame_str(fs, line=False)
    frames = traceback.extract_tb(tb_obj)
    return _frame_str(frames[-2], line=False) if len(frames) > 1 else "?"


def materialize(inp: FuzzInput, workdir: Path) -> list[str]:
    """Write the input's files into workdir; return the real argv."""
    spec_path, trace_path, tmp = workdir / "spec.ha", workdir / "trace.json", workdir / "tmp"
    if tmp.exists():
        shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True, exist_ok=True)
    if inp.spec is not None:
        spec_path.write_bytes(inp.spec)
    if inp.trace is not None:
        trace_path.write_bytes(inp.trace)
    out = []
    for a in inp.argv:
        a = a.replace(SPEC_PH, str(spec_path)).replace(TRACE_PH, str(trace_path)).replace(TMP_PH, str(tmp))
        out.append(a)
    return out


def run_in_process(argv: list[str], hang_seconds: float) -> Outcome:
    """Run `modelcheck ARGV` in this process through the real entry point, modelcheck.cli.main()
    (with sys.argv set), so exceptions map to exit codes exactly as for a user, whatever main()
    does today. When main() turns an exception into exit 70, the exception is the SystemExit's
    __context__: its type and traceback give the finding's group."""
    global _HANG_ARMED
    from modelcheck import cli as cli_mod

    out, err = io.StringIO(), io.StringIO()
    use_alarm = threading.current_thread() is threading.main_thread() and hang_seconds > 0
    # The bound is on CPU time (ITIMER_PROF / SIGPROF): a loaded machine must not turn slow runs into
    # hang findings. A run stuck without using CPU is caught by the parent's wall-clock watchdog.
    old_handler = signal.signal(signal.SIGPROF, _on_alarm) if use_alarm else None
    old_sigs = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)} if use_alarm else {}
    old_argv = sys.argv
    category = None
    exc_type = exc_msg = tb_text = key = ""
    code = 0
    cause: BaseException | None = None
    t0, c0 = time.perf_counter(), time.process_time()
    _HANG_FIRED[0] = False
    try:
        try:
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
                sys.argv = ["modelcheck", *argv]
                if use_alarm:
                    _HANG_ARMED = True
                    signal.setitimer(signal.ITIMER_PROF, hang_seconds)
                try:
                    cli_mod.main()
                finally:
                    _HANG_ARMED = False
                    if use_alarm:
                        signal.setitimer(signal.ITIMER_PROF, 0)
                    sys.argv = old_argv
        except SystemExit as e:
            c = e.code
            if c is None:
                code = 0
            elif isinstance(c, int):
                code = c
            else:
                err.write(f"{c}\n")
                code = 1
            ctx = e.__context__
            if code not in OK_CODES and isinstance(ctx, BaseException) and not isinstance(ctx, SystemExit):
                cause = ctx
        except Hang as e:
            cause = e
        except BaseException as e:  # noqa: BLE001 - escaped main() itself: a user would see a traceback
            cause = e
            code = 1
            err.write(f"{TRACEBACK_MARK}: (escaped modelcheck.cli.main) {type(e).__name__}: {e}\n")
        if cause is not None:
            tb_text = "".join(traceback.format_exception(cause))
            if isinstance(cause, Hang) or _HANG_FIRED[0]:
                # (the timer's signal also wakes modelcheck's z3 watcher, limits.z3_interruptible, so
                # z3 may fail with "canceled" after the bound: that is still the hang)
                code, category = -1, "hang"
                exc_type = "Hang" if isinstance(cause, Hang) else f"Hang (then {type(cause).__name__})"
                key = f"hang|{_stage(cause.__traceback__)}"
            else:
                category = "internal-error" if code == 70 else "uncaught" if code == 1 else "bad-exit"
                exc_type, exc_msg = type(cause).__name__, str(cause)[:500]
                mc, inner = _key_frames(cause.__traceback__)
                key = f"{category}|{code}|{exc_type}|{mc}|{inner}"
    finally:
        if use_alarm:
            signal.signal(signal.SIGPROF, old_handler)
            for sig, h in old_sigs.items():  # main() installs its own SIGINT/SIGTERM handlers
                if h is not None:
                    signal.signal(sig, h)
    seconds = time.perf_counter() - t0
    o = Outcome(code, seconds, out.getvalue(), err.getvalue(), category, key, exc_type, exc_msg, tb_text,
                time.process_time() - c0)
    return judge(o, hang_seconds, argv)


def judge(o: Outcome, hang_seconds: float, argv: list[str]) -> Outcome:
    """The oracle (in-process already set hang / internal-error; this adds the rest)."""
    if o.category is not None:
        return o
    text = o.stdout + "\n" + o.stderr
    if o.code not in OK_CODES:
        o.category = "internal-error" if o.code == 70 else "bad-exit"
        o.key = f"{o.category}|{o.code}"
        m = re.search(r"internal error: (\w+)", text)
        if m:
            o.exc_type = m.group(1)
            o.key += "|" + m.group(1)
    elif TRACEBACK_MARK in text or "internal error" in text:
        o.category = "traceback-in-output"
        lines = [ln for ln in text.splitlines() if "internal error" in ln or ln.startswith("  File ")]
        o.key = f"traceback-in-output|{o.code}|{(lines[-1] if lines else '')[:120]}"
    elif hang_seconds > 0 and max(o.cpu_seconds, 0) > hang_seconds * 1.5:
        o.category = "slow"
        o.key = f"slow|{argv[0] if argv else ''}"
    return o


# ---------------------------------------------------------------------------
# base traces for replay
# ---------------------------------------------------------------------------

TRACE_SOURCES = (("naive_failover.ha", ["verify"]), ("two_phase_commit_broken.ha", ["verify", "--no-faults"]),
                 ("raft_checkquorum_broken.ha", ["verify"]), ("stonith_unconfirmed_broken.ha", ["verify"]),
                 ("two_phase_commit_broken.ha", ["verify", "--property", "every_participant_decides"]),
                 ("naive_failover.ha", ["simulate", "--runs", "50", "--depth", "20"]))


def import_everything() -> str:
    """Import every modelcheck module now (before the workers fork), so that the whole run tests
    one consistent version of the code even while it is being edited; returns a digest of it."""
    import importlib
    import pkgutil

    import modelcheck

    for m in pkgutil.iter_modules(modelcheck.__path__):
        if m.name == "__main__":
            continue
        try:
            importlib.import_module(f"modelcheck.{m.name}")
        except Exception:  # noqa: BLE001 - a module that does not import shows up in the findings
            pass
    h = hashlib.sha1()
    for p in sorted(Path(modelcheck.__path__[0]).glob("*.py")):
        h.update(p.read_bytes())
    return h.hexdigest()[:12]


def make_base_traces(corpus: Corpus, workdir: Path) -> dict[str, dict]:
    """Counterexample traces written by the real CLI (in-process), keyed 'spec.ha#i'. Specs whose
    run does not produce a trace (the code under test is changing) are skipped."""
    out: dict[str, dict] = {}
    workdir.mkdir(parents=True, exist_ok=True)
    for i, (name, cmd) in enumerate(TRACE_SOURCES):
        if name not in corpus.specs:
            continue
        t = workdir / f"base{i}.json"
        argv = [cmd[0], str(SPECS_DIR / name)] + cmd[1:] + ["--max-states", "20000", "--timeout", "20",
                                                            "--trace-out", str(t)]
        if cmd[0] == "simulate":
            argv = [a for a in argv if a not in ("--max-states", "20000")]
        run_in_process(argv, 60)
        try:
            doc = json.loads(t.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if isinstance(doc, dict) and doc.get("verdict") == "violated":
            out[f"{name}#{i}"] = doc
    return out


def trace_spec_name(key: str) -> str:
    return key.split("#", 1)[0]


# ---------------------------------------------------------------------------
# workers
# ---------------------------------------------------------------------------

def _limit_memory(mb: int) -> None:
    if mb <= 0:
        return
    try:
        import resource
        resource.setrlimit(resource.RLIMIT_AS, (mb << 20, mb << 20))
    except (ImportError, ValueError, OSError):
        pass


def _worker_main(conn, wid, gen_args, hang_seconds, mem_mb, current, started, workroot):
    os.setpgrp()  # Ctrl-C in the terminal reaches only the parent
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _limit_memory(mem_mb)
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    sys.stdin = open(os.devnull, encoding="utf-8")
    gen = Generator(*gen_args)
    workdir = Path(workroot) / f"w{wid}-{os.getpid()}"
    workdir.mkdir(parents=True, exist_ok=True)
    os.chdir(workdir)
    import modelcheck.cli  # noqa: F401 - warm imports before the first timed input
    try:
        while True:
            msg = conn.recv()
            if msg[0] == "stop":
                break
            _, start, end = msg
            recycle = False
            for i in range(start, end):
                current.value = i
                started.value = time.time()
                try:
                    inp = gen.make(i)
                    argv = materialize(inp, workdir)
                    o = run_in_process(argv, hang_seconds)
                except Hang:
                    continue
                started.value = 0.0
                finding = None
                if o.category:
                    finding = {"outcome": asdict(o), "input": _input_dict(inp)}
                    if o.category == "hang":
                        recycle = True  # state may be half-updated: start afresh
                conn.send(("result", i, inp.kind, inp.command, o.code, o.seconds, finding))
                if recycle:
                    conn.send(("recycle", i + 1, end))
                    return
            conn.send(("done",))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def _input_dict(inp: FuzzInput) -> dict:
    d = asdict(inp)
    d["spec"] = None if inp.spec is None else inp.spec.decode("latin-1")
    d["trace"] = None if inp.trace is None else inp.trace.decode("latin-1")
    return d


def _input_from_dict(d: dict) -> FuzzInput:
    d = dict(d)
    d["spec"] = None if d["spec"] is None else d["spec"].encode("latin-1")
    d["trace"] = None if d["trace"] is None else d["trace"].encode("latin-1")
    return FuzzInput(**d)


# ---------------------------------------------------------------------------
# findings: grouping, reproducers, minimisation
# ---------------------------------------------------------------------------

@dataclass
class Group:
    key: str
    category: str
    count: int = 0
    first_index: int = -1
    best: dict | None = None        # the smallest finding (input + outcome)
    indices: list[int] = field(default_factory=list)
    dir: str = ""
    minimized: dict | None = None


def _cmdline(argv: list[str]) -> str:
    rel = [a.replace(SPEC_PH, "spec.ha").replace(TRACE_PH, "trace.json").replace(TMP_PH, "tmp") for a in argv]
    return "modelcheck " + " ".join(shlex.quote(a) if len(a) < 200 else shlex.quote(a[:60]) + "...(truncated)"
                                    for a in rel)


def write_reproducer(dirpath: Path, inp: FuzzInput, outcome: dict, extra: dict) -> None:
    dirpath.mkdir(parents=True, exist_ok=True)
    if inp.spec is not None:
        (dirpath / "spec.ha").write_bytes(inp.spec)
    if inp.trace is not None:
        (dirpath / "trace.json").write_bytes(inp.trace)
    rel = [a.replace(SPEC_PH, "spec.ha").replace(TRACE_PH, "trace.json").replace(TMP_PH, "tmp") for a in inp.argv]
    (dirpath / "argv.json").write_text(json.dumps(rel, ensure_ascii=False) + "\n", encoding="utf-8")
    (dirpath / "cmd.sh").write_text(
        "#!/bin/sh\n# reproducer written by tools/fuzz.py\ncd \"$(dirname \"$0\")\" && mkdir -p tmp && exec "
        + "modelcheck " + " ".join(shlex.quote(a) for a in rel) + "\n", encoding="utf-8", errors="surrogateescape")
    os.chmod(dirpath / "cmd.sh", 0o755)
    (dirpath / "output.txt").write_text(
        f"exit code: {outcome['code']}   seconds: {outcome['seconds']:.2f} (cpu {outcome.get('cpu_seconds', -1):.2f})\n--- stdout ---\n{outcome['stdout'][-4000:]}"
        f"\n--- stderr ---\n{outcome['stderr'][-4000:]}\n--- traceback ---\n{outcome['tb']}",
        encoding="utf-8", errors="replace")
    meta = {"index": inp.index, "kind": inp.kind, "command": inp.command, "note": inp.note,
            "category": outcome["category"], "key": outcome["key"], "exc_type": outcome["exc_type"],
            "exc_msg": outcome["exc_msg"], **extra}
    (dirpath / "meta.json").write_text(json.dumps(meta, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def _group_dirname(g: Group, n: int) -> str:
    h = hashlib.sha1(g.key.encode("utf-8", "replace")).hexdigest()[:8]
    return f"{n:03d}-{g.category}-{h}"


def minimize(inp: FuzzInput, key: str, hang_seconds: float, budget: float, workdir: Path) -> FuzzInput:
    """Greedy delta debugging: drop spec lines, then spec tokens, then argv items, then trace
    bytes, keeping only changes after which the run still fails with the same key."""
    deadline = time.time() + budget
    workdir.mkdir(parents=True, exist_ok=True)
    old = os.getcwd()
    os.chdir(workdir)

    def fails(cand: FuzzInput) -> bool:
        if time.time() > deadline:
            return False
        o = run_in_process(materialize(cand, workdir), hang_seconds)
        return o.key == key

    def ddmin(items: list, rebuild) -> list:
        n = 2
        while len(items) >= 2 and time.time() < deadline:
            chunk = max(1, len(items) // n)
            reduced = False
            for start in range(0, len(items), chunk):
                cand = items[:start] + items[start + chunk:]
                if fails(rebuild(cand)):
                    items, n, reduced = cand, max(n - 1, 2), True
                    break
            if not reduced:
                if chunk == 1:
                    break
                n = min(len(items), n * 2)
        return items

    try:
        cur = inp
        if cur.spec is not None:
            try:
                text = cur.spec.decode("utf-8")
                lines = text.split("\n")
                lines = ddmin(lines, lambda ls: _replace(cur, spec="\n".join(ls).encode("utf-8")))
                cur = _replace(cur, spec="\n".join(lines).encode("utf-8"))
                units = _units(cur.spec.decode("utf-8"))
                if len(units) < 3000:
                    units = ddmin(units, lambda us: _replace(cur, spec="".join(us).encode("utf-8")))
                    cur = _replace(cur, spec="".join(units).encode("utf-8"))
            except UnicodeDecodeError:
                data = ddmin(list(cur.spec), lambda bs: _replace(cur, spec=bytes(bs))) \
                    if len(cur.spec) < 5000 else list(cur.spec)
                cur = _replace(cur, spec=bytes(data))
        if len(cur.argv) > 2:
            head = cur.argv[:1]
            rest = ddmin(cur.argv[1:], lambda a: _replace(cur, argv=head + a))
            cur = _replace(cur, argv=head + rest)
        if cur.trace is not None and len(cur.trace) < 20000:
            try:
                doc = json.loads(cur.trace)
                cur = _minimize_json(cur, doc, fails)
            except (ValueError, RecursionError):
                pass
        return cur
    finally:
        os.chdir(old)


def _units(text: str) -> list[str]:
    """Significant tokens, each with the whitespace after it (so dropping one keeps words apart)."""
    units: list[str] = []
    for t in _tokens(text):
        if units and not _significant(t):
            units[-1] += t if t.isspace() else " "
        elif _significant(t):
            units.append(t)
        else:
            units.append(" ")
    return units


def _minimize_json(cur: FuzzInput, doc, fails) -> FuzzInput:
    """Drop dict keys / list items of the trace one at a time while the failure stays."""
    def paths(node, path):
        if isinstance(node, dict):
            for k in list(node):
                yield path + [k]
                yield from paths(node[k], path + [k])
        elif isinstance(node, list):
            for i in range(len(node) - 1, -1, -1):
                yield path + [i]
                yield from paths(node[i], path + [i])

    changed = True
    while changed:
        changed = False
        for p in list(paths(doc, [])):
            cand = json.loads(json.dumps(doc))
            parent = cand
            try:
                for q in p[:-1]:
                    parent = parent[q]
                del parent[p[-1]]
            except (KeyError, IndexError, TypeError):
                continue
            trial = _replace(cur, trace=json.dumps(cand).encode())
            if fails(trial):
                doc, cur, changed = cand, trial, True
                break
    return cur


def _replace(inp: FuzzInput, **kw) -> FuzzInput:
    d = dict(inp.__dict__)
    d.update(kw)
    return FuzzInput(**d)


# ---------------------------------------------------------------------------
# the campaign
# ---------------------------------------------------------------------------

class Campaign:
    def __init__(self, args):
        self.args = args
        self.out = Path(args.out)
        self.groups: dict[str, Group] = {}
        self.per_kind: dict[str, int] = {}
        self.per_cmd: dict[str, int] = {}
        self.cmd_seconds: dict[str, float] = {}
        self.codes: dict[str, dict[int, int]] = {}
        self.done = 0
        self.findings = 0
        self.lost = 0
        self.t0 = time.time()

    def record(self, i, kind, command, code, seconds, finding):
        self.done += 1
        self.per_kind[kind] = self.per_kind.get(kind, 0) + 1
        k2 = f"{kind}/{command}"
        self.per_cmd[k2] = self.per_cmd.get(k2, 0) + 1
        self.cmd_seconds[k2] = self.cmd_seconds.get(k2, 0.0) + max(seconds, 0.0)
        self.codes.setdefault(kind, {})
        self.codes[kind][code] = self.codes[kind].get(code, 0) + 1
        if finding:
            self.add_finding(finding)

    def add_finding(self, finding):
        self.findings += 1
        o = finding["outcome"]
        g = self.groups.get(o["key"])
        new = g is None
        if new:
            g = self.groups[o["key"]] = Group(o["key"], o["category"])
            g.first_index = finding["input"]["index"]
            g.dir = str(self.out / "findings" / _group_dirname(g, len(self.groups)))
        g.count += 1
        if len(g.indices) < 20:
            g.indices.append(finding["input"]["index"])
        size = lambda f: _input_from_dict(f["input"]).size()  # noqa: E731
        if g.best is None or size(finding) < size(g.best):
            g.best = finding
            write_reproducer(Path(g.dir), _input_from_dict(finding["input"]), o,
                             {"seed": self.args.seed, "regenerate": f"python tools/fuzz.py --seed {self.args.seed} "
                                                                   f"--index {finding['input']['index']}"})
        if new:
            self.log(f"NEW finding [{g.category}] {o['exc_type']} {o['exc_msg'][:100]!r} -> {g.dir}")

    def log(self, msg):
        print(msg, flush=True)

    def run(self):
        import multiprocessing as mp
        from multiprocessing.connection import wait

        args = self.args
        self.out.mkdir(parents=True, exist_ok=True)
        corpus = load_corpus()
        self.code_digest = import_everything()
        workroot = Path(tempfile.mkdtemp(prefix="mcfuzz-"))
        traces = make_base_traces(corpus, workroot / "base")
        self.log(f"corpus: {len(corpus.specs)} specs, {len(corpus.vocab)} vocabulary tokens; "
                 f"{len(traces)} base traces for replay; modelcheck/*.py digest {self.code_digest}")
        gen_args = (args.seed, corpus, traces, tuple(args.kinds))
        ctx = mp.get_context("fork")
        chunk = args.chunk
        pending = [(s, min(s + chunk, args.start + args.inputs)) for s in
                   range(args.start, args.start + args.inputs, chunk)]
        workers = {}  # wid -> dict(proc, conn, current, started, chunk)
        next_wid = [0]

        def spawn():
            wid = next_wid[0]
            next_wid[0] += 1
            parent, child = ctx.Pipe()
            current, started = ctx.Value("q", -1, lock=False), ctx.Value("d", 0.0, lock=False)
            p = ctx.Process(target=_worker_main, args=(child, wid, gen_args, args.hang_seconds, args.mem_mb,
                                                       current, started, str(workroot)), daemon=True)
            p.start()
            child.close()
            workers[wid] = {"proc": p, "conn": parent, "current": current, "started": started, "chunk": None,
                            "seen": set()}
            give(wid)

        def give(wid):
            w = workers[wid]
            if pending:
                w["chunk"] = pending.pop(0)
                w["seen"] = set()
                w["conn"].send(("chunk",) + w["chunk"])
            else:
                w["chunk"] = None
                try:
                    w["conn"].send(("stop",))
                except OSError:
                    pass

        def retire(wid, resume_from=None):
            w = workers.pop(wid)
            if w["chunk"] is not None and resume_from is not None and resume_from < w["chunk"][1]:
                pending.insert(0, (resume_from, w["chunk"][1]))
            try:
                w["conn"].close()
            except OSError:
                pass

        def crash_finding(w, category, detail):
            i = w["current"].value
            if i < 0:
                return
            inp = Generator(*gen_args).make(i)
            o = Outcome(-9, time.time() - (w["started"].value or time.time()), "", detail, category,
                        f"{category}|{inp.command}", category, detail)
            self.record(i, inp.kind, inp.command, -9, o.seconds, {"outcome": asdict(o), "input": _input_dict(inp)})

        def on_term(signum, frame):  # noqa: ARG001
            raise KeyboardInterrupt()

        # SIGINT may be ignored when started in the background; SIGTERM (kill, CI timeouts) too
        # must stop the workers (they run in their own process group) and still print the summary.
        signal.signal(signal.SIGINT, on_term)
        signal.signal(signal.SIGTERM, on_term)
        for _ in range(args.workers):
            spawn()
        last_print = time.time()
        interrupted = False
        try:
            while workers:
                conns = {w["conn"]: wid for wid, w in workers.items()}
                sentinels = {w["proc"].sentinel: wid for wid, w in workers.items()}
                ready = wait(list(conns) + list(sentinels), timeout=1.0)
                for r in ready:
                    if r in conns:
                        wid = conns[r]
                        if wid not in workers:
                            continue
                        try:
                            while r.poll():
                                msg = r.recv()
                                if msg[0] == "result":
                                    workers[wid]["seen"].add(msg[1])
                                    self.record(*msg[1:])
                                elif msg[0] == "done":
                                    give(wid)
                                elif msg[0] == "recycle":
                                    workers[wid]["chunk"] = (msg[1], msg[2])
                                    workers[wid]["proc"].join(5)
                                    retire(wid, msg[1])
                                    spawn()
                                    break
                        except (EOFError, OSError):
                            pass
                # dead or stuck workers
                for wid in list(workers):
                    w = workers[wid]
                    stuck = w["started"].value and time.time() - w["started"].value > args.hang_seconds * 6 + 60
                    if not w["proc"].is_alive() or stuck:
                        if w["chunk"] is None and not stuck:
                            retire(wid)
                            continue
                        # drain whatever results made it into the pipe
                        try:
                            while w["conn"].poll():
                                msg = w["conn"].recv()
                                if msg[0] == "result":
                                    w["seen"].add(msg[1])
                                    self.record(*msg[1:])
                        except (EOFError, OSError):
                            pass
                        if stuck:
                            w["proc"].kill()
                            w["proc"].join(5)
                            crash_finding(w, "hang-hard", f"no answer after {args.hang_seconds * 6 + 60:.0f} s "
                                                          "(the CPU timer did not fire: sleeping, or stuck outside Python?)")
                        else:
                            crash_finding(w, "crash", f"worker died, exit code {w['proc'].exitcode}")
                        cur = w["current"].value
                        lo = w["chunk"][0] if w["chunk"] else 0
                        self.lost += sum(1 for i in range(lo, max(cur, lo)) if i not in w["seen"])
                        retire(wid, max(cur + 1, lo))
                        spawn()
                if time.time() - last_print >= args.progress:
                    last_print = time.time()
                    self.progress()
        except KeyboardInterrupt:
            interrupted = True
            self.log("\ninterrupted: stopping workers")
        finally:
            for w in workers.values():
                w["proc"].kill()
            for w in workers.values():
                w["proc"].join(5)
            shutil.rmtree(workroot, ignore_errors=True)
        if args.minimize and not interrupted:
            self.minimize_all()
        self.summary(interrupted)

    def progress(self):
        el = time.time() - self.t0
        rate = self.done / el if el else 0
        left = (self.args.inputs - self.done) / rate if rate else 0
        self.log(f"[{self.done:,}/{self.args.inputs:,}] {rate:.1f} inputs/s · findings {self.findings} "
                 f"({len(self.groups)} distinct) · {el:.0f} s elapsed, ~{left:.0f} s left")

    def minimize_all(self):
        work = Path(tempfile.mkdtemp(prefix="mcfuzz-min-"))
        try:
            for g in self.groups.values():
                if g.category not in ("internal-error", "traceback-in-output", "bad-exit"):
                    continue
                inp = _input_from_dict(g.best["input"])
                small = minimize(inp, g.key, self.args.hang_seconds, self.args.minimize_seconds, work)
                o = run_in_process(materialize(small, work), self.args.hang_seconds)
                if o.key == g.key:
                    g.minimized = {"input": _input_dict(small), "outcome": asdict(o)}
                    write_reproducer(Path(g.dir) / "min", small, asdict(o), {"minimized_from": inp.index})
        finally:
            shutil.rmtree(work, ignore_errors=True)

    def summary(self, interrupted):
        el = time.time() - self.t0
        rate = self.done / el if el else 0
        lines = ["", "=" * 78, f"modelcheck fuzz: seed {self.args.seed}, {self.done:,} inputs in {el:.0f} s "
                 f"= {rate:.1f} inputs/s on {self.args.workers} worker(s)" + (" (interrupted)" if interrupted else ""),
                 f"modelcheck/*.py digest {getattr(self, 'code_digest', '?')}"]
        if self.lost:
            lines.append(f"({self.lost} results lost with crashed workers)")
        lines.append("inputs per kind:")
        for k in sorted(self.per_kind):
            codes = ", ".join(f"exit {c}: {n}" for c, n in sorted(self.codes[k].items()))
            lines.append(f"  {k:14} {self.per_kind[k]:8,}   ({codes})")
        lines.append("inputs per kind/command:")
        lines.append("  " + ", ".join(f"{k} {n:,} ({1000 * self.cmd_seconds[k] / n:.0f} ms avg)"
                                      for k, n in sorted(self.per_cmd.items())))
        lines.append(f"findings: {self.findings} in {len(self.groups)} group(s)")
        for g in sorted(self.groups.values(), key=lambda g: (g.category, -g.count)):
            o = g.best["outcome"]
            rep = Path(g.dir) / ("min" if g.minimized else "")
            lines.append(f"  [{g.category}] x{g.count}  {o['exc_type']}: {o['exc_msg'][:120]}")
            lines.append(f"      key: {g.key[:200]}")
            lines.append(f"      reproducer: {rep}/cmd.sh   (regenerate: --seed {self.args.seed} --index {g.first_index})")
        print("\n".join(lines), flush=True)
        summary = {"seed": self.args.seed, "code_digest": getattr(self, "code_digest", ""), "inputs": self.done, "seconds": round(el, 1),
                   "inputs_per_second": round(rate, 2), "workers": self.args.workers, "per_kind": self.per_kind,
                   "per_command": self.per_cmd, "exit_codes": {k: {str(c): n for c, n in v.items()}
                                                               for k, v in self.codes.items()},
                   "findings": self.findings, "interrupted": interrupted,
                   "groups": [{"key": g.key, "category": g.category, "count": g.count, "dir": g.dir,
                               "indices": g.indices, "exc_type": g.best["outcome"]["exc_type"],
                               "exc_msg": g.best["outcome"]["exc_msg"], "note": g.best["input"]["note"],
                               "minimized": g.minimized is not None} for g in self.groups.values()]}
        (self.out / "summary.json").write_text(json.dumps(summary, indent=2, ensure_ascii=False) + "\n",
                                               encoding="utf-8")
        (self.out / "summary.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")


# ---------------------------------------------------------------------------
# helpers for tests and debugging
# ---------------------------------------------------------------------------

def run_inputs_in_process(seed: int, indices, kinds=KINDS, hang_seconds: float = 20.0,
                          workdir: Path | None = None, corpus: Corpus | None = None,
                          traces: dict | None = None) -> tuple[list[tuple[FuzzInput, Outcome]], dict]:
    """Generate and run the given inputs in this process. Returns (findings, counts per kind)."""
    own = workdir is None
    workdir = Path(tempfile.mkdtemp(prefix="mcfuzz-")) if own else workdir
    old = os.getcwd()
    try:
        corpus = corpus or load_corpus()
        if traces is None:
            traces = make_base_traces(corpus, workdir / "base")
        gen = Generator(seed, corpus, traces, tuple(kinds))
        os.chdir(workdir)
        findings, counts = [], {}
        for i in indices:
            inp = gen.make(i)
            counts[inp.kind] = counts.get(inp.kind, 0) + 1
            o = run_in_process(materialize(inp, workdir), hang_seconds)
            if o.category:
                findings.append((inp, o))
        return findings, counts
    finally:
        os.chdir(old)
        if own:
            shutil.rmtree(workdir, ignore_errors=True)


def run_subprocess(inp: FuzzInput, workdir: Path, hang_seconds: float = 60.0) -> Outcome:
    """Run the input with the real `python -m modelcheck` in a child process."""
    argv = materialize(inp, workdir)
    t0 = time.perf_counter()
    try:
        p = subprocess.run([sys.executable, "-m", "modelcheck", *argv], cwd=workdir, capture_output=True,
                           timeout=hang_seconds, stdin=subprocess.DEVNULL)
        o = Outcome(p.returncode, time.perf_counter() - t0, p.stdout.decode("utf-8", "replace"),
                    p.stderr.decode("utf-8", "replace"))
    except subprocess.TimeoutExpired:
        return Outcome(-1, time.perf_counter() - t0, "", "", "hang", "hang|subprocess")
    return judge(o, 0, argv)


def show_index(args) -> int:
    corpus = load_corpus()
    work = Path(tempfile.mkdtemp(prefix="mcfuzz-"))
    try:
        traces = make_base_traces(corpus, work / "base")
        inp = Generator(args.seed, corpus, traces, tuple(args.kinds)).make(args.index)
        print(f"input {inp.index}: kind {inp.kind}, command {inp.command}\nnote: {inp.note}")
        print("argv:", _cmdline(inp.argv))
        os.chdir(work)
        o = run_in_process(materialize(inp, work), args.hang_seconds)
        print(f"exit {o.code} in {o.seconds:.2f} s; finding: {o.category or 'none'} {o.key}")
        if o.tb:
            print(o.tb)
        if args.save:
            write_reproducer(Path(args.save), inp, asdict(o), {"seed": args.seed})
            print("saved to", args.save)
        return 0 if not o.category else 1
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--inputs", type=int, default=10000, help="number of inputs (default 10000)")
    ap.add_argument("--start", type=int, default=0, help="first input index (default 0)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="worker processes (default: cores)")
    ap.add_argument("--out", default=str(ROOT / "bench" / "out" / "fuzz"), help="findings folder")
    ap.add_argument("--kinds", default=",".join(KINDS), help="comma-separated subset of " + ",".join(KINDS))
    ap.add_argument("--hang-seconds", type=float, default=10.0, help="per-input time bound (default 10)")
    ap.add_argument("--mem-mb", type=int, default=4096, help="address-space limit per worker, MB (0: none)")
    ap.add_argument("--chunk", type=int, default=50, help="inputs handed to a worker at a time")
    ap.add_argument("--progress", type=float, default=10.0, help="seconds between progress lines")
    ap.add_argument("--no-minimize", dest="minimize", action="store_false", help="skip shrinking reproducers")
    ap.add_argument("--minimize-seconds", type=float, default=60.0, help="shrinking budget per finding group")
    ap.add_argument("--index", type=int, help="only regenerate and run input INDEX (prints it)")
    ap.add_argument("--save", help="with --index: write the reproducer to this folder")
    args = ap.parse_args(argv)
    args.kinds = [k.strip() for k in args.kinds.split(",") if k.strip()]
    bad = [k for k in args.kinds if k not in KINDS]
    if bad:
        ap.error(f"unknown kind(s) {bad}; choose from {', '.join(KINDS)}")
    if args.index is not None:
        return show_index(args)
    Campaign(args).run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
