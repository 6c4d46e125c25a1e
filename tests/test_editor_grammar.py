"""The TextMate grammar of editors/vscode highlights what the parser reads.

Every spec of specs/ (and a few small documents that use the keywords no example
uses) is tokenised with vscode-textmate on the Oniguruma engine, the code VS Code
itself runs, and compared with what modelcheck's own lexer and parser make of the
same text: every keyword the parser reads as a keyword, every number, string and
comment, and the declared names of roles, messages, types, consts, actions,
properties and variables must get their scopes, no soft keyword read as a name may
look like a keyword, and no text may be scoped "invalid". The grammar's keyword list
is checked against the quoted words of grammar/ha.lark, so neither can drift.

The two npm packages are installed once (`npm ci` from editors/vscode/test-tools,
whose package-lock.json pins them) into a cache folder outside the repository,
keyed by the lock file's hash; the tests skip only when node or npm is missing.
"""
from __future__ import annotations

import fcntl
import hashlib
import json
import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from conftest import ROOT
from modelcheck.lang import parser as P
from modelcheck.lang import syntax as S
from modelcheck.lang.checker import BUILTINS
from modelcheck.lang.diagnostics import Source

EDITOR = ROOT / "editors" / "vscode"
GRAMMAR = EDITOR / "syntaxes" / "ha.tmLanguage.json"
TOOLS = EDITOR / "test-tools"
SPECS = sorted((ROOT / "specs").glob("*.ha"))

# Scopes a keyword may get: a declaration word is storage.*, `true` constant.language,
# `self` variable.language, a type word support.type; everything else keyword.*.
KEYWORD_SCOPES = ("keyword.", "storage.", "constant.language.", "variable.language.", "support.type.")

# Small documents that use the keywords no example spec uses (a spec has one network
# block, so each delivery mode needs its own), and every fault kind.
EXTRA = {
    "kitchen_sink": """spec kitchen_sink
const N = 2
enum Phase { Idle, Busy }
message Ping(n: 0..N, p: Phase?)
message Ack()
ghost var history: seq<bool, 3> = []
network { delivery unordered }
time { max 4  delivery within 2  skew 1 }
role Server[N] {
  persistent var term: 0..N = 0
  var seen: set<Server> = {}
  var m: map<node, bool> = {}
  on Ping(n, _) from s when n >= 0 {
    require n <= N
    let x = any {1, 2}
    var y: 0..3 = 0
    if x == 1 and not (n in {0}) or m has s { y = 1 } elif y > 0 { y -= 1 } else { y += 0 }
    for i in 0..1 { assert true, "ok \\"quoted\\"" }
    reply Ack()
  }
  on Ack() { seen |= {self} }
  action go(k: bool) when term < N {
    term = if k then term + 1 else term
    send Ping(0, none) to Server[0]
    broadcast Ping(1, Idle) to {Server[1]}
  }
  on restart { seen = {} }
}
faults {
  crash Server at most 1; restart Server at most 1
  partition at most 1  one_way at most 1  link at most 1  bridge at most 1  ring at most 1
  heal  loss at most 1  duplicate at most 1  pause Server at most 1 for 2
  eventually heal  eventually restart Server
}
scenario calm { crash at most 0 }
invariant bounded: forall s in Server: s.term <= N and count(t in Server where t.term > 0) >= 0
property progress: exists s in Server: s.term == 0 leads_to eventually always false
""",
    "fifo": "spec f\nnetwork { delivery fifo }\nrole A { var at: bool = false }\n",
    "set": "spec s\nnetwork {\n  delivery set  # one copy of each message\n}\n",
}


# ---- the npm tools ------------------------------------------------------------------

def _node_modules() -> Path:
    """node_modules with vscode-textmate and vscode-oniguruma, installed by `npm ci` once
    per lock file into a cache folder (a file lock keeps parallel workers from racing)."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        pytest.skip("node and npm are needed to test the TextMate grammar (not found on PATH)")
    lock = (TOOLS / "package-lock.json").read_bytes()
    key = hashlib.sha256(lock).hexdigest()[:16]
    folder = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "modelcheck" / "editor-test-tools" / key
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:  # no writable home: the temp folder still outlives the session
        folder = Path(tempfile.gettempdir()) / "modelcheck-editor-test-tools" / key
        folder.mkdir(parents=True, exist_ok=True)
    done = folder / "installed"
    with open(folder / ".lock", "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        if not done.exists():
            for name in ("package.json", "package-lock.json"):
                shutil.copyfile(TOOLS / name, folder / name)
            proc = subprocess.run([npm, "ci", "--no-audit", "--no-fund", "--ignore-scripts"], cwd=folder,
                                  capture_output=True, text=True, timeout=300)
            assert proc.returncode == 0, f"npm ci failed in {folder}:\n{proc.stdout}\n{proc.stderr}"
            done.write_text("ok\n")
    return folder / "node_modules"


def tokenize(documents: dict[str, str]) -> dict[str, list[list]]:
    """Each document's lines as VS Code tokenises them: [start, end, scopes] per token."""
    env = dict(os.environ, NODE_PATH=str(_node_modules()))
    proc = subprocess.run(["node", str(TOOLS / "tokenize.js")], input=json.dumps(
        {"grammar": str(GRAMMAR), "documents": documents}), capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


@pytest.fixture(scope="module")
def documents() -> dict[str, str]:
    docs = {p.name: p.read_text("utf-8") for p in SPECS}
    docs.update(EXTRA)
    return docs


@pytest.fixture(scope="module")
def tokens(documents) -> dict[str, list[list]]:
    return tokenize(documents)


def scopes_at(lines: list[list], text_lines: list[str], line: int, column: int) -> list[str]:
    """The scopes of the character at 1-based (line, column), columns in code points."""
    utf16 = len(text_lines[line - 1][:column - 1].encode("utf-16-le")) // 2
    for start, end, scopes in lines[line - 1]:
        if start <= utf16 < end:
            return scopes
    raise AssertionError(f"no token at {line}:{column}")


# ---- what modelcheck's parser reads ---------------------------------------------------

def lexed(text: str) -> tuple[S.Spec, list]:
    """The spec and every token the parser took, as the parser's lexer typed them
    (a soft keyword read as a name is a NAME), plus the comments."""
    lexer = P._parser().parser.lexer
    taken = []
    inner = lexer.lex

    def recording(lexer_state, parser_state):
        for tok in inner(lexer_state, parser_state):
            taken.append(tok)
            yield tok

    lexer.lex = recording
    try:
        spec = P.parse(Source("doc.ha", text))
    finally:
        del lexer.lex
    comments = [t for t in P._parser().lex(text, dont_ignore=True) if t.type == "COMMENT"]
    return spec, taken + comments


def lark_keywords() -> set[str]:
    text = "\n".join(line.split("//")[0] for line in (ROOT / "grammar" / "ha.lark").read_text().splitlines())
    return set(re.findall(r'"([a-z_]+)"', text))


def grammar_words() -> set[str]:
    """Every word the TextMate grammar lists in a group such as (?:and|or|not)."""
    words: set[str] = set()

    def visit(x):
        if isinstance(x, dict):
            for key, value in x.items():
                if key in ("match", "begin", "end") and isinstance(value, str):
                    for group in re.findall(r"\((?:\?:)?([a-z_]+(?:\|[a-z_]+)*)\)", value):
                        words.update(group.split("|"))
                else:
                    visit(value)
        elif isinstance(x, list):
            for v in x:
                visit(v)

    visit(json.loads(GRAMMAR.read_text()))
    return words


# ---- tests ------------------------------------------------------------------------------

def test_keyword_lists_agree():
    lark = lark_keywords()
    assert lark == P.KEYWORDS, "parser.KEYWORDS and grammar/ha.lark list different keywords"
    words = grammar_words()
    assert lark - words == set(), "keywords of grammar/ha.lark missing from ha.tmLanguage.json"
    assert words - lark - BUILTINS == set(), "ha.tmLanguage.json highlights words that are not keywords"


def test_manifest_points_at_the_grammar():
    manifest = json.loads((EDITOR / "package.json").read_text())
    grammar = json.loads(GRAMMAR.read_text())
    (lang,) = manifest["contributes"]["languages"]
    (entry,) = manifest["contributes"]["grammars"]
    assert lang["extensions"] == [".ha"] and entry["language"] == lang["id"]
    assert entry["scopeName"] == grammar["scopeName"] == "source.ha"
    assert (EDITOR / entry["path"]).resolve() == GRAMMAR
    config = json.loads((EDITOR / lang["configuration"]).read_text())
    assert config["comments"]["lineComment"] == "#"
    assert ["{", "}"] in config["brackets"]


def test_every_example_is_tokenised_without_invalid_scopes(tokens, documents):
    assert set(tokens) == set(documents)
    bad = [f"{name}:{i + 1}: {documents[name].splitlines()[i][start:end]!r} {scopes}"
           for name, lines in tokens.items() for i, line in enumerate(lines)
           for start, end, scopes in line if any(s.startswith("invalid") for s in scopes)]
    assert not bad, "\n".join(bad[:20])


def test_tokens_get_the_scopes_of_what_the_parser_reads(tokens, documents):
    seen_keywords: set[str] = set()
    problems = []
    for name, text in documents.items():
        lines = text.split("\n")
        _, toks = lexed(text)
        for tok in toks:
            scopes = scopes_at(tokens[name], lines, tok.line, tok.column)
            where = f"{name}:{tok.line}:{tok.column} {tok.value!r} ({tok.type}): {scopes}"
            if tok.type == "COMMENT":
                end = scopes_at(tokens[name], lines, tok.line, tok.column + len(tok.value) - 1)
                if not all(any(s.startswith("comment.line") for s in sc) for sc in (scopes, end)):
                    problems.append(where)
            elif tok.type == "INT" and not any(s.startswith("constant.numeric") for s in scopes):
                problems.append(where)
            elif tok.type == "STRING" and not any(s.startswith("string.quoted.double") for s in scopes):
                problems.append(where)
            elif tok.type != "NAME" and re.fullmatch(r"[a-z_]+", tok.value):
                seen_keywords.add(tok.value)
                if not any(s.startswith(KEYWORD_SCOPES) for s in scopes[1:]):
                    problems.append(where)
            elif tok.type == "NAME" and tok.value in P.KEYWORDS:  # a soft keyword used as a name
                if any(s.startswith(("keyword.", "storage.")) for s in scopes[1:]):
                    problems.append(where)
    assert not problems, "\n".join(problems[:30])
    assert seen_keywords == lark_keywords(), "keywords no document exercises: add them to EXTRA"


def _declared_names(spec: S.Spec):
    """(span, scope prefix) of every name the grammar scopes by its declaration or use."""
    yield spec.span, "entity.name.namespace"
    for c in spec.consts:
        yield c.span, "variable.other.constant"
    for e in spec.enums:
        yield e.span, "entity.name.type.enum"
        for _, span in e.members:
            yield span, "variable.other.enummember"
    for m in spec.messages:
        yield m.span, "entity.name.type.message"
        for f in m.fields:
            yield f.span, "variable.parameter"
    for g in spec.ghosts:
        yield g.span, "variable.other.declaration"
    for r in spec.roles:
        yield r.span, "entity.name.type.role"
        for v in r.vars:
            yield v.span, "variable.other.declaration"
        for h in r.handlers:
            yield h.span, "entity.name.type.message"
        for a in r.actions:
            yield a.span, "entity.name.function.action"
    for f in (spec.faults or []) + [f for sc in spec.scenarios for f in sc.faults]:
        if f.role is not None:
            yield f.role[1], "entity.name.type.role"
    for sc in spec.scenarios:
        yield sc.span, "entity.name.function.scenario"
    for p in spec.invariants + spec.properties:
        yield p.span, "entity.name.function.property"
    for x in S.walk(spec):
        if isinstance(x, S.Send):
            yield x.message_span, "entity.name.type.message"
        elif isinstance(x, S.NamedTypeExpr):
            yield x.span, ("entity.name.type", "variable.other.constant")


def test_declared_names_get_their_scopes(tokens, documents):
    problems = []
    for name, text in documents.items():
        spec, _ = lexed(text)
        lines = text.split("\n")
        for span, prefix in _declared_names(spec):
            scopes = scopes_at(tokens[name], lines, span.line, span.column)
            if not any(s.startswith(prefix) for s in scopes):
                problems.append(f"{name}:{span.line}:{span.column} {lines[span.line - 1].strip()!r}: "
                                f"{scopes}, expected {prefix}")
    assert not problems, "\n".join(problems[:30])


def test_soft_keywords_are_names_outside_their_block():
    """`loss`, `delivery`, `max` are keywords only in their own block: a variable of
    that name elsewhere is not highlighted as one, and the block ends at its brace."""
    text = ("spec t\nrole A {\n  var loss: bool = false\n  var delivery: 0..2 = 0\n"
            "  action a when not loss { delivery = max({1, 2}) }\n}\nfaults { loss at most 1 }\n"
            "invariant i: true\n")
    lines = text.split("\n")
    (toks,) = tokenize({"t": text}).values()
    assert not any(s.startswith("keyword") for s in scopes_at(toks, lines, 5, 21))  # loss in the guard
    assert not any(s.startswith("keyword") for s in scopes_at(toks, lines, 5, 29))  # delivery =
    assert "support.function.builtin.ha" in scopes_at(toks, lines, 5, 40)  # max(
    assert "keyword.other.fault.ha" in scopes_at(toks, lines, 7, 10)  # loss at most 1
    assert "storage.type.property.ha" in scopes_at(toks, lines, 8, 1)  # after the faults block
