"""The in-process servers of a sandbox run: the synthetic exporter serving each scenario target's
series, the capture webhook every receiver posts to, and the loopback helpers (free ports, JSON
over HTTP, log tails) that the sandbox and the conformance tier share."""

from __future__ import annotations

import json
import socket
import threading
import time
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cfmon.errors import UserError
from cfmon.scenario import (
    exposition,
)

if TYPE_CHECKING:
    from cfmon.sandbox.plan import Plan

_PORTS_TAKEN: set[int] = set()  # handed out by this process (runs may go on side by side)
_PORTS_LOCK = threading.Lock()


def free_port(udp: bool = False) -> int:
    """A free loopback port (TCP, and UDP too for gossip), never the same twice in a process."""
    for _ in range(100):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if udp:
            try:
                with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u:
                    u.bind(("127.0.0.1", port))
            except OSError:
                continue
        with _PORTS_LOCK:
            if port not in _PORTS_TAKEN:
                _PORTS_TAKEN.add(port)
                return port
    raise UserError("no free loopback port found")


def _get_json(url: str, timeout: float = 2.0) -> Any:
    with urllib.request.urlopen(url, timeout=timeout) as resp:
        return json.loads(resp.read() or b"null")


def log_tail(path: Path | None, lines: int = 15) -> str:
    """The last `lines` lines of a process log, indented to follow an error message."""
    if path is None:
        return ""
    try:
        text = path.read_text(errors="replace").splitlines()
    except OSError:
        return ""
    return "\n    ".join(text[-lines:])


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        pass  # a client that hung up (Prometheus gave up on a slow scrape); it retries


class Exporter:
    """Serves each target's series at the current scenario step; stopped targets answer 503."""

    def __init__(self, plan: Plan) -> None:
        self.plan = plan
        self.t0: float | None = None
        self.stopped: set[tuple[str, str]] = set()
        exporter = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive: one connection per target, not per scrape

            def do_GET(self):
                status, body = exporter.serve(self.path.split("?", 1)[0])
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "text/plain; version=0.0.4")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except OSError:
                    self.close_connection = True  # Prometheus gave up on this scrape; it retries

            def log_message(self, *args):
                pass

        self.server = _Server(("127.0.0.1", plan.exporter_port), Handler)

    def serve(self, path: str) -> tuple[int, bytes]:
        entry = self.plan.targets.get(path)
        if entry is None:
            return 404, b"no such target\n"
        target, series = entry
        if (target.job, target.instance) in self.stopped:
            return 503, b"target stopped by the scenario\n"
        t0 = self.t0
        if t0 is None:
            return 200, b""  # up, no series yet: the timeline starts once everything runs
        scenario_ms = int((time.time() - t0) * 1000 * self.plan.speed)
        return 200, exposition(series, scenario_ms, round(t0 * 1000), self.plan.speed)


class Capture:
    """The webhook every receiver posts to: records (time, receiver, integration, payload)."""

    def __init__(self, port: int) -> None:
        self.received: list[tuple[float, str, str, dict]] = []
        self.lock = threading.Lock()
        capture = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                parts = [urllib.parse.unquote(p) for p in self.path.strip("/").split("/")]
                try:
                    payload = json.loads(body or b"{}")
                except json.JSONDecodeError:
                    payload = {"unreadable": body.decode(errors="replace")}
                with capture.lock:
                    capture.received.append(
                        (time.time(), parts[0], parts[1] if len(parts) > 1 else "", payload)
                    )
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"{}")

            def log_message(self, *args):
                pass

        self.server = _Server(("127.0.0.1", port), Handler)
