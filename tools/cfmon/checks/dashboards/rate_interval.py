"""`dashboards/rate-interval`: rate(), irate() and increase() read counters only, over
`[$__rate_interval]`.

One check per module; its class docstring says why, and what is bad and good.
"""

from __future__ import annotations

from collections.abc import Iterator

import promql_parser

from cfmon import promql
from cfmon.catalog import COUNTERS, catalog, declared_counters
from cfmon.checks.base import Context, Finding
from cfmon.checks.dashboards.common import DashboardCheck, promql_queries
from cfmon.rendered import grafana

COUNTER_SUFFIXES = ("_total", "_count", "_sum", "_bucket")
RATE_FUNCS = {"rate", "irate", "increase"}


def _rate_calls(tree) -> Iterator[tuple[str, str | None, float]]:
    """(function, metric name, range in seconds) of every rate/irate/increase over a selector."""
    for node in promql.walk(tree):
        if isinstance(node, promql_parser.Call) and node.func.name in RATE_FUNCS and node.args:
            arg = node.args[0]
            if isinstance(arg, promql_parser.MatrixSelector):
                yield node.func.name, arg.vector_selector.name, arg.range.total_seconds()


def _range_text(seconds: float) -> str:
    """A range as written: $__rate_interval for Grafana's (see grafana.BUILTINS), else 1h30m."""
    if seconds in grafana.BUILTIN_SECONDS:
        return grafana.BUILTIN_SECONDS[seconds]
    text, rest = "", seconds
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if rest >= size:
            text += f"{int(rest // size)}{unit}"
            rest %= size
    return text + (f"{rest:g}s" if rest or not text else "")


class RateInterval(DashboardCheck):
    """rate(), irate() and increase() read counters only, over `[$__rate_interval]`.

    Why: rate() of a gauge is meaningless (and of a recording rule, a rate of a rate); a fixed
    `[5m]` shows nothing when the scrape interval or the zoom makes the step larger, and a
    `[$__interval]` shorter than two scrapes draws gaps. $__rate_interval is Grafana's range that is
    always at least four scrape intervals. increase() may also use `[$__range]` (a stat's "in the
    selected time range"). Counters: names ending _total, _count, _sum or _bucket, and the exporter
    counters declared in jsonnet/metrics-counters.jsonnet. Bad: `rate(pg_up[5m])`,
    `rate(http_requests_total[1m])`. Good: `rate(http_requests_total[$__rate_interval])`,
    `increase(x_total[$__range])`.
    """

    id = "dashboards/rate-interval"

    def run(self, ctx: Context) -> list[Finding]:
        found = list(promql_queries(ctx))
        if not found:
            return []
        root = ctx.project.root.resolve()
        counters = declared_counters(root)
        findings = [
            self.finding(
                ctx,
                f"{COUNTERS} declares {name}, which is not in the metrics catalog",
                file=str(COUNTERS),
                hint="fix the name, or add the metric to its mixin's exporterMetrics",
            )
            for name in sorted(counters - catalog(root))
        ]
        for q, tree in found:
            for func, name, seconds in _rate_calls(tree):
                if name and not name.endswith(COUNTER_SUFFIXES) and name not in counters:
                    findings.append(
                        self.report(
                            ctx,
                            q.dashboard,
                            f"{q.where}: {func}() over {name}, which is not a counter",
                            needle=q.needle,
                            hint="graph a gauge as is (or with avg_over_time/deriv); rate() only counters",
                        )
                    )
                allowed = {"$__rate_interval"} | ({"$__range"} if func == "increase" else set())
                used = _range_text(seconds)
                if used not in allowed:
                    findings.append(
                        self.report(
                            ctx,
                            q.dashboard,
                            f"{q.where}: {func}({name or '...'}[{used}]) should use "
                            f"[{' or '.join(sorted(allowed))}]",
                            needle=q.needle,
                            hint="use [$__rate_interval]: it grows with the step and the scrape interval",
                        )
                    )
        return findings
