"""The real servers and exporters of the conformance tier, on loopback, in one temporary directory.

PostgreSQL, Redis, NGINX (with stub_status) and RabbitMQ (with its rabbitmq_prometheus and
management plugins) run next to the exporters that read them: postgres-exporter, redis-exporter,
nginx-prometheus-exporter and node-exporter (the chart's own arguments, minus the host paths of a
pod). Every process:

- listens on 127.0.0.1 only, on a free port, with its files under the run's directory;
- runs as a non-root user through `setpriv`: `postgres` and `rabbitmq` (the users their packages
  create; both servers refuse root or need their own user's files) and `nobody` for the rest;
- is started through cfmon.binaries (own process group, killed if cfmon dies) and stopped by its own
  PID with the signal its server shuts down cleanly on, then SIGKILL after a bounded wait;
- is awaited with a bounded readiness check; a process that exits or never gets ready is reported
  with the tail of its log.

Erlang's port mapper (epmd) would otherwise be started by the broker as a daemon, listening on
every interface and outliving the run: it is started here instead, in the foreground on a loopback
port, and stopped like the rest.
"""

from __future__ import annotations

import contextlib
import glob
import http.client
import json
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import time
import urllib.request
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cfmon import binaries
from cfmon.errors import ToolMissing, UserError
from cfmon.sandbox import free_port, log_tail

READY_TIMEOUT_S = 90.0  # RabbitMQ boots in ~10 s on an idle machine; CI machines are slower
STOP_TIMEOUT_S = 20.0
LOG_LINES = 20  # of a failed server's log, in the error
RABBITMQ_BASE = "/usr/lib/rabbitmq"
ERLANG_BIN = "/usr/lib/erlang/bin"
UNPRIVILEGED = "nobody"
INSTALL_HINT = "run tools/install-deps as root (it installs postgresql and rabbitmq-server with apt-get)"


@dataclass
class Proc:
    """One running server or exporter."""

    name: str
    port: int
    argv: list[str]
    user: str | None
    env: dict[str, str]
    ready: Callable[[], str | None]  # None when ready, else what is still missing
    stop_signal: int = signal.SIGTERM
    proc: subprocess.Popen[bytes] | None = None
    log: Path | None = None

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None


def _as_user(user: str | None, argv: list[str]) -> list[str]:
    if user is None:
        return argv
    # The parent-death signal is cleared by a change of user: setpriv sets it again. The group is
    # the user's primary group (nobody's is nogroup).
    gid = pwd.getpwnam(user).pw_gid
    return ["setpriv", f"--reuid={user}", f"--regid={gid}", "--init-groups", "--pdeathsig=TERM", "--", *argv]


def closed_to_others(path: Path) -> Path | None:
    """The first directory from `/` down to `path` that users other than its owner may not enter
    (no o+x), or None: a private parent (a `mktemp -d` directory, say) hides everything below it."""
    for folder in [*reversed(path.absolute().parents), path.absolute()]:
        if folder.is_dir() and not folder.stat().st_mode & 0o001:
            return folder
    return None


def _chown(path: Path, user: str) -> None:
    pw = pwd.getpwnam(user)
    for dirpath, _dirnames, filenames in os.walk(path):
        os.chown(dirpath, pw.pw_uid, pw.pw_gid)
        for name in filenames:
            os.chown(os.path.join(dirpath, name), pw.pw_uid, pw.pw_gid)


def _user_exists(user: str) -> bool:
    try:
        pwd.getpwnam(user)
    except KeyError:
        return False
    return True


def _http_ok(url: str) -> str | None:
    try:
        with urllib.request.urlopen(url, timeout=2) as resp:
            return None if resp.status == 200 else f"HTTP {resp.status}"
    except OSError as exc:
        return str(exc)


def _tcp_ok(port: int) -> str | None:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return None
    except OSError as exc:
        return str(exc)


def postgres_bin() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/postgres"), key=lambda p: int(p.split("/")[4]))
    if not found:
        raise ToolMissing(
            "PostgreSQL (/usr/lib/postgresql/*/bin/postgres) is not installed", hint=INSTALL_HINT
        )
    return Path(found[-1]).parent


def rabbitmq_version() -> str:
    found = sorted(glob.glob(f"{RABBITMQ_BASE}/lib/rabbitmq_server-*"))
    if not found or not Path(f"{RABBITMQ_BASE}/bin/rabbitmq-server").exists():
        raise ToolMissing(f"RabbitMQ ({RABBITMQ_BASE}) is not installed", hint=INSTALL_HINT)
    return found[-1].rsplit("-", 1)[1]


def _version(argv: list[str], pattern: str) -> str:
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=30)
    m = re.search(pattern, proc.stdout + proc.stderr)
    return m.group(1) if m else "unknown"


class Servers:
    """Starts what is asked, keeps each process, stops them all in close() (use it as a context
    manager). `start()` launches without waiting; `wait()` waits for readiness."""

    def __init__(self, workdir: Path, log: Callable[[str], None] | None = None) -> None:
        if not shutil.which("setpriv"):
            raise ToolMissing("setpriv (util-linux) is needed to run the servers as their own users")
        if os.geteuid() != 0:
            raise UserError(
                "the conformance servers run as their own users through setpriv, which needs root",
                hint="run as root (CI does)",
            )
        closed = closed_to_others(binaries._tools_bin())
        if closed is not None:
            raise UserError(
                f"{closed} is closed to other users (mode {closed.stat().st_mode & 0o777:o}): the servers "
                "run as their own users and could not reach the pinned binaries below it",
                hint=f"`chmod o+x {closed}`, or clone the repository into a directory others may enter",
            )
        self.workdir = workdir
        workdir.mkdir(parents=True, exist_ok=True)
        # The servers' users must reach their own directories below this one.
        workdir.chmod(0o755)
        self.logs = workdir / "logs"
        self.logs.mkdir(parents=True, exist_ok=True)
        self.say = log or (lambda _m: None)
        self.procs: dict[str, Proc] = {}
        self.versions: dict[str, str] = {}
        self.server_versions: dict[str, str] = {}

    # -- life cycle
    def __enter__(self) -> Servers:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def _launch(self, p: Proc) -> Proc:
        p.log = self.logs / f"{p.name}.log"
        p.proc = binaries.spawn(_as_user(p.user, p.argv), log=p.log, env=p.env)
        self.procs[p.name] = p
        return p

    def wait(self, *names: str, timeout: float = READY_TIMEOUT_S) -> None:
        """Wait until each named process answers (bounded); a process that exits is an error."""
        deadline = time.time() + timeout
        for name in names:
            p = self.procs[name]
            last = "not started"
            while True:
                if not p.running:
                    code = p.proc.returncode if p.proc else None
                    raise UserError(
                        f"{name} exited (code {code}) before it was ready; its log ends:\n    "
                        f"{log_tail(p.log, LOG_LINES)}",
                        hint=f"fix what the log says; the command was: {' '.join(p.argv)}",
                    )
                try:
                    problem = p.ready()
                except (OSError, ValueError) as exc:
                    problem = str(exc)
                if problem is None:
                    break
                last = problem
                if time.time() > deadline:
                    raise UserError(
                        f"{name} not ready after {timeout:.0f}s ({last}); its log ends:\n    "
                        f"{log_tail(p.log, LOG_LINES)}",
                        hint=f"fix what the log says; the command was: {' '.join(p.argv)}",
                    )
                time.sleep(0.1)

    def stop(self, name: str) -> None:
        p = self.procs.get(name)
        if p is not None and p.proc is not None:
            with contextlib.suppress(OSError):
                binaries.stop(p.proc, timeout=STOP_TIMEOUT_S, sig=p.stop_signal)

    def restart(self, name: str) -> None:
        """Start a stopped process again, same port, same data."""
        p = self.procs[name]
        self.stop(name)
        self._launch(p)
        self.wait(name)

    def close(self) -> None:
        # Exporters first (they hold connections to the servers), epmd last (the broker uses it).
        # Within a stage the processes are independent: they are stopped side by side (each by its
        # own PID, each wait bounded), so the slowest shutdown sets the time, not the sum.
        stages: dict[int, list[str]] = {}
        for name in self.procs:
            stages.setdefault(2 if name == "epmd" else 0 if name.endswith("exporter") else 1, []).append(name)
        for _, names in sorted(stages.items()):
            with ThreadPoolExecutor(len(names)) as pool:
                list(pool.map(self.stop, names))

    def url(self, name: str, path: str = "/metrics") -> str:
        return f"http://127.0.0.1:{self.procs[name].port}{path}"

    def _dir(self, name: str, user: str) -> Path:
        d = self.workdir / name
        d.mkdir(parents=True, exist_ok=True)
        _chown(d, user)
        return d

    # -- exporters (pinned, from .tools/bin)
    def _exporter(self, name: str, tool: str, args: list[str], env: dict[str, str] | None = None) -> Proc:
        path = binaries.require(tool)
        self.versions[name] = binaries.probe(tool).version or "unknown"
        port = free_port()
        argv = [path, f"--web.listen-address=127.0.0.1:{port}", *args]
        return self._launch(
            Proc(
                name,
                port,
                argv,
                UNPRIVILEGED,
                env or {},
                lambda: _http_ok(f"http://127.0.0.1:{port}/metrics"),
            )
        )

    def start_node_exporter(self, chart_args: list[str] = ()) -> Proc:
        """node-exporter with the chart's arguments, minus what only makes sense in its pod (the
        host's /proc, /sys and / mounted under /host, the listen address); its textfile directory
        (a host folder the pod mounts) is an empty folder of its own here, as on a host where no
        job has written a metrics file yet (a missing folder is a collector error)."""
        kept = [a for a in chart_args if not a.startswith(("--path.", "--web.listen-address"))]
        textfile = "--collector.textfile.directory="
        if any(a.startswith(textfile) for a in kept):
            folder = self._dir("node-exporter-textfile", UNPRIVILEGED)
            kept = [f"{textfile}{folder}" if a.startswith(textfile) else a for a in kept]
        return self._exporter("node-exporter", "prometheus-node-exporter", kept)

    # -- PostgreSQL
    def start_postgres(self) -> Proc:
        if not _user_exists("postgres"):
            raise ToolMissing(
                "the postgres user does not exist (the postgresql package creates it)", hint=INSTALL_HINT
            )
        bindir = postgres_bin()
        self.server_versions["postgres"] = _version([str(bindir / "postgres"), "--version"], r"(\d+\.\d+)")
        home = self._dir("postgres", "postgres")
        data = home / "data"
        if not data.exists():
            init = subprocess.run(
                _as_user(
                    "postgres",
                    [
                        str(bindir / "initdb"),
                        "-D",
                        str(data),
                        "-U",
                        "postgres",
                        "-A",
                        "trust",
                        "--no-sync",
                        "-E",
                        "UTF8",
                        "--locale=C",
                    ],
                ),
                capture_output=True,
                text=True,
                timeout=120,
            )
            if init.returncode:
                raise UserError(f"postgres: initdb failed:\n    {(init.stdout + init.stderr)[-2000:]}")
        port = free_port()
        argv = [
            str(bindir / "postgres"), "-D", str(data), "-p", str(port),
            "-c", "listen_addresses=127.0.0.1", "-c", f"unix_socket_directories={home}",
            "-c", "fsync=off", "-c", "logging_collector=off",
        ]  # fmt: skip
        # SIGINT is PostgreSQL's fast shutdown (SIGTERM waits for every client, the exporter too).
        return self._launch(
            Proc("postgres", port, argv, "postgres", {}, lambda: _tcp_ok(port), signal.SIGINT)
        )

    def start_postgres_exporter(self) -> Proc:
        dsn = f"postgresql://postgres@127.0.0.1:{self.procs['postgres'].port}/postgres?sslmode=disable"
        return self._exporter(
            "postgres-exporter", "prometheus-postgres-exporter", [], {"DATA_SOURCE_NAME": dsn}
        )

    # -- Redis
    def start_redis(self) -> Proc:
        path = binaries.require("redis-server")
        self.server_versions["redis"] = binaries.probe("redis-server").version or "unknown"
        home = self._dir("redis", UNPRIVILEGED)
        port = free_port()
        argv = [
            path, "--bind", "127.0.0.1", "--port", str(port), "--dir", str(home), "--save", "",
            "--appendonly", "no", "--daemonize", "no", "--protected-mode", "yes",
            # A cache, as the stack's Redis is: bounded memory (the memory rule reads maxmemory).
            "--maxmemory", "256mb", "--maxmemory-policy", "allkeys-lru",
        ]  # fmt: skip
        return self._launch(Proc("redis", port, argv, UNPRIVILEGED, {}, lambda: _redis_ping(port)))

    def start_redis_exporter(self) -> Proc:
        addr = f"redis://127.0.0.1:{self.procs['redis'].port}"
        return self._exporter("redis-exporter", "prometheus-redis-exporter", [f"--redis.addr={addr}"])

    def redis(self, *command: str) -> str:
        return redis_command(self.procs["redis"].port, *command)

    # -- NGINX
    def start_nginx(self) -> Proc:
        path = binaries.require("nginx")
        self.server_versions["nginx"] = binaries.probe("nginx").version or "unknown"
        home = self._dir("nginx", UNPRIVILEGED)
        port = free_port()
        conf = home / "nginx.conf"
        conf.write_text(
            f"""# cfmon conformance: one process, loopback, every path in this directory
daemon off;
master_process off;
pid {home}/nginx.pid;
error_log stderr notice;
events {{ worker_connections 64; }}
http {{
  access_log off;
  client_body_temp_path {home}/body;
  proxy_temp_path {home}/proxy;
  fastcgi_temp_path {home}/fastcgi;
  uwsgi_temp_path {home}/uwsgi;
  scgi_temp_path {home}/scgi;
  server {{
    listen 127.0.0.1:{port};
    location = /stub_status {{ stub_status; }}
    location / {{ return 200 "ok\\n"; }}
  }}
}}
"""
        )
        _chown(home, UNPRIVILEGED)
        # -e: the compiled-in error log (/var/log/nginx) is opened before the config is read.
        argv = [path, "-p", str(home), "-c", str(conf), "-e", "stderr"]
        return self._launch(
            Proc("nginx", port, argv, UNPRIVILEGED, {}, lambda: _http_ok(f"http://127.0.0.1:{port}/"))
        )

    def start_nginx_exporter(self) -> Proc:
        uri = f"http://127.0.0.1:{self.procs['nginx'].port}/stub_status"
        return self._exporter("nginx-exporter", "prometheus-nginx-exporter", [f"--nginx.scrape-uri={uri}"])

    # -- RabbitMQ (+ epmd)
    def start_rabbitmq(self) -> Proc:
        version = rabbitmq_version()
        if not _user_exists("rabbitmq"):
            raise ToolMissing(
                "the rabbitmq user does not exist (rabbitmq-server creates it)", hint=INSTALL_HINT
            )
        self.server_versions["rabbitmq"] = version
        self.versions["rabbitmq"] = version  # the rabbitmq_prometheus plugin ships with the broker
        home = self._dir("rabbitmq", "rabbitmq")
        epmd_port, amqp, prom, mgmt, dist = (free_port() for _ in range(5))
        (home / "enabled_plugins").write_text("[rabbitmq_prometheus,rabbitmq_management].\n")
        (home / "rabbitmq.conf").write_text(
            f"""# cfmon conformance: loopback only
listeners.tcp.default = 127.0.0.1:{amqp}
prometheus.tcp.ip = 127.0.0.1
prometheus.tcp.port = {prom}
management.tcp.ip = 127.0.0.1
management.tcp.port = {mgmt}
disk_free_limit.absolute = 50MB
# queue statistics every second (5 s by default): the tier runs with time scaled
collect_statistics_interval = 1000
"""
        )
        _chown(home, "rabbitmq")
        self.rabbit_env = {
            "HOME": str(home),  # the Erlang cookie
            "ERL_EPMD_ADDRESS": "127.0.0.1",
            "ERL_EPMD_PORT": str(epmd_port),
            "RABBITMQ_NODENAME": "cfmon@localhost",
            "RABBITMQ_NODE_IP_ADDRESS": "127.0.0.1",
            "RABBITMQ_DIST_PORT": str(dist),
            "RABBITMQ_CONFIG_FILE": str(home / "rabbitmq.conf"),
            "RABBITMQ_ENABLED_PLUGINS_FILE": str(home / "enabled_plugins"),
            "RABBITMQ_MNESIA_BASE": str(home / "mnesia"),
            "RABBITMQ_LOG_BASE": str(home / "log"),
            "RABBITMQ_LOGS": "-",
            "RABBITMQ_PID_FILE": str(home / "rabbitmq.pid"),
            "RABBITMQ_CONF_ENV_FILE": str(home / "rabbitmq-env.conf"),
            # Exec the VM in place of the script: its PID is the broker's, SIGTERM stops it cleanly.
            "RUNNING_UNDER_SYSTEMD": "true",
            # No busy waiting: an idle Erlang scheduler otherwise spins on a core before it sleeps,
            # CPU the other stacks on a shared machine need (RabbitMQ's advice for shared hosts).
            "RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS": (
                "-kernel inet_dist_use_interface {127,0,0,1} +sbwt none +sbwtdcpu none +sbwtdio none"
            ),
            "RABBITMQ_CTL_ERL_ARGS": "-kernel inet_dist_use_interface {127,0,0,1}",
        }
        (home / "rabbitmq-env.conf").write_text("")
        _chown(home, "rabbitmq")
        epmd = [f"{ERLANG_BIN}/epmd", "-address", "127.0.0.1", "-port", str(epmd_port)]
        self._launch(Proc("epmd", epmd_port, epmd, "rabbitmq", {}, lambda: _tcp_ok(epmd_port)))
        self.wait("epmd")
        self.rabbit_ports = {"amqp": amqp, "management": mgmt}
        argv = [f"{RABBITMQ_BASE}/bin/rabbitmq-server"]
        # Ready when both the metrics endpoint and the management API (queues are declared there) answer.
        return self._launch(
            Proc(
                "rabbitmq", prom, argv, "rabbitmq", self.rabbit_env,
                lambda: _http_ok(f"http://127.0.0.1:{prom}/metrics") or _mgmt_up(mgmt),
            )
        )  # fmt: skip

    def rabbitmqctl(self, *args: str, timeout: float = 60) -> str:
        proc = subprocess.run(
            _as_user("rabbitmq", [f"{RABBITMQ_BASE}/bin/rabbitmqctl", "-n", "cfmon@localhost", *args]),
            capture_output=True,
            text=True,
            timeout=timeout,
            env={**os.environ, **self.rabbit_env},
        )
        if proc.returncode:
            raise UserError(f"rabbitmqctl {' '.join(args)} failed: {(proc.stdout + proc.stderr)[-1500:]}")
        return proc.stdout

    def rabbitmq_api(self, method: str, path: str, body: Any = None) -> Any:
        return management_call(self.rabbit_ports["management"], method, path, body)

    def rabbitmq_publish(self, queue: str, count: int, connections: int = 4) -> None:
        """`count` messages to `queue` through the default exchange, over a few keep-alive
        connections side by side (one message per request: thousands take seconds, not minutes)."""
        port = self.rabbit_ports["management"]
        shares = [count // connections + (i < count % connections) for i in range(connections)]
        with ThreadPoolExecutor(connections) as pool:
            for done in [pool.submit(_publish, port, queue, n) for n in shares if n]:
                done.result()


def _publish(port: int, queue: str, count: int) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    body = json.dumps(
        {"properties": {}, "routing_key": queue, "payload": "cfmon", "payload_encoding": "string"}
    )
    try:
        for _ in range(count):
            conn.request("POST", "/api/exchanges/%2F/amq.default/publish", body, _MGMT_HEADERS)
            resp = conn.getresponse()
            data = resp.read()
            if resp.status != 200 or b'"routed":true' not in data:
                raise UserError(
                    f"publishing to RabbitMQ queue {queue} failed: HTTP {resp.status} {data[:200]!r}"
                )
    finally:
        conn.close()


_MGMT_HEADERS = {
    "Authorization": "Basic Z3Vlc3Q6Z3Vlc3Q=",  # guest:guest, RabbitMQ's loopback-only default user
    "Content-Type": "application/json",
}


def _mgmt_up(port: int) -> str | None:
    try:
        management_call(port, "GET", "/api/overview")
    except (OSError, UserError) as exc:
        return str(exc)
    return None


def management_call(port: int, method: str, path: str, body: Any = None) -> Any:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request(method, path, json.dumps(body) if body is not None else None, _MGMT_HEADERS)
        resp = conn.getresponse()
        data = resp.read()
    finally:
        conn.close()
    if resp.status >= 300:
        raise UserError(f"RabbitMQ management API {method} {path}: HTTP {resp.status} {data[:300]!r}")
    return json.loads(data) if data else None


def redis_command(port: int, *command: str) -> str:
    """One command in Redis' protocol; returns the first reply line."""
    payload = f"*{len(command)}\r\n" + "".join(f"${len(c.encode())}\r\n{c}\r\n" for c in command)
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(payload.encode())
        reply = s.recv(65536).decode(errors="replace")
    return reply.split("\r\n", 1)[0]


def _redis_ping(port: int) -> str | None:
    reply = redis_command(port, "PING")
    return None if reply == "+PONG" else reply


def scrape(url: str, timeout: float = 30) -> str:
    with urllib.request.urlopen(url, timeout=timeout) as resp:
        return resp.read().decode()
