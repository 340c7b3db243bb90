"""Secret leaks: no literal credential in any rendered object."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import yaml

from cfmon.checks.base import Check, Context, Finding, locate_text

# Keys whose value is a credential when it is a literal (their `*_file` twins are the safe form).
SECRET_KEY = re.compile(
    r"(^|_)(password|passwd|secret|token|api_key|apikey|service_key|routing_key|webhook_url|api_url|"
    r"client_secret|auth_password|private_key|access_key|secret_key|credentials)$",
    re.I,
)
# Values that are credentials whatever their key.
SECRET_VALUE = re.compile(
    r"hooks\.slack\.com/services/|xox[abpr]-[\w-]{10,}|-----BEGIN [A-Z ]*PRIVATE KEY-----|"
    r"\bAKIA[0-9A-Z]{16}\b|outlook\.office\.com/webhook/|\$2[aby]\$\d\d\$[./\w]{53}"
)
SAFE_KEY = re.compile(r"(_file|File|Ref|Secret|existingSecret|secretName|_path)$")


def walk(node: Any, path: str = "", key: str = "") -> Iterator[tuple[str, str, Any]]:
    """(path, key, value) for every leaf; ConfigMap payloads that are YAML are walked, not returned."""
    if isinstance(node, str) and "\n" in node:
        try:
            inner = yaml.safe_load(node)
        except yaml.YAMLError:
            inner = None
        if isinstance(inner, dict | list):
            yield from walk(inner, path, key)
            return
    if isinstance(node, dict):
        for k, v in node.items():
            yield from walk(v, f"{path}.{k}" if path else str(k), str(k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from walk(v, f"{path}[{i}]", key)
    else:
        yield path, key, node


class SecretLiterals(Check):
    """No password, token, webhook URL or key as a literal in any rendered object of any environment.

    Why: rendered manifests land in git, CI logs and Argo CD's UI. Secrets come from existing
    Secrets: Alertmanager `*_file` fields, `existingSecret`, Grafana `$__file{}`.
    Bad: `slack_api_url: https://hooks.slack.com/services/T0/B0/x`.
    Good: `slack_api_url_file: /etc/alertmanager/secrets/slack-webhook-url`.
    """

    id = "security/secret-literal"

    def run(self, ctx: Context) -> list[Finding]:
        findings = []
        for res in ctx.objects():
            if res.kind == "Secret" and (res.obj.get("data") or res.obj.get("stringData")):
                findings.append(
                    self.finding(
                        ctx,
                        f"{res.key}: the chart renders a Secret with data",
                        file=res.source,
                        hint="reference an existing Secret instead",
                    )
                )
                continue
            for path, key, value in walk(res.obj):
                # A number is a credential too when YAML reads `password: 123456`; booleans are not.
                if isinstance(value, bool) or value is None or not isinstance(value, str | int | float):
                    continue
                text = str(value).strip()
                if not text or SAFE_KEY.search(key):
                    continue
                leaked = SECRET_VALUE.search(text) or (
                    SECRET_KEY.search(key) and not text.startswith(("$__file{", "${", "/"))
                )
                if not leaked:
                    continue
                file, line = locate_text(ctx.project, ctx.rendered.values_files, text[:60], key=key)
                findings.append(
                    self.finding(
                        ctx,
                        f"{res.key}: {path} holds a literal credential",
                        file=file or res.source,
                        line=line,
                        hint=f"store it in an existing Secret and use `{key}_file` (or existingSecret)",
                    )
                )
        return findings
