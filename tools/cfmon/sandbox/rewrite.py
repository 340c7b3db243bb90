"""The rendered configs rewritten for loopback: Prometheus' scrape jobs on static targets, its
global intervals, rule files and command line with time scaled, and Alertmanager's receivers turned
into webhooks to the capture server (see the package docstring for what changes and why)."""

from __future__ import annotations

import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

import yaml

from cfmon.manifests import Resource
from cfmon.mounts import Mounts, find_container
from cfmon.timescale import scale_duration, scale_expr, unscalable

# Prometheus' defaults for what the config may leave out (they must be scaled too).
PROM_DEFAULTS = {"scrape_interval": "1m", "scrape_timeout": "10s", "evaluation_interval": "1m"}
# Flags the sandbox always passes, scaled: the StatefulSet's value when it sets one (the chart sets
# the for-grace-period), else Prometheus' default.
PROM_FLAG_DEFAULTS = {
    "query.lookback-delta": "5m",
    "rules.alert.for-outage-tolerance": "1h",
    "rules.alert.for-grace-period": "10m",
    "rules.alert.resend-delay": "1m",
}
AM_ROUTE_DEFAULTS = {"group_wait": "30s", "group_interval": "5m", "repeat_interval": "4h"}
# Alertmanager's send_resolved default per integration (when the rendered config omits it).
SEND_RESOLVED_DEFAULT = {"email_configs": False, "slack_configs": False, "wechat_configs": False}
# Scrape-job keys that only make sense against the real targets.
CONNECTION_KEYS = {
    "static_configs",
    "scheme",
    "authorization",
    "basic_auth",
    "oauth2",
    "bearer_token",
    "bearer_token_file",
    "tls_config",
    "proxy_url",
    "proxy_from_environment",
    "proxy_connect_header",
    "no_proxy",
}
SYNTHETIC_LABELS = {"__address__", "__scheme__", "__metrics_path__"}


def _scaled(value: Any, speed: int, where: str) -> str:
    return scale_duration(str(value), speed, where)


def _reads_discovery(rule: dict) -> bool:
    sources = [str(s) for s in rule.get("source_labels") or []]
    if any(s.startswith("__meta_") or s == "__address__" for s in sources):
        return True
    if str(rule.get("target_label", "")) in SYNTHETIC_LABELS or str(rule.get("target_label", "")).startswith(
        "__param_"
    ):
        return True
    return rule.get("action") in ("labelmap", "labeldrop", "labelkeep") and "__meta_" in str(
        rule.get("regex", "")
    )


def rewrite_scrape_job(
    job: dict, groups: list[dict], speed: int, global_interval: str, *, synthetic: bool
) -> tuple[dict, int]:
    """One scrape job against `groups` (static target groups); returns it and how many relabel
    rules were dropped because they read service-discovery metadata. `global_interval` is the
    already scaled global scrape interval."""
    name = job.get("job_name")
    new = {k: v for k, v in job.items() if not k.endswith("_sd_configs") and k not in CONNECTION_KEYS}
    if "scrape_interval" in job:
        new["scrape_interval"] = _scaled(job["scrape_interval"], speed, f"scrape job {name}: scrape_interval")
    # The timeout is the whole interval: a busy machine must not turn a slow answer into a down target.
    new["scrape_timeout"] = new.get("scrape_interval", global_interval)
    kept = [r for r in job.get("relabel_configs") or [] if not _reads_discovery(r)]
    dropped = len(job.get("relabel_configs") or []) - len(kept)
    if "relabel_configs" in job:
        new["relabel_configs"] = kept
    if synthetic:
        new["honor_labels"] = True
        new["honor_timestamps"] = True  # the exporter stamps each sample with its step's time
    new["static_configs"] = groups
    return new, dropped


def _scrape_jobs(layout: Mounts, config: dict) -> list[tuple[Path | None, int, dict]]:
    """(scrape file or None for prometheus.yml, index, job) for every job, in config order."""
    jobs: list[tuple[Path | None, int, dict]] = [
        (None, i, j) for i, j in enumerate(config.get("scrape_configs") or [])
    ]
    for pattern in config.get("scrape_config_files") or []:
        for path in sorted(Path("/").glob(str(pattern).lstrip("/"))):
            doc = yaml.safe_load(path.read_text()) or {}
            jobs += [(path, i, j) for i, j in enumerate(doc.get("scrape_configs") or [])]
    return jobs


def write_scrape_jobs(config: dict, rewritten: dict[Path | None, dict[int, dict]]) -> None:
    """Put rewritten jobs back where they came from, in their order: prometheus.yml's own
    (`config`, path None) or a scrape file's (written in place)."""
    for path, by_index in rewritten.items():
        if path is None:
            config["scrape_configs"] = [by_index[i] for i in sorted(by_index)]
        else:
            doc = yaml.safe_load(path.read_text()) or {}
            doc["scrape_configs"] = [by_index[i] for i in sorted(by_index)]
            path.write_text(yaml.safe_dump(doc, sort_keys=False))


def rewrite_prometheus(config: dict, speed: int, alertmanagers: list[str]) -> tuple[dict, list[str]]:
    """prometheus.yml: scaled global intervals, alerting at the sandbox peers, no remote storage."""
    notes = []
    new = dict(config)
    glob = dict(config.get("global") or {})
    for key, default in PROM_DEFAULTS.items():
        glob[key] = _scaled(glob.get(key, default), speed, f"prometheus.yml: global.{key}")
    glob["scrape_timeout"] = glob["scrape_interval"]
    new["global"] = glob
    for key in ("remote_write", "remote_read"):
        if new.pop(key, None):
            notes.append(f"{key} removed (no remote storage in the sandbox)")
    alerting = dict(config.get("alerting") or {})
    first = dict((alerting.get("alertmanagers") or [{}])[0])
    am = {k: v for k, v in first.items() if not k.endswith("_sd_configs") and k not in CONNECTION_KEYS}
    am.pop("path_prefix", None)
    am["static_configs"] = [{"targets": alertmanagers}]
    alerting["alertmanagers"] = [am]
    new["alerting"] = alerting
    return new, notes


def rewrite_rules(doc: dict, speed: int) -> tuple[dict, list[str]]:
    """A rule file with time scaled; rules that read the wall clock are left out (returned)."""
    if speed == 1:
        return doc, []
    skipped: list[str] = []
    out: dict = {"groups": []}
    for g, group in enumerate(doc.get("groups") or []):
        where = f"groups[{g}] ({group.get('name')})"
        new = dict(group)
        for key in ("interval", "query_offset"):
            if key in group:
                new[key] = scale_duration(str(group[key]), speed, f"{where}.{key}")
        rules = []
        for r, rule in enumerate(group.get("rules") or []):
            name = rule.get("alert") or rule.get("record")
            reason = unscalable(str(rule["expr"]))
            if reason:
                skipped.append(f"{name} ({reason})")
                continue
            rwhere = f"{where}.rules[{r}] ({name})"
            rule = dict(rule)
            rule["expr"] = scale_expr(str(rule["expr"]), speed, f"{rwhere}.expr")
            for key in ("for", "keep_firing_for"):
                if key in rule:
                    rule[key] = scale_duration(str(rule[key]), speed, f"{rwhere}.{key}")
            rules.append(rule)
        if rules:
            new["rules"] = rules
            out["groups"].append(new)
    return out, skipped


def scale_route(route: dict, speed: int, *, root: bool = False, where: str = "route") -> dict:
    new = dict(route)
    for key, default in AM_ROUTE_DEFAULTS.items():
        if key in route or root:
            new[key] = _scaled(route.get(key, default), speed, f"alertmanager.yml: {where}.{key}")
    if route.get("routes"):
        new["routes"] = [
            scale_route(r, speed, where=f"{where}.routes[{i}]") for i, r in enumerate(route["routes"])
        ]
    return new


def rewrite_alertmanager(
    config: dict, speed: int, capture_url: str, secrets_dir: Path
) -> tuple[dict, list[str]]:
    """alertmanager.yml: every integration a webhook to the capture server, durations scaled."""
    new = dict(config)
    glob = dict(config.get("global") or {})
    glob["resolve_timeout"] = _scaled(
        glob.get("resolve_timeout", "5m"), speed, "alertmanager.yml: global.resolve_timeout"
    )
    new["global"] = glob
    new["route"] = scale_route(config.get("route") or {}, speed, root=True)
    receivers = []
    names = []
    secrets_dir.mkdir(parents=True, exist_ok=True)
    for rcv in config.get("receivers") or []:
        name = str(rcv["name"])
        names.append(name)
        hooks = []
        for kind, configs in sorted(rcv.items()):
            if kind == "name" or not isinstance(configs, list):
                continue
            integration = kind.removesuffix("_configs")
            for i, cfg in enumerate(configs):
                url = f"{capture_url}/{urllib.parse.quote(name, safe='')}/{integration}"
                url_file = secrets_dir / f"{name}-{integration}-{i}.url"
                url_file.write_text(url)
                hook: dict[str, Any] = {
                    "url_file": str(url_file),
                    "send_resolved": bool(cfg.get("send_resolved", SEND_RESOLVED_DEFAULT.get(kind, True))),
                }
                if kind == "webhook_configs" and cfg.get("max_alerts"):
                    hook["max_alerts"] = cfg["max_alerts"]
                hooks.append(hook)
        receivers.append({"name": name, **({"webhook_configs": hooks} if hooks else {})})
    new["receivers"] = receivers
    return new, names


def prometheus_flags(
    resources: list[Resource], config: Path, workdir: Path, port: int, speed: int
) -> list[str]:
    """The command line of the rendered Prometheus on loopback: its feature flags, and the flags
    that hold durations scaled (the StatefulSet's value, else Prometheus' default)."""
    _, prom_container = find_container(resources, "prometheus")
    args = [str(a) for a in prom_container.get("args", [])]
    features = [a for a in args if a.startswith("--enable-feature=")]
    rendered = dict(a.removeprefix("--").split("=", 1) for a in args if a.startswith("--") and "=" in a)
    flags = [
        f"--{k}={_scaled(rendered.get(k, v), speed, f'prometheus --{k}')}"
        for k, v in PROM_FLAG_DEFAULTS.items()
    ]
    return [
        f"--config.file={config}",
        f"--storage.tsdb.path={workdir / 'prometheus-data'}",
        f"--web.listen-address=127.0.0.1:{port}",
        *flags,
        *features,
    ]
