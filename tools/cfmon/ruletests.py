"""Running promtool rule unit tests one test group at a time, each against only the rules it needs.

A test file's groups are independent (each has its own series and clock), so each becomes a test
file of its own whose `rule_files` are the rendered files cut down to what that group can observe
(`cfmon.ruledeps`). That makes each group cheap, and makes its result a function of few bytes: the
group and the rules it depends on. Results are kept per group, in this process and in the
persistent cache (`cfmon.cache`), so an edit to one alert reruns only the groups that can see it,
and renders whose rules agree share every run.

The groups still to run are passed to promtool many files per process (start-up is paid once per
batch, and the batches use every core), and promtool's JUnit report says which file passed.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
import xml.etree.ElementTree as ET
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

from cfmon import binaries, cache

_DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


@dataclass(frozen=True)
class Group:
    """One test group as a test file of its own, with the rule files it loads (name -> bytes)."""

    test: dict  # the test file: its settings, `rule_files` (basenames) and this one group
    rules: dict[str, bytes]
    cost: float = 1.0  # a relative estimate of promtool's work, to balance the batches


@dataclass(frozen=True)
class Result:
    ok: bool
    output: str  # promtool's verdict for the group (empty when it passed)


# digest -> result, for the life of the process (renders with the same rules share a run).
_RESULTS: dict[str, Result] = {}


def rules_text(doc: dict) -> bytes:
    """A rule file for promtool, written as JSON (which is YAML): several times faster to write than
    YAML, and the same document to promtool (every value a rule file holds keeps its type).
    Test files are written as YAML: a value like `2.5e9`, a string to PyYAML, must reach promtool
    unquoted to be the number it means."""
    return json.dumps(doc, separators=(",", ":")).encode()


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class _Written:
    """A group's files in the scratch directory, named by content (the paths are part of what
    promtool reads, so of the cache key: the same content gets the same path in every run).

    The key is taken from the group's data, not from the files: most groups are answered from the
    cache, and those never need their YAML written. `repr` of the test document is exact for what
    a YAML file holds (it tells 1 from 1.0 and "1"), and the YAML written from it is a function of
    it, so equal keys mean equal files."""

    def __init__(self, group: Group, scratch: Path) -> None:
        self.folder = scratch / "rule-tests"
        self.key = cache.Key("promtool-test-group")
        self.rules: dict[str, bytes] = {}  # path relative to the test file -> bytes
        for name, body in sorted(group.rules.items()):
            digest = _body_digest(body)
            rel = f"rules-{digest[:16]}/{name}"
            self.rules[rel] = body
            self.key.add("rule file", f"{rel} {digest}")
        # rule_files relative to the test file (promtool resolves them so): the test's bytes are
        # the same in every scratch directory.
        self.doc = {**group.test, "rule_files": list(self.rules)}
        self.key.add("test", repr(self.doc))
        self.key.add("writer", f"pyyaml {yaml.__version__}").add(
            "tool", f"promtool {binaries.probe('promtool').version}"
        )
        self.test: Path | None = None

    def write(self) -> Path:
        """The files promtool reads, written once; the test file's path."""
        if self.test is None:
            for rel, body in self.rules.items():
                path = self.folder / rel
                if not path.exists():
                    path.parent.mkdir(parents=True, exist_ok=True)
                    path.write_bytes(body)
            body = yaml.dump(self.doc, Dumper=_DUMPER, sort_keys=False).encode()
            self.test = self.folder / f"group-{_digest(body)[:16]}.yaml"
            if not self.test.exists():
                self.test.write_bytes(body)
        return self.test


@lru_cache(maxsize=4096)
def _body_digest(body: bytes) -> str:
    """A rule file's digest, computed once per distinct file (many groups load the same one)."""
    return _digest(body)


def run(groups: list[Group], scratch: Path) -> list[Result]:
    """Each group's result, in order: from this process's memory or the cache when the same
    bytes were tested before, else from promtool (many groups per process, one batch a core)."""
    written = [_Written(g, scratch) for g in groups]
    todo: dict[str, tuple[_Written, float]] = {}
    for w, g in zip(written, groups, strict=True):
        digest = w.key.digest
        if digest in _RESULTS or digest in todo:
            continue
        stored = w.key.get()
        if stored is not None:
            _RESULTS[digest] = Result(stored["ok"], stored["output"])
        else:
            todo[digest] = (w, g.cost)
    # Renders checked side by side in other processes need many of the same groups now: run the
    # ones no other process has claimed, then take theirs from the cache (or run what they gave up).
    mine = {d: item for d, item in todo.items() if item[0].key.claim()}
    try:
        _run_all(list(mine.values()), scratch)
    finally:
        for w, _ in mine.values():
            w.key.release()
    left = []
    for digest, item in todo.items():
        if digest in mine:
            continue
        stored = item[0].key.wait()
        if stored is not None:
            _RESULTS[digest] = Result(stored["ok"], stored["output"])
        else:
            left.append(item)
    _run_all(left, scratch)
    return [_RESULTS[w.key.digest] for w in written]


def _run_all(items: list[tuple[_Written, float]], scratch: Path) -> None:
    batches = _balanced(items, os.cpu_count() or 2)
    with ThreadPoolExecutor(max_workers=max(1, len(batches))) as pool:
        for found in pool.map(lambda b: _run_batch(b, scratch), batches):
            _RESULTS.update(found)


def _balanced(items: list[tuple[_Written, float]], n: int) -> list[list[_Written]]:
    """At most n batches of about equal cost (largest first onto the lightest batch)."""
    batches: list[tuple[float, list[_Written]]] = [(0.0, []) for _ in range(min(n, len(items)))]
    for w, cost in sorted(items, key=lambda item: -item[1]):
        total, members = min(batches, key=lambda b: b[0])
        batches.remove((total, members))
        batches.append((total + cost, [*members, w]))
    return [members for _, members in batches]


def _run_batch(batch: list[_Written], scratch: Path) -> dict[str, Result]:
    fd, report_name = tempfile.mkstemp(dir=scratch, prefix="junit-", suffix=".xml")
    os.close(fd)
    report = Path(report_name)
    tests = [str(w.write()) for w in batch]
    proc = binaries.run("promtool", ["test", "rules", f"--junit={report}", *tests])
    suites = _suites(report)
    report.unlink(missing_ok=True)
    out: dict[str, Result] = {}
    for w, test in zip(batch, tests, strict=True):
        verdict = suites.get(test)
        if verdict is None:
            # No report for this file (promtool stopped early): say what it printed; keep nothing.
            text = _clean(proc.stdout + proc.stderr, scratch) or f"promtool exited {proc.returncode}"
            out[w.key.digest] = Result(False, text)
            continue
        ok, text = verdict
        out[w.key.digest] = Result(ok, _clean(text, scratch))
        w.key.put({"ok": ok, "output": out[w.key.digest].output})
    return out


def _suites(report: Path) -> dict[str, tuple[bool, str]]:
    """test file -> (passed, the failures' and errors' texts) from promtool's JUnit report."""
    try:
        root = ET.parse(report).getroot()
    except (OSError, ET.ParseError):
        return {}
    found = {}
    for suite in root.iter("testsuite"):
        problems = [
            el.text or "" for case in suite.iter("testcase") for el in case if el.tag in ("failure", "error")
        ]
        found[suite.get("name", "")] = (not problems, "\n".join(problems))
    return found


def _clean(text: str, scratch: Path) -> str:
    """promtool's words without the scratch paths."""
    return verdict(re.sub(re.escape(str(scratch)) + r"/rule-tests/(?:rules|group)-[0-9a-f]+/?", "", text))


def verdict(text: str) -> str:
    """promtool's output without banners, blank lines or repeats, one indented line a line."""
    lines: list[str] = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith(("Unit Testing:", "Checking ")) and line not in lines:
            lines.append(line)
    return "\n    ".join(lines)
