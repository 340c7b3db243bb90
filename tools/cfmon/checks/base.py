"""What every check shares: the finding it reports, the context it reads, the base class."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import yaml

from cfmon.project import Project
from cfmon.render import Rendered
from cfmon.rendered.rules import rule_name, rule_source
from cfmon.serialize import load_yaml, parse_yaml


@dataclass(frozen=True)
class Finding:
    check: str
    severity: str  # error | warning | info (info: what a team overlay replaced; never fails)
    message: str
    file: str | None = None  # the file a user edits (template, values file, Jsonnet, test)
    line: int | None = None
    hint: str | None = None
    env: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if v is not None}


@dataclass
class Context:
    project: Project
    env: str
    rendered: Rendered
    # Renders the environment again (for determinism); returns helm's whole output.
    rerender: Callable[[], str] | None = None
    scratch: Path | None = None  # a temporary directory the checks may use
    cache: dict[str, Any] = field(default_factory=dict)
    # The teams (values/teams/<team>/) whose overlays this render applies: their tests run too.
    teams: tuple[Any, ...] = ()
    label: str | None = None  # how findings name the render, e.g. prod+ai-models (default: env)

    @property
    def overlays(self) -> list[Any]:
        """The overlays of this render (values files after values/<env>.yaml), parsed."""
        return self.rendered.loaded[2:]

    def objects(self, kind: str | None = None) -> Iterator[Any]:
        for res in self.rendered.resources:
            if kind is None or res.kind == kind:
                yield res


class Check:
    """One rule about what ships. Subclasses set `id`, `severity` and a docstring (why, bad, good)."""

    id: ClassVar[str]
    severity: ClassVar[str] = "error"

    def run(self, ctx: Context) -> list[Finding]:
        raise NotImplementedError

    @classmethod
    def prepare(cls, project: Project) -> None:
        """Read and parse, once, what every render of the project shares (committed files, samples,
        test tables), into this process's caches: renders are checked side by side in processes
        forked from this one, which start with it done instead of each doing it again. Optional;
        `run` must give the same findings without it."""

    def finding(
        self,
        ctx: Context,
        message: str,
        *,
        file: str | None = None,
        line: int | None = None,
        hint: str | None = None,
        severity: str | None = None,
    ) -> Finding:
        return Finding(self.id, severity or self.severity, message, file, line, hint, ctx.label or ctx.env)

    def rule_finding(
        self,
        ctx: Context,
        message: str,
        *,
        rule_file: str,
        rule: dict,
        hint: str | None = None,
        severity: str | None = None,
    ) -> Finding:
        """A finding about one rendered rule, at the file and line of the mixin that defines it."""
        file, line = rule_source(ctx.project.root, rule_file, rule_name(rule))
        return self.finding(ctx, message, file=file, line=line, hint=hint, severity=severity)


def read_mapping(
    check: Check, ctx: Context, path: Path, *, shared: bool = False
) -> tuple[dict, Finding | None]:
    """A YAML file that must be a mapping (test tables): its content, or the finding that says why not.
    `shared`: the one parse of that text every render reads (never change it; copy what you change)."""
    rel = ctx.project.rel(path)
    try:
        doc = (parse_yaml if shared else load_yaml)(path.read_text())
    except yaml.YAMLError as exc:
        return {}, check.finding(ctx, f"not valid YAML: {exc}", file=rel, hint="fix the YAML syntax")
    if doc is None:
        return {}, None
    if not isinstance(doc, dict):
        return {}, check.finding(
            ctx,
            f"the top level must be a mapping, not a {type(doc).__name__}",
            file=rel,
            hint="see the other files in the same folder for the layout",
        )
    return doc, None


def locate_text(
    project: Project, files: list[Path], needle: str, *, key: str | None = None
) -> tuple[str | None, int | None]:
    """The values file and line that holds `needle` (the line that also names `key`, if any)."""
    fallback: tuple[str | None, int | None] = (None, None)
    for path in files:
        try:
            lines = path.read_text().splitlines()
        except OSError:
            continue
        for number, text in enumerate(lines, 1):
            code = text.split("#", 1)[0] if not text.lstrip().startswith("#") else ""
            if needle not in code:
                continue
            if key is None or re.search(rf"(^|[\s{{,]){re.escape(key)}\s*:", code):
                return project.rel(path), number
            if fallback == (None, None):
                fallback = (project.rel(path), number)
    return fallback
