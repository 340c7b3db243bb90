"""Findings as text, json, GitHub annotations or JUnit XML (findings on stdout, logs on stderr)."""

from __future__ import annotations

import json
from collections import defaultdict
from xml.sax.saxutils import escape, quoteattr

from cfmon.checks.base import Finding

FORMATS = ("text", "json", "github", "junit")


def text(findings: list[Finding]) -> str:
    lines = []
    for f in findings:
        where = f.file or "-"
        if f.line:
            where += f":{f.line}"
        lines.append(f"{f.severity} {f.check} [{f.env or '-'}] {where}: {f.message}")
        if f.hint:
            lines.append(f"  fix: {f.hint}")
    return "\n".join(lines) + ("\n" if lines else "")


def github(findings: list[Finding]) -> str:
    def prop(v: str) -> str:
        return (
            v.replace("%", "%25")
            .replace("\r", "%0D")
            .replace("\n", "%0A")
            .replace(",", "%2C")
            .replace(":", "%3A")
        )

    def msg(v: str) -> str:
        return v.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")

    out = []
    for f in findings:
        level = {"error": "error", "info": "notice"}.get(f.severity, "warning")
        props = [f"title={prop(f'{f.check} [{f.env}]')}"]
        if f.file:
            props.insert(0, f"file={prop(f.file)}")
            if f.line:
                props.insert(1, f"line={f.line}")
        body = f.message + (f" (fix: {f.hint})" if f.hint else "")
        out.append(f"::{level} {','.join(props)}::{msg(body)}")
    return "\n".join(out) + ("\n" if out else "")


def junit(findings: list[Finding], checks: list[str], envs: list[str]) -> str:
    """One testcase per (check, environment); a failing case lists its findings."""
    by_case: dict[tuple[str, str], list[Finding]] = defaultdict(list)
    for f in findings:
        if f.severity != "info":  # a replaced test is no failure
            by_case[(f.check, f.env or "-")].append(f)
    cases = [(c, e) for e in envs for c in checks]
    cases += [k for k in by_case if k not in cases]
    failures = sum(1 for k in cases if by_case.get(k))
    out = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<testsuite name="cfmon" tests="{len(cases)}" failures="{failures}">',
    ]
    for check, env in cases:
        found = by_case.get((check, env))
        out.append(f"  <testcase classname={quoteattr(env)} name={quoteattr(check)}>")
        if found:
            body = escape(text(found))
            out.append(f"    <failure message={quoteattr(found[0].message[:200])}>{body}</failure>")
        out.append("  </testcase>")
    out.append("</testsuite>")
    return "\n".join(out) + "\n"


def render(findings: list[Finding], fmt: str, *, checks: list[str], envs: list[str]) -> str:
    if fmt == "json":
        return json.dumps([f.as_dict() for f in findings], indent=2, sort_keys=True) + "\n"
    if fmt == "github":
        return github(findings)
    if fmt == "junit":
        return junit(findings, checks, envs)
    return text(findings)
