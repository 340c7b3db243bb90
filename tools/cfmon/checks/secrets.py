"""Secret leaks: no literal credential in any rendered object, values file, golden, doc or generated file."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from cfmon.checks.base import Check, Context, Finding, locate_text
from cfmon.serialize import parse_yaml

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
# In values files a camelCase key ending in `Key` names a key of an existing Secret (passwordKey).
SAFE_VALUES_KEY = re.compile(r"[a-z0-9]Key$")
# Committed files that are not rendered but are read and copied: the goldens (a render kept in git),
# the docs and the generated files. Globs from the repository root; {env} is the checked environment.
COMMITTED = ("tests/golden/{env}/**/*", "docs/**/*", "charts/creativeflow-monitoring/charts/*/files/**/*")
# `key: value` on one line of a committed YAML file.
YAML_LINE = re.compile(r"^\s*-?\s*([\w.-]+):\s*['\"]?([^'\"#\s][^'\"#]*?)['\"]?\s*$")


def snake(key: str) -> str:
    """smtpAuthPassword -> smtp_auth_password: values keys are camelCase, the patterns snake_case."""
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", key).lower()


def _scalar(text: str) -> Any:
    """A YAML scalar as YAML reads it (`true` is a boolean, not a credential)."""
    try:
        return parse_yaml(text)
    except yaml.YAMLError:
        return text


def is_literal(key: str, value: Any) -> bool:
    """Whether `key: value` holds a credential itself (not a file, a reference or nothing)."""
    if isinstance(value, bool) or value is None or not isinstance(value, str | int | float):
        return False
    text = str(value).strip()
    if not text or SAFE_KEY.search(key):
        return False
    return bool(
        SECRET_VALUE.search(text)
        or (SECRET_KEY.search(snake(key)) and not text.startswith(("$__file{", "${", "/")))
    )


def _leaked(key: str, value: Any) -> str | None:
    """The value's text when `key: value` in a rendered object is a literal credential."""
    # A number is a credential too when YAML reads `password: 123456`; booleans are not.
    if isinstance(value, bool) or value is None or not isinstance(value, str | int | float):
        return None
    text = str(value).strip()
    if not text or SAFE_KEY.search(key):
        return None
    if SECRET_VALUE.search(text) or (SECRET_KEY.search(key) and not text.startswith(("$__file{", "${", "/"))):
        return text
    return None


def _values_leaked(key: str, value: Any) -> str | None:
    """The value's text when `key: value` in a values file is a literal credential."""
    if SAFE_VALUES_KEY.search(key) or not is_literal(key, value):
        return None
    return str(value).strip()


Leaked = Callable[[str, Any], "str | None"]


def leaks(
    node: Any, path: str = "", key: str = "", leaked: Leaked = _leaked
) -> Iterator[tuple[str, str, str]]:
    """(path, key, text) for every leaf that `leaked` calls a literal credential; ConfigMap payloads
    that are YAML are walked too, as if their documents were part of the object."""
    if isinstance(node, str) and "\n" in node:
        inner = _payload_leaks(node, key, leaked)
        if inner is not None:
            for sub, k, text in inner:
                joined = f"{path}{sub}" if sub.startswith("[") else f"{path}.{sub}"
                yield (joined if path else sub), k, text
            return
    if isinstance(node, dict):
        for k, v in node.items():
            yield from leaks(v, f"{path}.{k}" if path else str(k), str(k), leaked)
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from leaks(v, f"{path}[{i}]", key, leaked)
    elif (text := leaked(key, node)) is not None:
        yield path, key, text


@lru_cache(maxsize=4096)
def _payload_leaks(payload: str, key: str, leaked: Leaked) -> tuple[tuple[str, str, str], ...] | None:
    """The leaks inside a ConfigMap payload that is YAML (None when it is not): every render of
    every environment carries most of the same payloads (dashboards, rule files), walked once."""
    try:
        inner = parse_yaml(payload)
    except yaml.YAMLError:
        return None
    if not isinstance(inner, dict | list):
        return None
    return tuple(leaks(inner, "", key, leaked))


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
            for path, key, text in leaks(res.obj):
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
        # A literal already traced from the render to its values line is reported once.
        located = {(f.file, f.line) for f in findings}
        findings += [f for f in self.values_findings(ctx) if (f.file, f.line) not in located]
        findings += self.committed_findings(ctx)
        return findings

    def values_findings(self, ctx: Context) -> list[Finding]:
        """A credential in a values file or overlay of this render, named by file, key and line."""
        findings = []
        for path in ctx.rendered.values_files:
            try:
                doc = parse_yaml(Path(path).read_text())
            except (OSError, yaml.YAMLError):
                continue
            for where, key, text in leaks(doc or {}, leaked=_values_leaked):
                file, line = locate_text(ctx.project, [Path(path)], text[:60], key=key)
                findings.append(
                    self.finding(
                        ctx,
                        f"{file or path}: {where} holds a literal credential",
                        file=file or str(path),
                        line=line,
                        hint="put it in an existing Secret and reference it "
                        "(existingSecret, `*_file`, $__file{})",
                    )
                )
        return findings

    @classmethod
    def prepare(cls, project) -> None:
        for env in project.environments():
            for path in _committed(project.root, env):
                try:
                    _committed_hits(path.read_text(), path.suffix in (".yaml", ".yml"))
                except (OSError, UnicodeDecodeError):
                    continue

    def committed_findings(self, ctx: Context) -> list[Finding]:
        """A credential in a golden, a doc or a generated file (they are copied and published too)."""
        root = ctx.project.root
        findings = []
        for path in _committed(root, ctx.env):
            try:
                text = path.read_text()
            except (OSError, UnicodeDecodeError):
                continue
            for number, keyed in _committed_hits(text, path.suffix in (".yaml", ".yml")):
                rel = ctx.project.rel(path)
                findings.append(
                    self.finding(
                        ctx,
                        f"a literal credential in a committed file{f' ({keyed})' if keyed else ''}",
                        file=rel,
                        line=number,
                        hint="remove it; regenerate the file (cfmon generate / docs / golden --update) "
                        "from sources that reference an existing Secret",
                    )
                )
        return findings


def _committed(root: Path, env: str) -> list[Path]:
    """The committed files an environment's render is checked with (COMMITTED), in order."""
    return [
        path for pattern in COMMITTED for path in sorted(root.glob(pattern.format(env=env))) if path.is_file()
    ]


@lru_cache(maxsize=4096)
def _committed_hits(text: str, is_yaml: bool) -> tuple[tuple[int, str | None], ...]:
    """(line number, the credential's key when a `key: value` line holds it) for each line of a
    committed file that holds a credential; once per distinct text (every render reads the docs)."""
    hits = []
    for number, line in enumerate(text.splitlines(), 1):
        match = YAML_LINE.match(line) if is_yaml else None
        keyed = match[1] if match and is_literal(match[1], _scalar(match[2])) else None
        if SECRET_VALUE.search(line) or keyed:
            hits.append((number, keyed))
    return tuple(hits)
