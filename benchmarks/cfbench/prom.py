"""A throwaway Prometheus on a loopback port over a given TSDB directory, and its HTTP API.

The process is started through cfmon.binaries (the pinned binary) and always stopped: use it as a
context manager.
"""

from __future__ import annotations

import json
import socket
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import yaml

from cfmon import binaries


class PrometheusError(RuntimeError):
    pass


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Prometheus:
    def __init__(
        self,
        data: Path,
        work: Path,
        *,
        rule_files: list[Path] | None = None,
        evaluation_interval: str = "15s",
        ooo_window: str | None = None,
        scrape_configs: list[dict] | None = None,
        retention: str = "3650d",
    ) -> None:
        self.data, self.work = data, work
        self.rule_files = rule_files or []
        self.evaluation_interval = evaluation_interval
        self.ooo_window = ooo_window
        self.scrape_configs = scrape_configs or []
        self.retention = retention
        self.port = 0
        self.proc = None
        self.log = work / "prometheus.log"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> Prometheus:
        config: dict = {
            "global": {"scrape_interval": "15s", "evaluation_interval": self.evaluation_interval},
            "rule_files": [str(p) for p in self.rule_files],
            "scrape_configs": self.scrape_configs,
        }
        if self.ooo_window:
            config["storage"] = {"tsdb": {"out_of_order_time_window": self.ooo_window}}
        cfg = self.work / "prometheus.yml"
        cfg.write_text(yaml.safe_dump(config, sort_keys=True))
        self.port = free_port()
        self.proc = binaries.start(
            "prometheus",
            [
                f"--config.file={cfg}",
                f"--storage.tsdb.path={self.data}",
                f"--web.listen-address=127.0.0.1:{self.port}",
                # 3650d by default: the backfilled blocks are kept as they are.
                f"--storage.tsdb.retention.time={self.retention}",
                "--query.max-samples=500000000",  # what a 24h raw-histogram range query may need
            ],
            log=self.log,
        )
        try:
            self._wait_ready()
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        if self.proc is not None:
            binaries.stop(self.proc)
            self.proc = None

    def _wait_ready(self, timeout: float = 300) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.proc is not None
            if self.proc.poll() is not None:
                raise PrometheusError(f"prometheus exited ({self.proc.returncode}):\n{self.tail()}")
            try:
                with urllib.request.urlopen(f"{self.url}/-/ready", timeout=5) as resp:
                    if resp.status == 200:
                        return
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.5)
        raise PrometheusError(f"prometheus not ready after {timeout:.0f}s:\n{self.tail()}")

    def tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    # ---- API ----------------------------------------------------------------------------------

    def _post(self, path: str, params: dict[str, str] | None, timeout: float) -> bytes:
        data = urllib.parse.urlencode(params).encode() if params is not None else None
        req = urllib.request.Request(f"{self.url}{path}", data=data)
        try:
            with urllib.request.urlopen(req, timeout=timeout) as resp:
                return resp.read()
        except urllib.error.HTTPError as exc:
            return exc.read() or b"{}"

    def _data(self, path: str, raw: bytes) -> dict:
        body = json.loads(raw)
        if body.get("status") != "success":
            raise PrometheusError(f"{path}: {body.get('errorType')}: {body.get('error')}")
        return body["data"]

    def api(self, path: str, params: dict[str, str] | None = None, timeout: float = 300) -> dict:
        return self._data(path, self._post(path, params, timeout))

    def timed(self, params: dict[str, str], range_query: bool) -> tuple[float, dict]:
        """(wall seconds, stats) of one query as Grafana sends it (POST form), timed to the last
        byte of the response (decoding it here is not Prometheus's cost); stats=all gives
        Prometheus's own timings and the samples it read."""
        path = "/api/v1/query_range" if range_query else "/api/v1/query"
        began = time.perf_counter()
        raw = self._post(path, {**params, "stats": "all"}, 300)
        wall = time.perf_counter() - began
        return wall, self._data(path, raw).get("stats") or {}

    def label_values(self, label: str, match: str, start: float, end: float) -> list[str]:
        params = {"start": str(start), "end": str(end)}
        if match:
            params["match[]"] = match
        query = urllib.parse.urlencode(params)
        return list(self.api(f"/api/v1/label/{urllib.parse.quote(label)}/values?{query}"))

    def query_result(self, expr: str, at: float) -> list[str]:
        """An instant query's series as Grafana's query_result() lists them."""
        out = []
        for s in self.api("/api/v1/query", {"query": expr, "time": str(at)}).get("result", []):
            metric = dict(s.get("metric", {}))
            name = metric.pop("__name__", "")
            lbl = ", ".join(f'{k}="{v}"' for k, v in sorted(metric.items()))
            out.append(f"{name}{{{lbl}}} {s['value'][1]} {int(float(s['value'][0]) * 1000)}")
        return out

    def metric(self, name: str) -> float:
        """Sum of a metric on Prometheus's own /metrics (e.g. compactions done)."""
        with urllib.request.urlopen(f"{self.url}/metrics", timeout=30) as resp:
            text = resp.read().decode()
        total = 0.0
        for line in text.splitlines():
            if line.startswith(name) and line[len(name) : len(name) + 1] in (" ", "{"):
                total += float(line.rsplit(" ", 1)[1])
        return total
