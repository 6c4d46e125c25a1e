"""The explorer's web server: the page, its script, and a small JSON API.

Why the standard library (`http.server.ThreadingHTTPServer`): the API is a handful
of read-only GETs that recompute everything from the path in the URL (session.py),
plus one POST that starts `verify` in a background thread; a web framework would add
a dependency to every install for no feature the page uses. The page is plain HTML,
CSS and JavaScript shipped as package data (static/), loading nothing from the net.

Safety: the server binds to 127.0.0.1 unless `--host` names another address, and
without `--host` it answers only loopback clients whose `Host:` header names a
loopback address (a web page elsewhere cannot reach it through DNS rebinding). Nothing
a request carries is executed: a path is a list of integers (which enabled step to
take), an expression is parsed and checked by the spec's own front end
(expression.py), and `verify` runs the model's own search.
"""
from __future__ import annotations

import ipaddress
import json
import threading
import time
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from urllib.parse import parse_qs, urlsplit

from .expression import evaluate, evaluate_invariant
from .session import PathError, Session

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8470
VERIFY_BUDGET, VERIFY_MAX = 30.0, 600.0  # seconds: the default and the largest time budget of a run from the page
_STATIC = {"index.html": "text/html; charset=utf-8", "explore.js": "text/javascript; charset=utf-8",
           "explore.css": "text/css; charset=utf-8"}
_MAX_QUERY = 16_384


def is_loopback(host: str) -> bool:
    """127.0.0.0/8, ::1, or the name localhost."""
    host = host.strip("[]")
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def static_text(name: str) -> str:
    return resources.files(__package__).joinpath("static").joinpath(name).read_text("utf-8")


@dataclass
class VerifyRun:
    """One `verify` started from the page, running in a background thread."""

    number: int
    budget: float
    running: bool = True
    started: float = field(default_factory=time.monotonic)
    verdict: str | None = None  # holds | violated | incomplete | error
    summary: str | None = None  # verify's summary line, or the error
    path: list[int] | None = None  # the counterexample as a path of the explorer's model
    note: str | None = None  # why the counterexample could not be followed to its end

    def json(self) -> dict:
        return {"number": self.number, "running": self.running, "budget": self.budget,
                "seconds": round(time.monotonic() - self.started, 1), "verdict": self.verdict,
                "summary": self.summary, "path": self.path, "note": self.note}


class Explorer:
    """What the handler serves: the session, the page, and the `verify` runs."""

    def __init__(self, session: Session, explicit_host: bool):
        self.session = session
        self.explicit_host = explicit_host
        self.run: VerifyRun | None = None
        self._runs = 0
        self._lock = threading.Lock()

    def info(self) -> dict:
        s = self.session
        from ..report.text import fault_summary
        return {"spec": s.spec.name, "file": s.spec.path, "consts": s.spec.consts,
                "faults": fault_summary(s.model), "scenario": s.scenario, "no_faults": s.no_faults,
                "invariants": [i.name for i in s.model.invariants],
                "properties": [p.name for p in s.model.properties],
                "trace": None if s.trace_path is None else {"path": s.trace_path, "note": s.trace_note},
                "verify_budget": VERIFY_BUDGET, "verify_max": VERIFY_MAX}

    def start_verify(self, budget: float) -> VerifyRun:
        with self._lock:
            if self.run is not None and self.run.running:
                return self.run
            self._runs += 1
            run = self.run = VerifyRun(self._runs, budget)
        threading.Thread(target=self._verify, args=(run,), daemon=True, name="modelcheck-verify").start()
        return run

    def _verify(self, run: VerifyRun) -> None:
        from .. import api
        s = self.session
        try:
            v = api.verify(s.spec, scenario=s.scenario, no_faults=s.no_faults, timeout=run.budget)
            run.verdict, run.summary = v.verdict, v.summary()
            if v.result.violation is not None:
                run.path, run.note = s.path_of_result(v.result, v.model)
        except Exception as err:  # noqa: BLE001 - reported on the page, never a traceback
            run.verdict, run.summary = "error", f"{type(err).__name__}: {err}"
        finally:
            run.running = False


def _path(query: dict) -> list[int]:
    """`path=3.0.5`: the successor index taken at each step ("" or absent: none)."""
    text = query.get("path", [""])[0].strip()
    if not text:
        return []
    parts = text.split(".")
    if not all(p.isascii() and p.isdigit() and len(p) <= 6 for p in parts):
        raise PathError(f"path={text[:40]} is not step numbers separated by dots (e.g. path=3.0.5)")
    return [int(p) for p in parts]


def _at(query: dict) -> int | None:
    text = query.get("at", [""])[0].strip()
    if not text:
        return None
    if not (text.isascii() and text.isdigit() and len(text) <= 6):
        raise PathError(f"at={text[:40]} is not a step number")
    return int(text)


class Handler(BaseHTTPRequestHandler):
    server_version = "modelcheck-explore"
    explorer: Explorer  # set on the class made by make_server

    def log_message(self, format, *args) -> None:  # noqa: A002 - the base class's name
        pass  # the terminal shows the URL and nothing per request

    # ---- replies ----
    def _send(self, status: int, body: bytes, ctype: str, extra: dict | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Content-Type-Options", "nosniff")
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _json(self, doc, status: int = 200, extra: dict | None = None) -> None:
        self._send(status, (json.dumps(doc, indent=1) + "\n").encode(), "application/json; charset=utf-8", extra)

    def _error(self, status: int, message: str) -> None:
        self._json({"error": message}, status)

    def _allowed(self) -> bool:
        """Without an explicit --host: loopback clients naming a loopback host only."""
        if self.explorer.explicit_host:
            return True
        host = self.headers.get("Host", "")
        name = host.rsplit(":", 1)[0] if not host.endswith("]") else host
        if is_loopback(self.client_address[0]) and is_loopback(name):
            return True
        self._error(HTTPStatus.FORBIDDEN, f"refused: host {host or '(none)'} is not a loopback address; "
                                          "`modelcheck explore --host ADDRESS` serves other hosts")
        return False

    # ---- routes ----
    def do_HEAD(self) -> None:
        self.do_GET()

    def do_GET(self) -> None:
        if not self._allowed():
            return
        url = urlsplit(self.path)
        if len(url.query) > _MAX_QUERY:
            return self._error(HTTPStatus.REQUEST_URI_TOO_LONG, "the request is too long")
        query = parse_qs(url.query)
        ex, s = self.explorer, self.explorer.session
        try:
            if url.path in ("/", "/index.html"):
                return self._send(200, static_text("index.html").encode(), _STATIC["index.html"])
            if url.path.startswith("/static/") and url.path[8:] in _STATIC:
                name = url.path[8:]
                return self._send(200, static_text(name).encode(), _STATIC[name])
            if url.path == "/api/info":
                return self._json(ex.info())
            if url.path == "/api/state":
                return self._json(s.view(_path(query), _at(query)))
            if url.path == "/api/diagram":
                return self._send(200, _diagram_page(s, _path(query), _width(query)).encode(),
                                  _STATIC["index.html"])
            if url.path == "/api/export":
                doc = s.export(_path(query))
                name = f"{s.spec.name}.trace.json"
                return self._json(doc, extra={"Content-Disposition": f'attachment; filename="{name}"'})
            if url.path == "/api/eval":
                w = s.walk(_path(query)[:_at(query)] if _at(query) is not None else _path(query))
                if "invariant" in query:
                    return self._json(evaluate_invariant(s.model, query["invariant"][0], w.states[-1]).json())
                return self._json(evaluate(s.model, query.get("expr", [""])[0], w.states[-1]).json())
            if url.path == "/api/verify":
                return self._json(ex.run.json() if ex.run is not None else None)
        except PathError as err:
            return self._error(HTTPStatus.BAD_REQUEST, str(err))
        return self._error(HTTPStatus.NOT_FOUND, f"no such page: {url.path}")

    def do_POST(self) -> None:
        if not self._allowed():
            return
        url = urlsplit(self.path)
        if url.path != "/api/verify":
            return self._error(HTTPStatus.NOT_FOUND, f"no such page: {url.path}")
        # JSON only: a form on another site cannot send it without the browser asking first
        if not self.headers.get("Content-Type", "").startswith("application/json"):
            return self._error(HTTPStatus.UNSUPPORTED_MEDIA_TYPE, "send JSON: {\"timeout\": SECONDS}")
        length = int(self.headers.get("Content-Length") or 0)
        try:
            body = json.loads(self.rfile.read(min(length, 4096)) or b"{}")
            budget = float(body.get("timeout", VERIFY_BUDGET)) if isinstance(body, dict) else VERIFY_BUDGET
        except (ValueError, TypeError):
            return self._error(HTTPStatus.BAD_REQUEST, "send JSON: {\"timeout\": SECONDS}")
        if not 0 < budget <= VERIFY_MAX:
            return self._error(HTTPStatus.BAD_REQUEST, f"timeout must be more than 0 and at most {VERIFY_MAX:g} s")
        self._json(self.explorer.start_verify(budget).json(), HTTPStatus.ACCEPTED)


def _diagram_page(session: Session, path: list[int], width: float | None) -> str:
    """The path as the report's sequence diagram (report/diagram.py), with its key, as
    a page of its own: the explorer shows it in a frame, so the diagram's stylesheet
    and script apply to it alone and run on each new path."""
    from ..report.diagram import esc, legend
    svg, css, script = session.diagram(path, width)
    return ("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
            f"<title>{esc(session.spec.name)}: the path</title>\n<style>\n{css}</style>\n"
            "<style>body { margin:0; background:#fff; font:14px/1.45 system-ui,sans-serif; } "
            ".diagram { overflow-x:auto; }</style>\n</head>\n"
            f"<body>\n{legend()}\n<div class=\"diagram\">{svg}</div>\n<script>\n{script}</script>\n</body>\n</html>\n")


def _width(query: dict) -> float | None:
    """`width=N`: the frame's width in px (the diagram spreads its lanes over it)."""
    text = query.get("width", [""])[0]
    return float(min(max(int(text), 400), 4000)) if text.isascii() and text.isdigit() and len(text) <= 5 else None


def make_server(session: Session, host: str, port: int, explicit_host: bool) -> ThreadingHTTPServer:
    """The server, bound (raises OSError when the address cannot be used)."""
    handler = type("ExploreHandler", (Handler,), {"explorer": Explorer(session, explicit_host)})
    family_v6 = ":" in host
    cls = type("ExploreServer", (ThreadingHTTPServer,), {"daemon_threads": True, "allow_reuse_address": True})
    if family_v6:
        import socket
        cls.address_family = socket.AF_INET6
    return cls((host, port), handler)


def url_of(server: ThreadingHTTPServer, host: str) -> str:
    port = server.server_address[1]
    shown = "127.0.0.1" if host in ("", "0.0.0.0") else host
    shown = f"[{shown}]" if ":" in shown else shown
    return f"http://{shown}:{port}/"
