"""`logs/agent-labels`: no unbounded label in the agent's label set.

One check per module; its class docstring says why, and what is bad and good.
"""

from __future__ import annotations

from cfmon.checks.base import Check, Context, Finding
from cfmon.checks.logagent.common import PIPELINE, parse_error
from cfmon.logagents import alloy_labels, promtail_labels
from cfmon.rendered.logagents import AgentConfig

# Labels whose values have no bound (one per request, user, trace or pod instance): as a label
# each value is a new stream, and Loki's index grows with every one. Compared without case or `_`.
UNBOUNDED = (
    "traceID",
    "spanID",
    "inference_id",
    "request_id",
    "user_id",
    "session_id",
    "pod_uid",
    "uid",
    "filename",
)
# Discovered labels with one value per pod instance: a label copied from them is unbounded too.
UNBOUNDED_SOURCES = (
    "__meta_kubernetes_pod_uid",
    "__meta_kubernetes_pod_ip",
    "__meta_kubernetes_pod_container_id",
)
# Fields parsed from the log line that may become labels: the agents normalise them to a few values.
PARSED_LABELS_ALLOWED = ("level",)


def _norm(name: str) -> str:
    return name.replace("_", "").lower()


class AgentLabels(Check):
    """No unbounded label in the agent's label set.

    Labels come from relabel rules (target_label; labelmap is open-ended by nature), pipeline
    label stages, static and external labels. An identifier (traceID, spanID, inference_id,
    request_id, user_id, pod_uid, ...) is never a label, a field parsed from the log line is a
    label only when allow-listed (level), and the `filename` label a file source adds (its path
    holds the pod uid) must be dropped.
    Why: every label value is a stream; unbounded values explode Loki's index and its memory.
    Structured metadata keeps them queryable. Bad: `labels: {traceID: }`, a labelmap of every
    pod label. Good: traceID in structured_metadata, labels namespace/pod/container/app/level.
    """

    id = "logs/agent-labels"

    def run(self, ctx: Context) -> list[Finding]:
        findings = []
        for cfg in ctx.rendered.model.log_agents:
            broken = parse_error(self, ctx, cfg)
            findings += [broken] if broken else self._problems(ctx, cfg)
        return findings

    def _problems(self, ctx: Context, cfg: AgentConfig) -> list[Finding]:
        labels = promtail_labels(cfg.text) if cfg.agent == "promtail" else alloy_labels(cfg.text)
        unbounded = {_norm(n) for n in UNBOUNDED}
        allowed = {_norm(n) for n in PARSED_LABELS_ALLOWED}
        problems: list[tuple[str, str]] = []  # (message, hint)
        for use in labels.uses:
            if use.label in labels.dropped or (labels.kept is not None and use.label not in labels.kept):
                continue
            if use.open_ended:
                problems.append(
                    (
                        f"{use.where}: {use.open_ended}: the label names have no bound",
                        f"name each label with its own replace rule (see {PIPELINE})",
                    )
                )
            elif _norm(use.label) in unbounded:
                problems.append(
                    (
                        f"{use.where}: label {use.label} is unbounded (one value per request, trace or pod)",
                        "keep it in the line or in structured metadata (a structured_metadata stage)",
                    )
                )
            elif set(use.sources) & set(UNBOUNDED_SOURCES):
                source = sorted(set(use.sources) & set(UNBOUNDED_SOURCES))[0]
                problems.append(
                    (
                        f"{use.where}: label {use.label} takes its value from {source} (one per pod)",
                        "drop the rule; namespace, pod and container identify a stream",
                    )
                )
            elif use.parsed_from and _norm(use.label) not in allowed:
                problems.append(
                    (
                        f"{use.where}: label {use.label} comes from the log line's field {use.parsed_from}, "
                        f"which is not allow-listed ({', '.join(PARSED_LABELS_ALLOWED)})",
                        "put the field in structured metadata (a parsed label needs a few normalised values)",
                    )
                )
        for where in sorted(set(labels.file_pipelines) - set(labels.file_pipelines_dropping_filename)):
            problems.append(
                (
                    f"{where}: tailed files get a `filename` label (/var/log/pods/<ns>_<pod>_<uid>/...: "
                    "one value per pod instance) that no stage drops",
                    "add a label_drop (Alloy) / labeldrop (Promtail) stage for filename",
                )
            )
        return [
            self.finding(ctx, f"{cfg.where}: {message}", file=cfg.resource.source, hint=hint)
            for message, hint in problems
        ]
