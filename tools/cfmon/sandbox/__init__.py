"""cfmon sandbox: the rendered Prometheus and Alertmanager of an environment, running for real on
loopback, fed by a scenario file, reporting which alerts fired and who got which notification.

Modules by job: `rewrite` (rendered configs -> loopback configs, time scaled), `routing` (the
Alertmanager route matcher), `servers` (the synthetic exporter, the capture webhook, loopback
helpers), `plan` (render, check the scenarios, write the configs), `run` (start the processes,
replay, observe, stop) and `report` (the result as text and JSON).

What is rewritten (only what must change to run on one machine; everything else runs as rendered):

- Scrape jobs keep their names, relabelling and metric relabelling, sample and label limits.
  Service discovery (Kubernetes, file, DNS) becomes `static_configs` pointing at the in-process
  synthetic exporter, one target per (job, instance) of the scenario, or `<job>-0` with no series
  for a job the scenario does not feed (so every job is up, as in a healthy cluster). Relabel
  rules that read discovery metadata (`__meta_*`, `__address__`) or set the address, scheme or
  path are dropped (nothing to read); the ones that add `cluster` and `environment` stay. TLS and
  credentials are dropped (the exporter is plain HTTP on 127.0.0.1). `honor_labels: true`, so the
  scenario's series are stored with exactly their labels, and `honor_timestamps: true`: the
  exporter stamps each sample with its step's time, as promtool does (a failed scrape loses
  nothing). Scrape timeouts are raised to the scrape interval.
- The `prometheus` and `alertmanager` jobs scrape the real processes of the sandbox, so the stack
  alerts (cluster members, notifications failing, ...) see real data.
- `alerting.alertmanagers` points at every Alertmanager peer; `remote_write`/`remote_read` go.
- Alertmanager: every receiver becomes one webhook per original integration (same
  `send_resolved`), posting to the capture server at /<receiver>/<integration>; routes, grouping,
  inhibitions and time intervals are kept. Files from Secrets are throwaway placeholders.
- Peers: the environment's replica count (StatefulSet `replicas`), gossiping on loopback ports.

Time scaling (cfmon.timescale): with speed N every duration is divided by N: scrape and evaluation
intervals, scrape timeouts, group intervals, rule `for`/`keep_firing_for`, PromQL ranges, offsets
and subqueries, Alertmanager group_wait/group_interval/repeat_interval/resolve_timeout, Prometheus'
lookback delta, resend delay and `for` restore tolerances (the rendered ones where the
StatefulSet sets them, e.g. --rules.alert.for-grace-period), and the scenario's own timeline. Rules
that read the wall clock (`time()`, ...) cannot be scaled: they are left out and listed in the
report. The peers' timeout (how long peer N waits before it sends what peer N-1 may have sent:
15 s by default) is scaled too, since dedup needs (peers - 1) x timeout below the shortest
repeat_interval; it never goes below PEER_TIMEOUT_FLOOR_MS. Their gossip runs every
GOSSIP_INTERVAL (network timing, not scaled), well inside that timeout on loopback.

Processes are started through cfmon.binaries (own process group, killed if cfmon dies) and always
stopped in a `finally`, also on Ctrl-C and SIGTERM. Readiness waits have timeouts; a process that
fails is reported with the tail of its log.
"""

from cfmon.sandbox.plan import ALERTMANAGER_JOB, PROMETHEUS_JOB, Peer, Plan, plan, render_resources
from cfmon.sandbox.report import SandboxResult, ScenarioReport, as_json, format_text, scaling_text
from cfmon.sandbox.rewrite import (
    _scrape_jobs,
    prometheus_flags,
    rewrite_alertmanager,
    rewrite_prometheus,
    rewrite_rules,
    rewrite_scrape_job,
    scale_route,
    write_scrape_jobs,
)
from cfmon.sandbox.routing import routes_for
from cfmon.sandbox.run import POLL_S, Run, run
from cfmon.sandbox.servers import Capture, Exporter, free_port, log_tail
from cfmon.timescale import scale_duration

__all__ = [
    "ALERTMANAGER_JOB",
    "POLL_S",
    "PROMETHEUS_JOB",
    "Capture",
    "Exporter",
    "Peer",
    "Plan",
    "Run",
    "SandboxResult",
    "ScenarioReport",
    "_scrape_jobs",
    "as_json",
    "format_text",
    "free_port",
    "log_tail",
    "plan",
    "prometheus_flags",
    "render_resources",
    "rewrite_alertmanager",
    "rewrite_prometheus",
    "rewrite_rules",
    "rewrite_scrape_job",
    "routes_for",
    "run",
    "scale_duration",
    "scale_route",
    "scaling_text",
    "write_scrape_jobs",
]
