"""`modelcheck lsp`, end to end: a real server process spoken to over stdio by pygls'
client, as an editor would. Diagnostics must be the very ones the checker and the
lint make (codes, messages, positions), and hover, go-to-definition and completion
must answer from the checker's view of the names."""
from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from contextlib import asynccontextmanager
from pathlib import Path

from lsprotocol import types as T
from pygls.lsp.client import LanguageClient

from conftest import ROOT
from modelcheck.lang.checker import check
from modelcheck.lang.diagnostics import Source, SpecError
from modelcheck.lang.parser import parse

WAIT = 60  # seconds: generous, for a loaded 2-core CI machine
NAIVE = ROOT / "specs" / "naive_failover.ha"


class Session:
    """A spawned `modelcheck lsp` and the diagnostics it has published, per document."""

    def __init__(self, client: LanguageClient):
        self.client = client
        self.published: asyncio.Queue = asyncio.Queue()

    def open(self, path: Path, text: str, version: int = 1) -> str:
        uri = path.as_uri()
        self.client.text_document_did_open(T.DidOpenTextDocumentParams(
            text_document=T.TextDocumentItem(uri=uri, language_id="ha", version=version, text=text)))
        return uri

    def replace(self, uri: str, text: str, version: int) -> None:
        self.client.text_document_did_change(T.DidChangeTextDocumentParams(
            text_document=T.VersionedTextDocumentIdentifier(uri=uri, version=version),
            content_changes=[T.TextDocumentContentChangeWholeDocument(text=text)]))

    async def diagnostics(self, uri: str, version: int) -> list[T.Diagnostic]:
        """The diagnostics published for this version of the document (earlier ones skipped)."""
        while True:
            params = await asyncio.wait_for(self.published.get(), WAIT)
            if params.uri == uri and params.version == version:
                return list(params.diagnostics)

    async def hover(self, uri: str, line: int, character: int) -> T.Hover | None:
        return await asyncio.wait_for(self.client.text_document_hover_async(T.HoverParams(
            text_document=T.TextDocumentIdentifier(uri=uri), position=T.Position(line=line, character=character))), WAIT)

    async def definition(self, uri: str, line: int, character: int):
        return await asyncio.wait_for(self.client.text_document_definition_async(T.DefinitionParams(
            text_document=T.TextDocumentIdentifier(uri=uri), position=T.Position(line=line, character=character))), WAIT)

    async def completion(self, uri: str, line: int, character: int) -> list[str]:
        result = await asyncio.wait_for(self.client.text_document_completion_async(T.CompletionParams(
            text_document=T.TextDocumentIdentifier(uri=uri), position=T.Position(line=line, character=character))), WAIT)
        items = result.items if isinstance(result, T.CompletionList) else result
        return [i.label for i in items]


@asynccontextmanager
async def server():
    client = LanguageClient("modelcheck-tests", "1")
    session = Session(client)

    @client.feature(T.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    def published(params: T.PublishDiagnosticsParams) -> None:
        session.published.put_nowait(params)

    await client.start_io(sys.executable, "-m", "modelcheck", "lsp", cwd=str(ROOT))
    try:
        result = await asyncio.wait_for(client.initialize_async(T.InitializeParams(
            capabilities=T.ClientCapabilities(), process_id=os.getpid(), root_uri=ROOT.as_uri())), WAIT)
        assert result.capabilities.hover_provider and result.capabilities.definition_provider
        assert result.capabilities.completion_provider is not None
        client.initialized(T.InitializedParams())
        yield session
        await asyncio.wait_for(client.shutdown_async(None), WAIT)
        client.exit(None)
    finally:
        proc = client._server  # after a failure the server was told nothing: end it
        if proc is not None and proc.returncode is None:
            try:
                await asyncio.wait_for(proc.wait(), 5)
            except asyncio.TimeoutError:
                proc.kill()
        await client.stop()


def checker_diagnostics(text: str):
    try:
        check(parse(Source("t.ha", text)))
    except SpecError as err:
        return err.diagnostics
    return []


def line_of(text: str, needle: str) -> tuple[int, int]:
    """0-based (line, character) of the first occurrence of `needle`."""
    for i, line in enumerate(text.split("\n")):
        if needle in line:
            return i, line.index(needle)
    raise AssertionError(needle)


BROKEN = """spec broken
const N = 2
message Ping(n: 0..N)
role Server[N] {
  var leader: bool = false
  action a when not leadr { send Ping(true) to Server[0] }
  on Ping(n) { leader = n }
}
invariant i: count(s in Server where s.leader) <= 1
"""

WARNED = """spec warned
message Ping()
message Pong()
role Server[2] {
  var unread: 0..1 = 0
  var pinged: bool = false
  action a when not pinged { pinged = true; unread = 1; send Ping() to Server[1] }
  on Pong() { pinged = false }
}
invariant i: true
"""


def test_diagnostics_as_you_type(tmp_path):
    async def run():
        async with server() as s:
            uri = s.open(tmp_path / "t.ha", BROKEN)
            got = await s.diagnostics(uri, 1)
            want = checker_diagnostics(BROKEN)
            assert len(want) >= 3
            assert [(d.code, d.range.start.line + 1, d.range.start.character + 1, d.range.end.character + 1)
                    for d in got] == [(d.code, d.span.line, d.span.column, d.span.end_column) for d in want]
            assert all(d.severity == T.DiagnosticSeverity.Error and d.source == "modelcheck" for d in got)
            assert got[0].message.startswith("unknown name 'leadr' (did you mean 'leader'?)")

            s.replace(uri, "spec broken\nrole A {\n  var x: bool = \n}\n", 2)  # a syntax error
            (syntax,) = await s.diagnostics(uri, 2)
            assert syntax.code == "E001" and syntax.range.start.line == 3

            s.replace(uri, WARNED, 3)  # type-checks: the lint's warnings arrive
            warned = await s.diagnostics(uri, 3)
            codes = sorted(d.code for d in warned)
            assert "W103" in codes and "W104" in codes and "W105" in codes, codes
            assert all(d.severity == T.DiagnosticSeverity.Warning for d in warned)
            w105 = next(d for d in warned if d.code == "W105")
            assert (w105.range.start.line, w105.range.start.character) == line_of(WARNED, "unread:")

            s.replace(uri, NAIVE.read_text(), 4)  # clean: the warnings are cleared
            assert await s.diagnostics(uri, 4) == []

    asyncio.run(run())


def test_hover_definition_and_completion():
    text = NAIVE.read_text()

    async def run():
        async with server() as s:
            uri = s.open(NAIVE, text)
            assert await s.diagnostics(uri, 1) == []

            line, col = line_of(text, "silence < SILENCE")
            hover = await s.hover(uri, line, col + 2)
            assert "var silence: 0..SILENCE = 0" in hover.contents.value
            assert "variable of role Server" in hover.contents.value and "`0..2`" in hover.contents.value
            hover = await s.hover(uri, line, col + len("silence < ") + 1)
            assert "const SILENCE = 2" in hover.contents.value

            want = {  # a use -> its declaration's line
                ("silence < SILENCE", 0): "var silence",
                ("silence < SILENCE", len("silence < ")): "const SILENCE",
                ("broadcast Heartbeat", len("broadcast ")): "message Heartbeat",
                ("on Heartbeat", len("on ")): "message Heartbeat",
                ("s in Server where", len("s in ")): "role Server",
                ("s.primary", len("s.")): "var primary",
            }
            for (needle, offset), decl in want.items():
                line, col = line_of(text, needle)
                loc = await s.definition(uri, line, col + offset + 1)
                assert loc is not None, needle
                loc = loc[0] if isinstance(loc, list) else loc
                dline, dcol = line_of(text, decl)
                assert loc.uri == uri and loc.range.start.line == dline, (needle, loc)
                assert loc.range.start.character == dcol + len(decl.split()[0]) + 1, (needle, loc)

            line, col = line_of(text, "silence += 1")  # inside an action of Server
            labels = await s.completion(uri, line, col)
            assert {"primary", "silence", "SILENCE", "Server", "len"} <= set(labels)
            assert "if" in labels  # keywords come after names
            assert labels.index("silence") < labels.index("if")
            line, col = line_of(text, "broadcast Heartbeat")
            assert await s.completion(uri, line, col + len("broadcast ")) == ["Heartbeat"]
            line, col = line_of(text, "s.primary")
            assert await s.completion(uri, line, col + 2) == ["primary", "silence"]

    asyncio.run(run())


def test_lsp_without_pygls_says_how_to_install_it():
    code = ("import sys; sys.modules['pygls'] = None; sys.argv = ['modelcheck', 'lsp']\n"
            "from modelcheck.entry import main; main()")
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=WAIT,
                          stdin=subprocess.DEVNULL)
    assert proc.returncode == 2
    assert "pip install 'modelcheck[lsp]'" in proc.stderr
    assert "Traceback" not in proc.stderr and proc.stdout == ""
