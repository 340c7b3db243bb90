"""Series to check selectors against: exporter samples (Prometheus text exposition files) as the
rendered scrape config would store them, or a live Prometheus's `/api/v1/series`.

A sample is what one exporter exposes. What Prometheus stores differs in two ways, both read from
the rendered scrape job: the target labels its `relabel_configs` set (`job`, `instance`, and e.g.
`namespace`/`pod` from Kubernetes service discovery, `cluster`/`environment`) are added to every
series with a value we cannot know here (ANY: every matcher accepts it), an exposed label of the
same name becoming `exported_<name>` unless the job honours labels; and its
`metric_relabel_configs` run over every series (renames, drops). Prometheus's own per-target
series (`up`, `scrape_*`) are added for every job.

Regexes are Python's `re`, anchored (fullmatch) like Prometheus's; the RE2 syntax the rules use
(classes, alternations, repetitions) means the same in both.
"""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from functools import lru_cache
from pathlib import Path

from cfmon.errors import UserError

ANY = "\x00any"  # a target label's value: set at scrape time, unknown here
SERIES_LIMIT = 5000  # series asked of a live Prometheus per selector
SCRAPE_SERIES = (
    "up",
    "scrape_duration_seconds",
    "scrape_samples_scraped",
    "scrape_samples_post_metric_relabeling",
    "scrape_series_added",
)

Series = dict[str, str]  # labels, __name__ included


class SampleError(UserError):
    """A sample file that is not Prometheus text exposition."""


# ---- exposition format --------------------------------------------------------------------------

_NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
_LINE = re.compile(rf"({_NAME})\s*(?:\{{(.*)\}})?\s+(\S+)(?:\s+(-?\d+))?\s*")
_LABEL = re.compile(r'\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*=\s*"((?:[^"\\]|\\.)*)"\s*(,|$)')
_VALUE = re.compile(r"[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?|[-+]?(Inf|inf)|NaN|nan")
_UNESCAPE = {"\\\\": "\\", '\\"': '"', "\\n": "\n"}


def parse_exposition(text: str, where: str) -> list[Series]:
    """Every series of a text exposition (0.0.4, or OpenMetrics without exemplars); raises
    SampleError naming `where` and the line when a line is neither a comment nor a sample."""
    out: list[Series] = []
    types: dict[str, str] = {}
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if line.startswith("# TYPE "):
            parts = line.split()
            if len(parts) >= 4:
                types[parts[2]] = parts[3]
        if not line or line.startswith("#"):
            continue
        m = _LINE.fullmatch(_without_exemplar(line))
        if not m or not _VALUE.fullmatch(m.group(3)):
            raise SampleError(
                f'line {number} is not a sample line (`name{{label="value"}} value`): {raw[:80]!r}',
                file=where,
                line=number,
                hint="samples are Prometheus text exposition, e.g. what `curl host:port/metrics` shows",
            )
        labels = {"__name__": m.group(1)}
        body = m.group(2) or ""
        pos = 0
        while pos < len(body.rstrip()):
            lm = _LABEL.match(body, pos)
            if not lm:
                raise SampleError(
                    f"line {number}: bad label set {{{body[:60]}}}",
                    file=where,
                    line=number,
                    hint='labels are name="value" pairs separated by commas',
                )
            value = re.sub(r"\\[\\\"n]", lambda e: _UNESCAPE[e.group(0)], lm.group(2))
            if value:  # Prometheus stores no label with an empty value: it is absent
                labels[lm.group(1)] = value
            pos = lm.end()
        out.append(_normalised(labels, types))
    if not out:
        raise SampleError(
            "has no samples", file=where, hint="record it again (`cfmon conformance record`) or write one"
        )
    return out


def _normalised(labels: Series, types: dict[str, str]) -> Series:
    """Prometheus 3 stores the `le` of a classic histogram's buckets and the `quantile` of a
    summary as floats formatted its way (`le="1"` is stored as `le="1.0"`): a rule matching
    `le="1"` reads nothing, so the samples are seen as stored."""
    name = labels["__name__"]
    if "le" in labels and name.endswith("_bucket") and types.get(name[: -len("_bucket")]) == "histogram":
        return {**labels, "le": prometheus_float(labels["le"])}
    if "quantile" in labels and types.get(name) == "summary":
        return {**labels, "quantile": prometheus_float(labels["quantile"])}
    return labels


def prometheus_float(text: str) -> str:
    """A float as Prometheus 3 formats `le`/`quantile` values: Go's shortest %g (exponent from
    1e+06 and below 1e-04), with `.0` added to an integer; +Inf, -Inf, NaN as such."""
    try:
        f = float(text)
    except ValueError:
        return text
    if f != f:
        return "NaN"
    if f in (float("inf"), float("-inf")):
        return "+Inf" if f > 0 else "-Inf"
    if f == 0:
        return "0.0"
    sign, digits, exp = Decimal(repr(f)).normalize().as_tuple()
    mantissa = "".join(map(str, digits))
    point = len(mantissa) + int(exp)  # the number is 0.<mantissa> x 10^point
    x = point - 1  # the exponent of d.ddd
    if x < -4 or x >= 6:
        body = mantissa[0] + ("." + mantissa[1:] if len(mantissa) > 1 else "")
        out = f"{body}e{'-' if x < 0 else '+'}{abs(x):02d}"
    elif point <= 0:
        out = "0." + "0" * -point + mantissa
    elif point >= len(mantissa):
        out = mantissa + "0" * (point - len(mantissa)) + ".0"
    else:
        out = mantissa[:point] + "." + mantissa[point:]
    return ("-" if sign else "") + out


def _without_exemplar(line: str) -> str:
    """The sample line without an OpenMetrics exemplar (` # {...} value`), quotes respected."""
    quoted = False
    i = 0
    while i < len(line):
        ch = line[i]
        if quoted and ch == "\\":
            i += 2
            continue
        if ch == '"':
            quoted = not quoted
        elif not quoted and line.startswith(" # ", i):
            return line[:i]
        i += 1
    return line


# ---- scrape jobs ----------------------------------------------------------------------------------


@dataclass
class Job:
    """A rendered scrape job: what it adds to and does to the series it scrapes."""

    name: str
    target_labels: set[str] = field(default_factory=set)
    honor_labels: bool = False
    metric_relabel: list[dict] = field(default_factory=list)

    @classmethod
    def from_config(cls, cfg: dict) -> Job:
        labels = {"job", "instance"}
        for rc in cfg.get("relabel_configs") or []:
            action = str(rc.get("action", "replace")).lower()
            target = str(rc.get("target_label") or "")
            if (
                action in ("replace", "lowercase", "uppercase", "hashmod")
                and target
                and not target.startswith("__")
            ):
                labels.add(target)
        for sc in cfg.get("static_configs") or []:
            labels |= set((sc or {}).get("labels") or {})
        return cls(
            str(cfg.get("job_name")),
            labels,
            bool(cfg.get("honor_labels")),
            [rc for rc in cfg.get("metric_relabel_configs") or [] if isinstance(rc, dict)],
        )

    def store(self, series: Iterable[Series]) -> list[Series]:
        """The series as this job stores them: target labels added, metric relabelling applied."""
        out = []
        for s in series:
            s = dict(s)
            for label in self.target_labels:
                if label in s and not self.honor_labels:
                    s["exported_" + label] = s[label]
                if label not in s or not self.honor_labels:
                    s[label] = ANY
            s["job"] = self.name if not self.honor_labels or "job" not in s else s["job"]
            kept = relabel(s, self.metric_relabel)
            if kept is not None:
                out.append(kept)
        base = {label: ANY for label in self.target_labels} | {"job": self.name}
        out += [base | {"__name__": name} for name in SCRAPE_SERIES]
        return out


def _template(replacement: str) -> str:
    """A Prometheus replacement ($1, ${1}, $name) as a Python match template."""
    return re.sub(r"\$\{?(\w+)\}?", r"\\g<\1>", replacement.replace("\\", "\\\\"))


def relabel(series: Series, configs: list[dict]) -> Series | None:
    """Prometheus relabelling (replace, keep, drop, labeldrop, labelkeep, labelmap, lowercase,
    uppercase) of one label set; None when it is dropped. Other actions leave it unchanged."""
    s = dict(series)
    for rc in configs:
        action = str(rc.get("action", "replace")).lower()
        try:
            regex = re.compile(str(rc.get("regex", "(.*)")))
        except re.error:
            continue  # promtool check config reports it
        sep = str(rc.get("separator", ";"))
        value = sep.join(s.get(str(name), "") for name in rc.get("source_labels") or [])
        if action == "keep" and not regex.fullmatch(value):
            return None
        if action == "drop" and regex.fullmatch(value):
            return None
        if action == "labeldrop":
            s = {k: v for k, v in s.items() if k == "__name__" or not regex.fullmatch(k)}
        elif action == "labelkeep":
            s = {k: v for k, v in s.items() if k == "__name__" or regex.fullmatch(k)}
        elif action == "labelmap":
            repl = _template(str(rc.get("replacement", "$1")))
            for k, v in list(s.items()):
                m = regex.fullmatch(k)
                if m:
                    s[m.expand(repl)] = v
        elif action in ("replace", "lowercase", "uppercase"):
            target = str(rc.get("target_label") or "")
            m = regex.fullmatch(value)
            if not target or not m:
                continue
            new = value.lower() if action == "lowercase" else value.upper() if action == "uppercase" else None
            if new is None:
                new = m.expand(_template(str(rc.get("replacement", "$1"))))
            if new:
                s[target] = new
            else:
                s.pop(target, None)
    return s


# ---- matching -------------------------------------------------------------------------------------


def matches(value: str | None, op: str, pattern: str) -> bool:
    """One label matcher against a label's value (None: absent, which matches like "")."""
    if value == ANY:
        return True
    value = value or ""
    if op == "=":
        return value == pattern
    if op == "!=":
        return value != pattern
    try:
        hit = re.fullmatch(pattern, value, re.S) is not None
    except re.error:
        return False
    return hit if op == "=~" else not hit


# ---- a live Prometheus ----------------------------------------------------------------------------


class LivePrometheus:
    """`/api/v1/series` of a running Prometheus, over a bounded window, with a timeout."""

    def __init__(
        self, url: str, *, window_seconds: int = 3600, timeout: float = 10.0, now: float | None = None
    ):
        import time

        parsed = urllib.parse.urlparse(url)
        if parsed.scheme not in ("http", "https") or not parsed.netloc:
            raise UserError(
                f"{url!r} is not an http(s) URL", key="--prometheus", hint="e.g. http://127.0.0.1:9090"
            )
        self.url = url.rstrip("/")
        self.timeout = timeout
        self.end = now if now is not None else time.time()
        self.start = self.end - window_seconds
        self.cache: dict[str, list[Series]] = {}

    def series(self, match: str) -> list[Series]:
        if match in self.cache:
            return self.cache[match]
        # `limit` bounds the answer on a big production metric (Prometheus >= 2.49; older ones
        # ignore it): a few thousand series show which labels the metric carries.
        query = urllib.parse.urlencode(
            {"match[]": match, "start": f"{self.start:.3f}", "end": f"{self.end:.3f}", "limit": SERIES_LIMIT}
        )
        url = f"{self.url}/api/v1/series?{query}"
        try:
            with urllib.request.urlopen(url, timeout=self.timeout) as resp:
                body = resp.read()
        except urllib.error.HTTPError as exc:
            detail = exc.read()[:300].decode(errors="replace")
            if exc.code == 400:  # a selector Prometheus refuses: no series, say why
                raise UserError(
                    f"Prometheus at {self.url} refused {match}: {detail}", key="--prometheus"
                ) from None
            raise UserError(
                f"Prometheus at {self.url} answered HTTP {exc.code} to /api/v1/series: {detail}",
                key="--prometheus",
                hint="check the URL (the Prometheus base URL, without /api/v1) and its auth",
            ) from None
        except (urllib.error.URLError, OSError, TimeoutError) as exc:
            reason = getattr(exc, "reason", exc)
            raise UserError(
                f"cannot reach Prometheus at {self.url}: {reason}",
                key="--prometheus",
                hint="check the URL and that it is reachable from here "
                "(port-forward it when it runs in a cluster)",
            ) from None
        try:
            doc = json.loads(body)
            data = doc["data"] if doc.get("status") == "success" else None
        except (ValueError, AttributeError, KeyError, TypeError):
            data = None
        if not isinstance(data, list):
            raise UserError(
                f"{self.url}/api/v1/series did not answer a Prometheus API JSON document: "
                f"{body[:120].decode(errors='replace')!r}",
                key="--prometheus",
                hint="point --prometheus at the Prometheus server itself (e.g. http://127.0.0.1:9090)",
            )
        self.cache[match] = [{str(k): str(v) for k, v in s.items()} for s in data if isinstance(s, dict)]
        return self.cache[match]


def read_sample(path: Path, rel: str) -> list[Series]:
    try:
        text = path.read_text()
    except (OSError, UnicodeDecodeError) as exc:
        raise SampleError(f"cannot read: {exc}", file=rel) from None
    return list(_parsed_sample(text, rel))


@lru_cache(maxsize=64)
def _parsed_sample(text: str, rel: str) -> tuple[Series, ...]:
    """A sample parsed once per distinct text: every render reads the same samples. The series
    are shared: read them, never change them (a job's `store` copies what it changes)."""
    return tuple(parse_exposition(text, rel))


# ---- which sample a job's series come from --------------------------------------------------------

TABLE = "tests/conformance/exporters.yaml"
SAMPLES = "tests/conformance/samples"


@dataclass(frozen=True)
class Exporter:
    name: str
    samples: tuple[str, ...]  # file stems before -<version>.prom; (): built from the metrics contract
    jobs: tuple[str, ...]
    prefixes: tuple[str, ...]
    supplements: tuple[str, ...] = ()  # written series the recording conditions cannot produce


def load_table(root: Path) -> list[Exporter]:
    """The exporter table: for each exporter its sample, the scrape jobs that scrape it and the
    metric-name prefixes that are its own."""
    import yaml

    path = root / TABLE
    try:
        doc = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as exc:
        raise UserError(f"cannot read the exporter table: {exc}", file=TABLE) from None
    entries = (doc or {}).get("exporters") if isinstance(doc, dict) else None
    if not isinstance(entries, dict):
        raise UserError("needs a mapping `exporters:`", file=TABLE, key="exporters")
    out = []
    for name, spec in entries.items():
        if not isinstance(spec, dict) or not (spec.get("sample") or spec.get("contract")):
            raise UserError(
                "each exporter needs `sample: [<file stem>, ...]` or `contract: true`",
                file=TABLE,
                key=f"exporters.{name}",
            )
        lists = {key: spec.get(key) or [] for key in ("sample", "jobs", "prefixes", "supplements")}
        lists = {k: [v] if isinstance(v, str) else v for k, v in lists.items()}
        if not all(isinstance(v, list) and all(isinstance(x, str) for x in v) for v in lists.values()):
            raise UserError(
                "sample, jobs, prefixes and supplements are lists of strings",
                file=TABLE,
                key=f"exporters.{name}",
            )
        out.append(
            Exporter(
                str(name),
                tuple(lists["sample"]),
                tuple(lists["jobs"]),
                tuple(lists["prefixes"]),
                tuple(lists["supplements"]),
            )
        )
    return out


def _version_key(path: Path) -> list:
    return [int(p) if p.isdigit() else p for p in re.split(r"(\d+)", path.stem)]


def sample_file(root: Path, stem: str) -> Path | None:
    """The newest tests/conformance/samples/<stem>-<version>.prom."""
    found = sorted((root / SAMPLES).glob(f"{stem}-*.prom"), key=_version_key)
    found = [p for p in found if re.fullmatch(re.escape(stem) + r"-v?\d[\w.+-]*", p.stem)]
    return found[-1] if found else None


def contract_series(contract: dict) -> list[Series]:
    """One series per name of the application metrics contract, every label it declares present
    (values are the services'; any value)."""
    out: list[Series] = []
    for name, spec in sorted(contract.items()):
        labels = {label: ANY for label in spec.get("labels") or []}
        if spec.get("type") == "histogram":
            out.append({"__name__": name + "_bucket", "le": ANY, **labels})
            out += [{"__name__": name + suffix, **labels} for suffix in ("_sum", "_count")]
        else:
            out.append({"__name__": name, **labels})
    return out
