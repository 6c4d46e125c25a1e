"""`modelcheck lsp`: the language server, over stdio, on pygls.

A thin layer: it keeps each open document's latest `Analysis` (analysis.py) and
translates between it and the protocol (1-based character columns to the client's
0-based UTF-16 positions, `Diagnostic` to the protocol's diagnostics).

Analysis runs off the event loop, on one worker thread (the parser's lexer keeps
state, so two parses must never overlap), a short while after the last edit: a
burst of keystrokes costs one analysis, and hover and completion stay responsive
while the lint's z3 checks run. Errors are published as soon as parsing and
checking find them; a spec that type-checks is published with the lint's warnings
once they are known, so warnings do not flicker off and on while typing.
"""
from __future__ import annotations

import asyncio
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from lsprotocol import types as T
from pygls.lsp.server import LanguageServer
from pygls.workspace import TextDocument

from .. import __version__
from ..lang.diagnostics import Diagnostic, Span
from .analysis import Analysis, Completion, analyze, completions, hover_markdown, lint_warnings

DEBOUNCE_SECONDS = 0.3  # after the last edit; opening or saving a file analyses at once

SEVERITIES = {"error": T.DiagnosticSeverity.Error, "warning": T.DiagnosticSeverity.Warning,
              "note": T.DiagnosticSeverity.Information}

COMPLETION_KINDS = {
    "variable": T.CompletionItemKind.Variable, "ghost": T.CompletionItemKind.Variable,
    "local": T.CompletionItemKind.Variable, "localvar": T.CompletionItemKind.Variable,
    "parameter": T.CompletionItemKind.Variable, "const": T.CompletionItemKind.Constant,
    "enum": T.CompletionItemKind.Enum, "member": T.CompletionItemKind.EnumMember,
    "role": T.CompletionItemKind.Class, "message": T.CompletionItemKind.Struct,
    "builtin": T.CompletionItemKind.Function, "keyword": T.CompletionItemKind.Keyword,
    "type": T.CompletionItemKind.TypeParameter,
}


@dataclass
class _Document:
    """What the server knows of one open document."""

    analysis: Analysis | None = None  # of the latest version analysed
    parsed: Analysis | None = None  # the latest analysis whose text parsed (for names while the text does not)
    task: asyncio.Task | None = None
    waiting: list = field(default_factory=list)  # futures resolved when the next analysis is stored


class HaLanguageServer(LanguageServer):
    def __init__(self) -> None:
        super().__init__("modelcheck", __version__)
        self.documents: dict[str, _Document] = {}
        self.pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="modelcheck-analysis")

    def schedule(self, uri: str, delay: float) -> None:
        """Analyse the document `delay` seconds from now, replacing a pending analysis."""
        state = self.documents.setdefault(uri, _Document())
        if state.task is not None and not state.task.done():
            state.task.cancel()
        state.task = asyncio.ensure_future(self._analyse(uri, delay))

    async def _analyse(self, uri: str, delay: float) -> None:
        await asyncio.sleep(delay)
        doc = self.workspace.get_text_document(uri)
        version, text = doc.version, doc.source
        loop = asyncio.get_running_loop()
        analysis = await loop.run_in_executor(self.pool, _guarded, analyze, doc.path or uri, text)
        if self.workspace.get_text_document(uri).version != version:
            return
        state = self.documents.setdefault(uri, _Document())
        for fut in state.waiting:
            if not fut.done():
                fut.set_result(analysis)
        state.waiting.clear()
        if analysis is None:  # a bug in modelcheck, written to the server's log: no answer for this version
            return
        state.analysis = analysis
        if analysis.spec is not None:
            state.parsed = analysis
        if analysis.diagnostics or analysis.checked is None:
            self.publish(uri, version, analysis, analysis.diagnostics)
            return
        found = await loop.run_in_executor(self.pool, _guarded, lint_warnings, analysis)
        if found is not None and self.workspace.get_text_document(uri).version == version:
            warnings, notes = found
            self.publish(uri, version, analysis, warnings + notes)

    def publish(self, uri: str, version, analysis: Analysis, diagnostics: list[Diagnostic]) -> None:
        doc = self.workspace.get_text_document(uri)
        self.text_document_publish_diagnostics(T.PublishDiagnosticsParams(
            uri=uri, version=version, diagnostics=[to_protocol(doc, analysis, d) for d in diagnostics]))

    async def analysis(self, uri: str, parsed: bool = False) -> Analysis | None:
        """The document's latest analysis (with `parsed`, the latest whose text parsed),
        waiting for the first one when none is stored yet."""
        state = self.documents.setdefault(uri, _Document())
        if state.analysis is None:
            fut = asyncio.get_running_loop().create_future()
            state.waiting.append(fut)
            if state.task is None or state.task.done():
                self.schedule(uri, 0)
            try:
                await asyncio.wait_for(fut, timeout=30)
            except asyncio.TimeoutError:
                return None
        return state.parsed if parsed else state.analysis


def _guarded(function, *args):
    """function(*args), or None after writing an internal error to stderr (the editor's
    server log): as on the command line, a bug in modelcheck must not end the session."""
    try:
        return function(*args)
    except Exception as err:  # noqa: BLE001
        sys.stderr.write(f"modelcheck lsp: internal error: {type(err).__name__}: {err}\n"
                         "This is a bug in modelcheck, not in your spec; please report it with the spec.\n")
        return None


def to_protocol(doc: TextDocument, analysis: Analysis, d: Diagnostic) -> T.Diagnostic:
    message = d.message + (f"\nhint: {d.hint}" if d.hint else "")
    return T.Diagnostic(range=to_range(doc, analysis, d.span), message=message,
                        severity=SEVERITIES.get(d.severity, T.DiagnosticSeverity.Error),
                        code=d.code or None, source="modelcheck")


def to_range(doc: TextDocument, analysis: Analysis, span: Span) -> T.Range:
    """A Span (1-based, columns in characters) as the client's 0-based range."""
    if not span.line:
        return T.Range(start=T.Position(line=0, character=0), end=T.Position(line=0, character=0))

    def position(line: int, column: int) -> T.Position:
        if analysis.bom and line == 1:
            column += 1
        return doc.position_codec.position_to_client_units(
            doc.lines, T.Position(line=line - 1, character=max(column - 1, 0)))

    start = position(span.line, span.column)
    end = position(span.end_line or span.line, span.end_column or span.column)
    if (end.line, end.character) <= (start.line, start.character):
        end = T.Position(line=start.line, character=start.character + 1)
    return T.Range(start=start, end=end)


def from_position(doc: TextDocument, analysis: Analysis | None, pos: T.Position) -> tuple[int, int]:
    """The client's position as (line, column) of the analysed text, 1-based."""
    p = doc.position_codec.position_from_client_units(doc.lines, T.Position(line=pos.line, character=pos.character))
    column = p.character + 1
    if analysis is not None and analysis.bom and p.line == 0:
        column -= 1
    return p.line + 1, column


def build_server() -> HaLanguageServer:
    server = HaLanguageServer()

    @server.feature(T.TEXT_DOCUMENT_DID_OPEN)
    def did_open(ls: HaLanguageServer, params: T.DidOpenTextDocumentParams) -> None:
        ls.schedule(params.text_document.uri, 0)

    @server.feature(T.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(ls: HaLanguageServer, params: T.DidChangeTextDocumentParams) -> None:
        ls.schedule(params.text_document.uri, DEBOUNCE_SECONDS)

    @server.feature(T.TEXT_DOCUMENT_DID_SAVE)
    def did_save(ls: HaLanguageServer, params: T.DidSaveTextDocumentParams) -> None:
        ls.schedule(params.text_document.uri, 0)

    @server.feature(T.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(ls: HaLanguageServer, params: T.DidCloseTextDocumentParams) -> None:
        uri = params.text_document.uri
        state = ls.documents.pop(uri, None)
        if state is not None and state.task is not None:
            state.task.cancel()
        ls.text_document_publish_diagnostics(T.PublishDiagnosticsParams(uri=uri, diagnostics=[]))

    @server.feature(T.TEXT_DOCUMENT_HOVER)
    async def hover(ls: HaLanguageServer, params: T.HoverParams) -> T.Hover | None:
        analysis = await ls.analysis(params.text_document.uri, parsed=True)
        if analysis is None:
            return None
        doc = ls.workspace.get_text_document(params.text_document.uri)
        sym = analysis.symbol_at(*from_position(doc, analysis, params.position))
        if sym is None:
            return None
        return T.Hover(contents=T.MarkupContent(kind=T.MarkupKind.Markdown, value=hover_markdown(analysis, sym)),
                       range=to_range(doc, analysis, sym.span))

    @server.feature(T.TEXT_DOCUMENT_DEFINITION)
    async def definition(ls: HaLanguageServer, params: T.DefinitionParams) -> T.Location | None:
        analysis = await ls.analysis(params.text_document.uri, parsed=True)
        if analysis is None:
            return None
        doc = ls.workspace.get_text_document(params.text_document.uri)
        sym = analysis.symbol_at(*from_position(doc, analysis, params.position))
        if sym is None or sym.decl is None:
            return None
        return T.Location(uri=params.text_document.uri, range=to_range(doc, analysis, sym.decl))

    @server.feature(T.TEXT_DOCUMENT_COMPLETION, T.CompletionOptions(trigger_characters=["."]))
    async def completion(ls: HaLanguageServer, params: T.CompletionParams) -> T.CompletionList:
        analysis = await ls.analysis(params.text_document.uri, parsed=True)
        doc = ls.workspace.get_text_document(params.text_document.uri)
        line, column = from_position(doc, analysis, params.position)
        text = doc.lines[line - 1].rstrip("\r\n") if line - 1 < len(doc.lines) else ""
        items = [_item(c, i) for i, c in enumerate(completions(analysis, text, line, column))]
        return T.CompletionList(is_incomplete=False, items=items)

    return server


def _item(c: Completion, rank: int) -> T.CompletionItem:
    return T.CompletionItem(label=c.label, kind=COMPLETION_KINDS.get(c.kind, T.CompletionItemKind.Text),
                            detail=c.detail, sort_text=f"{rank:04d}")


def serve() -> None:
    """Serve on stdin/stdout until the client says exit. Anything else printed to stdout
    would corrupt the protocol, so stdout is pointed at stderr while the server runs."""
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    sys.stdout = sys.stderr
    build_server().start_io(stdin, stdout)
