"""Build the prometheus subchart's files/rules-filled/ at `cfmon generate` time: each rule file as
the chart ships it when no value overrides any of its alerts, so that helm copies text instead of
parsing, filling and serialising the file on every render (about a sixth of a prod render's CPU).

What the chart prints for a rule file (prometheus.ruleFile) is helm's `toYaml` of the parsed file
with every `${param}` token of an alert's expression and annotations replaced by the parameter's
value (files/alert-params.yaml, formatted by sprig's `toString`) and every `${grafanaUrl}` of its
annotations by global.grafanaUrl. Here the same is done with the defaults, written with
serialize.to_helm_yaml, which gives toYaml's bytes.

One part depends on the URL: toYaml folds a long plain string at the first space past column 80,
so where an annotation that starts with the Grafana URL first breaks depends on the URL's length.
After that first break each line starts at the same column whatever the URL, so the rest of the
folding is fixed. Each such annotation is written folded as if its first word (the URL and what
follows it up to the first space) were long enough to break right after it, with the token in
place of the URL, and is preceded by one line (a YAML comment, so the file still parses):

    #@ <shortest URL> <lines> <key> <text with the token>

`<shortest URL>` is the shortest Grafana URL, in bytes, for which that folding is toYaml's:
with a printable ASCII URL at least that long the chart fills the token into the `<lines>` lines
that follow; with a shorter one it prints `<key>: <text>` with toYaml (the old way, exact for any
URL) in their place. A text toYaml would not print plain (quoted, or breaking elsewhere than at
single spaces) gets an unreachable `<shortest URL>` and no lines: always toYaml. Any override of
one of the file's alerts makes the chart take prometheus.ruleFile instead; the chart tests render
both ways, at several URL lengths, and compare them byte for byte.
"""

from __future__ import annotations

import decimal
import re
from typing import Any

from cfmon.errors import UserError
from cfmon.rendered.rules import ALERT_PARAMS, RULES_DIR
from cfmon.serialize import HELM_YAML_WIDTH, load_yaml, to_helm_yaml

FILLED_DIR = RULES_DIR.removesuffix("/rules") + "/rules-filled"
URL_TOKEN = "${grafanaUrl}"
URL_LINE = "#@ "  # what the chart splits the file at (`splitList "\n#@ "`)
# A stand-in for the URL, longer than a line, so that toYaml breaks right after the first word.
_SENTINEL = "CFMONFILLEDURL{}X" + "x" * HELM_YAML_WIDTH
# A line at the annotations' indentation with its continuation lines (a link is one of them).
_KEY_BLOCK = re.compile(r"^ {6}([A-Za-z0-9_]+): (.*)\n((?: {8}.*\n)*)", re.M)
_SENTINEL_AT = re.compile(_SENTINEL.replace("{}", "([0-9]+)"))
NEVER = 99999  # <shortest URL> of a text the chart always prints with toYaml
# A text after the URL that toYaml prints plain and folds only at single spaces: printable ASCII,
# no space first or last, no two spaces, no ": " or " #", not ending in ":".
_PLAIN_TAIL = re.compile(r"(?!.*(?:  |: | #))[!-~](?:[ -~]*[!-9;-~])?")
_TOKEN = re.compile(r"\$\{[^}]*\}")


def go_string(value: Any) -> str:
    """sprig's `toString` of a value helm parsed from YAML: numbers are float64 there and print
    with Go's %v (the shortest digits; an exponent below 1e-4 and from 1e+06 on)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    number = float(value)
    if number == 0:
        return "0"
    sign = "-" if number < 0 else ""
    _, digit_tuple, exponent = decimal.Decimal(repr(abs(number))).normalize().as_tuple()
    digits = "".join(map(str, digit_tuple))
    point = len(digits) + int(exponent)  # digits before the decimal point
    if not -4 <= point - 1 < 6:
        mantissa = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
        return f"{sign}{mantissa}e{'-' if point - 1 < 0 else '+'}{abs(point - 1):02d}"
    if point <= 0:
        return f"{sign}0.{'0' * -point}{digits}"
    if point >= len(digits):
        return sign + digits + "0" * (point - len(digits))
    return f"{sign}{digits[:point]}.{digits[point:]}"


def _fill(text: str, params: dict[str, Any], where: str) -> str:
    for name, value in params.items():
        text = text.replace("${" + name + "}", go_string(value))
    left = [t for t in _TOKEN.findall(text) if t != URL_TOKEN]
    if left:
        raise UserError(
            f"{where}: {', '.join(sorted(set(left)))} has no default in {ALERT_PARAMS}",
            file=where.split(":")[0],
            hint="declare the parameter in the alert's params in its mixin, then run `cfmon generate`",
        )
    return text


def filled_text(path: str, text: str, defaults: dict[str, Any], header: str) -> str:
    """One rule file with every default filled in (the format described above)."""
    doc = load_yaml(text)
    urls: list[tuple[str, str]] = []
    for group in doc.get("groups") or []:
        for rule in group.get("rules") or []:
            alert = rule.get("alert")
            if not alert:
                continue
            params = defaults.get(alert) or {}
            where = f"{path}: alert {alert}"
            if "${" in rule["expr"]:
                rule["expr"] = _fill(rule["expr"], params, where)
            rule["labels"] = rule.get("labels") or {}
            annotations = {}
            for key, value in (rule.get("annotations") or {}).items():
                value = _fill(str(value), params, where)
                if URL_TOKEN in value:
                    if "\n" in value or not re.fullmatch(r"[A-Za-z0-9_]+", key):
                        raise UserError(
                            f"{where}: annotation {key!r} names the Grafana URL but is not one line "
                            "with a plain key, which the chart's shipped rule files cannot hold",
                            file=path,
                            hint="keep annotations that link to Grafana on one line",
                        )
                    urls.append((key, value))
                    value = value.replace(URL_TOKEN, _SENTINEL.format(len(urls) - 1))
                annotations[key] = value
            rule["annotations"] = annotations
    body = to_helm_yaml(doc)
    if "\n" + URL_LINE in "\n" + body:
        raise UserError(f"{path}: a line starts with {URL_LINE!r}, the chart's marker", file=path)

    written = []

    def url_lines(m: re.Match) -> str:
        at = _SENTINEL_AT.search(m.group(0))
        if not at:
            return m.group(0)
        key, value = urls[int(at.group(1))]
        if key != m.group(1):
            raise AssertionError(f"{path}: annotation {key} written as {m.group(1)}")
        written.append(key)
        tail = value.removeprefix(URL_TOKEN)
        plain = value.startswith(URL_TOKEN) and URL_TOKEN not in tail and _PLAIN_TAIL.fullmatch(tail)
        if not plain or not m.group(2).startswith(at.group(0)):
            return f"{URL_LINE}{NEVER} 0 {key} {value}\n"
        folded = m.group(0).replace(at.group(0), URL_TOKEN)
        lines = folded.count("\n")
        # The first break comes at the first space once the first word ends past the width.
        first_word = len(f"      {key}: ") + len(tail.split(" ")[0])
        shortest = 0 if " " not in tail else max(0, HELM_YAML_WIDTH + 1 - first_word)
        return f"{URL_LINE}{shortest} {lines} {key} {value}\n{folded}"

    body = _KEY_BLOCK.sub(url_lines, body)
    if len(written) != len(urls):
        raise AssertionError(f"{path}: {len(urls)} Grafana links, {len(written)} written with {URL_LINE!r}")
    return f"# {header}\n{body}"


def build(generated: dict[str, str], header: str) -> dict[str, str]:
    """files/rules-filled/<name> for every generated files/rules/<name>, from the same run's
    texts (`generated`: path -> text). `header` is the generated-file note (one line)."""
    defaults = load_yaml(generated[ALERT_PARAMS]) or {}
    out = {}
    for path, text in sorted(generated.items()):
        if path.startswith(RULES_DIR + "/") and path.endswith(".yaml"):
            name = path.removeprefix(RULES_DIR + "/")
            out[f"{FILLED_DIR}/{name}"] = filled_text(path, text, defaults, header)
    return out
