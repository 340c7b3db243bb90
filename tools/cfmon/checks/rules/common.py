"""What the label-keeping rule checks share: each rule's parsed parts, and the labels a label list
loses."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import TypeVar

from cfmon import promql
from cfmon.catalog import conventions
from cfmon.checks.base import Context

T = TypeVar("T")


def parsed(ctx: Context, parts: Callable[[str], list[T]]) -> Iterator[tuple[str, dict, T]]:
    """(rule file, rule, part) for each part `parts` finds in each rule's expression; expressions
    that do not parse are skipped (prometheus/rules reports them)."""
    for file, _, rule in ctx.rendered.model.rules:
        try:
            found = parts(str(rule.get("expr", "")))
        except promql.PromqlError:
            continue
        for part in found:
            yield file, rule, part


def lost_labels(labels: Iterable[str], *, listed_are_kept: bool) -> list[str]:
    """The aggregation labels (cluster, environment) a label list loses: those a `by`/`on` list
    does not name, or those a `without`/`ignoring` list names."""
    listed = set(labels)
    return [label for label in conventions().aggregation_labels if (label in listed) != listed_are_kept]
