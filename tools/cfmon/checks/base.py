"""What every check shares: the finding it reports, the context it reads, the base class."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from cfmon.project import Project
from cfmon.render import Rendered


@dataclass(frozen=True)
class Finding:
    check: str
    severity: str  # error | warning
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

    def finding(
        self,
        ctx: Context,
        message: str,
        *,
        file: str | None = None,
        line: int | None = None,
        hint: str | None = None,
    ) -> Finding:
        return Finding(self.id, self.severity, message, file, line, hint, ctx.env)


def locate_text(project: Project, files: list[Path], needle: str) -> tuple[str | None, int | None]:
    """First values file and line that contains `needle` (to point a finding at what the user edits)."""
    for path in files:
        try:
            lines = path.read_text().splitlines()
        except OSError:
            continue
        for number, text in enumerate(lines, 1):
            if needle in text:
                return project.rel(path), number
    return None, None
