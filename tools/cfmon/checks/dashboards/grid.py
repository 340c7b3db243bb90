"""`dashboards/grid`: Every panel sits on the dashboard grid (its width from the conventions) and
no two panels overlap.

One check per module; its class docstring says why, and what is bad and good.
"""

from __future__ import annotations

import json

from cfmon.catalog import conventions
from cfmon.checks.base import Context, Finding
from cfmon.checks.dashboards.common import (
    DashboardCheck,
    valid_dashboards,
)
from cfmon.rendered import grafana
from cfmon.rendered.grafana import Panel


def _grid(panel: Panel) -> tuple[int, int, int, int] | str:
    """(x, y, w, h), or what is wrong with the panel's gridPos."""
    pos = panel.obj.get("gridPos")
    if not isinstance(pos, dict):
        return "has no gridPos"
    values = [pos.get(k) for k in ("x", "y", "w", "h")]
    if not all(isinstance(v, int) and not isinstance(v, bool) for v in values):
        return f"has a gridPos that is not four integers x, y, w, h: {json.dumps(pos, sort_keys=True)}"
    x, y, w, h = values
    columns = conventions().grid_columns
    if x < 0 or y < 0 or w < 1 or h < 1 or x + w > columns:
        return (
            f"has gridPos x={x} y={y} w={w} h={h}, outside the {columns}-column grid "
            f"(x >= 0, w >= 1, x + w <= {columns}, h >= 1)"
        )
    return x, y, w, h


class PanelGrid(DashboardCheck):
    """Every panel sits on the dashboard grid (its width from the conventions) and no two panels overlap.

    Why: Grafana silently moves overlapping panels, so the layout people see is not the one
    reviewed (and changes as panels are added). The panels of a collapsed row are checked against
    each other (they are laid out when the row opens). Bad: x 12 w 16 (past column 24), two panels
    at x 0 y 0. Good: side by side at x 0 w 12 and x 12 w 12.
    """

    id = "dashboards/grid"

    def run(self, ctx: Context) -> list[Finding]:
        findings = []
        for d in valid_dashboards(ctx):
            # The top level, and the panels of each collapsed row apart.
            layers: dict[int | None, list[tuple[Panel, tuple[int, int, int, int]]]] = {}
            for panel in grafana.panels(d.model):
                box = _grid(panel)
                if isinstance(box, str):
                    findings.append(
                        self.report(
                            ctx, d, f"{panel.label} {box}", needle=panel.title, hint="fix the panel's gridPos"
                        )
                    )
                    continue
                layer = layers.setdefault(panel.row_index, [])
                for other, obox in layer:
                    if _overlap(box, obox):
                        findings.append(
                            self.report(
                                ctx,
                                d,
                                f"{panel.label} at x={box[0]} y={box[1]} w={box[2]} h={box[3]} overlaps "
                                f"{other.label} at x={obox[0]} y={obox[1]} w={obox[2]} h={obox[3]}",
                                needle=panel.title,
                                hint="move one of them (the Jsonnet grid helper lays panels out in rows)",
                            )
                        )
                layer.append((panel, box))
        return findings


def _overlap(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> bool:
    ax, ay, aw, ah = a
    bx, by, bw, bh = b
    return ax < bx + bw and bx < ax + aw and ay < by + bh and by < ay + ah
