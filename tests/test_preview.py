"""cfmon preview and the docs' dashboard pictures: each dashboard's layout as a well-formed SVG with
every panel a box at its grid position, rows as bands, collapsed rows shown closed; an index with the
dashboard's facts; the same bytes on every run; and the CLI's exit codes."""

from __future__ import annotations

import dataclasses
import json
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from test_checks_dashboards import (
    FIXTURE,
    MIXIN,
    MIXIN_TEXT,
    dashboard_configmap,
    good,
    rendered_with,
    write_source_map,
)

from cfmon import docs, preview
from cfmon.errors import UserError
from cfmon.preview import COL, GAP, HEADER, MARGIN, ROW, picture_width
from cfmon.project import Project

SVG = "{http://www.w3.org/2000/svg}"
CHART_DASHBOARDS = "charts/creativeflow-monitoring/charts/grafana/files/dashboards"


def view(model: dict | None = None) -> preview.DashboardView:
    [v] = preview.collect({"prod": rendered_with(model or good())})
    return v


def parse(svg_text: str) -> ET.Element:
    return ET.fromstring(svg_text.encode())


def groups(root: ET.Element, cls: str) -> list[ET.Element]:
    return [g for g in root.iter(f"{SVG}g") if cls in g.get("class", "").split()]


def texts(group: ET.Element) -> list[str]:
    return [t.text or "" for t in group.iter(f"{SVG}text")]


def rect(group: ET.Element) -> tuple[int, int, int, int]:
    r = group.find(f"{SVG}rect")
    assert r is not None
    return tuple(int(r.get(k)) for k in ("x", "y", "width", "height"))  # type: ignore[return-value]


def boxes(root: ET.Element) -> dict[str, tuple[int, int, int, int]]:
    """Panel title -> its rectangle."""
    return {texts(g)[0]: rect(g) for g in groups(root, "panel")}


def expected_rect(x: int, y: int, w: int, h: int) -> tuple[int, int, int, int]:
    return (MARGIN + x * COL + GAP // 2, HEADER + y * ROW + GAP // 2, w * COL - GAP, h * ROW - GAP)


# ---- the SVG ----------------------------------------------------------------------------------------


def test_svg_is_well_formed_and_sized_to_the_grid():
    root = parse(preview.svg(view()))
    assert root.tag == f"{SVG}svg"
    assert root.findtext(f"{SVG}title") == "Fixture / Overview"
    # 24 columns of 40 px between the margins; as tall as the lowest panel (y 17 + h 1).
    assert (int(root.get("width")), int(root.get("height"))) == (picture_width(), HEADER + 18 * ROW + MARGIN)
    assert picture_width() == 2 * MARGIN + 24 * COL


def test_panels_are_boxes_at_their_grid_coordinates():
    found = boxes(parse(preview.svg(view())))
    assert found == {
        "Request rate": expected_rect(0, 1, 12, 8),
        "Latency p99": expected_rect(12, 1, 12, 8),
        "Server errors in range": expected_rect(0, 9, 6, 8),
        "Error logs": expected_rect(6, 9, 18, 8),
    }
    # In pixels: x 0 w 12 is the left half; x 12 starts at the middle.
    assert found["Request rate"] == (18, 88, 476, 236)
    assert found["Latency p99"][0] == 18 + 480


def test_panel_shows_its_type_unit_queries_and_description():
    root = parse(preview.svg(view()))
    [request_rate] = [g for g in groups(root, "panel") if texts(g)[0] == "Request rate"]
    assert "timeseries" in request_rate.get("class", "")
    assert texts(request_rate)[1] == "timeseries · reqps · 1 query"
    assert "a drop to 0 means no traffic reaches it." in " ".join(texts(request_rate))
    assert request_rate.findtext(f"{SVG}title").startswith("Request rate: Requests per second by service")


def test_rows_are_bands_and_a_collapsed_row_shows_what_it_holds():
    root = parse(preview.svg(view()))
    rows = groups(root, "row")
    assert [texts(g)[0] for g in rows] == [
        "▾ Traffic",
        "▸ Details  (collapsed: 2 panels: Log lines by level, Commits)",
    ]
    assert rect(rows[0]) == (MARGIN + GAP // 2, HEADER + GAP // 2, 24 * COL - GAP, ROW - GAP)
    assert "collapsed" in rows[1].get("class", "").split()
    assert rows[1].find(f"{SVG}rect").get("stroke-dasharray") == "4 3"
    # The panels of a collapsed row are not drawn as boxes.
    assert "Commits" not in boxes(root)


def test_long_titles_wrap_in_narrow_panels():
    def change(m):
        m["panels"][3]["title"] = "Server errors answered with a status of 500 or above in the selected range"

    root = parse(preview.svg(view(_edited(change))))
    [panel] = [g for g in groups(root, "panel") if "stat" in g.get("class", "")]
    bold = [t.text for t in panel.iter(f"{SVG}text") if t.get("font-weight") == "bold"]
    assert len(bold) == 2 and bold[1].endswith("…")
    assert all(len(line) * preview.CHAR <= 6 * COL - GAP - 16 for line in bold)


def test_panels_without_a_grid_position_are_left_out():
    def change(m):
        del m["panels"][1]["gridPos"]

    assert "Request rate" not in boxes(parse(preview.svg(view(_edited(change)))))


def test_text_is_escaped():
    def change(m):
        m["title"] = 'Fixture / <Overview> & "more"'
        m["panels"][1]["title"] = "p99 < 1s & errors"

    root = parse(preview.svg(view(_edited(change))))
    assert root.findtext(f"{SVG}title") == 'Fixture / <Overview> & "more"'
    assert "p99 < 1s & errors" in boxes(root)


def test_same_dashboard_same_bytes():
    first = preview.svg(view())
    assert preview.svg(view()) == first
    # The order of the JSON keys does not matter either.
    reordered = json.loads(
        json.dumps(good(), sort_keys=True), object_pairs_hook=lambda kv: dict(reversed(kv))
    )
    assert preview.svg(view(reordered)) == first


# ---- the index and the docs pages -------------------------------------------------------------------


def test_panel_counts():
    assert preview.panel_counts(good()) == "6 panels (3 timeseries, 1 bargauge, 1 logs, 1 stat) in 2 rows"
    assert preview.panel_counts({"panels": [{"type": "stat"}]}) == "1 panel (1 stat)"
    assert preview.panel_counts({}) == "0 panels"


def test_index_shows_every_dashboard_with_its_facts_and_picture():
    page = preview.index_html([view()], ("dev", "prod", "staging"))
    assert page.startswith("<!DOCTYPE html>")
    for fact in (
        "<h2>Fixture / Overview</h2>",
        "<tr><th>uid</th><td>fixture-overview</td></tr>",
        "<tr><th>folder</th><td>fixture</td></tr>",
        "<tr><th>tags</th><td>creativeflow, fixture</td></tr>",
        "<tr><th>variables</th><td>datasource (datasource), environment (query), cluster (query), "
        "service (query), topn (custom)</td></tr>",
        "<tr><th>panels</th><td>6 panels (3 timeseries, 1 bargauge, 1 logs, 1 stat) in 2 rows</td></tr>",
        # Only in prod here, so the environments are named.
        "<tr><th>environments</th><td>prod</td></tr>",
    ):
        assert fact in page
    # The picture is inline (tooltips work) and without its XML declaration.
    assert page.count("<svg ") == 1 and "<?xml" not in page


def test_docs_pages_embed_each_picture():
    pages = preview.docs_pages({"prod": rendered_with(good())})
    assert sorted(pages) == ["docs/dashboards/README.md", "docs/dashboards/fixture-overview.svg"]
    readme = pages["docs/dashboards/README.md"]
    assert readme.startswith("<!-- GENERATED by cfmon")
    assert "| [Fixture / Overview](#fixture-overview) | `fixture-overview` | fixture | 6 panels" in readme
    assert "![Fixture / Overview](fixture-overview.svg)" in readme
    assert "- generated: `charts/creativeflow-monitoring/charts/grafana/files/dashboards/fixture/" in readme
    parse(pages["docs/dashboards/fixture-overview.svg"])


def test_docs_name_the_jsonnet_source(tmp_path):
    (tmp_path / MIXIN).parent.mkdir(parents=True)
    (tmp_path / MIXIN).write_text(MIXIN_TEXT)
    write_source_map(tmp_path)
    [v] = preview.collect({"prod": rendered_with(good())}, tmp_path)
    assert v.jsonnet == MIXIN
    readme = preview.docs_pages({"prod": rendered_with(good())}, tmp_path)["docs/dashboards/README.md"]
    assert f"- source: `{MIXIN}`\n" in readme


def test_docs_without_dashboards():
    pages = preview.docs_pages({"prod": rendered_with()})
    assert list(pages) == ["docs/dashboards/README.md"]
    assert "No dashboards are rendered yet." in pages["docs/dashboards/README.md"]


def test_docs_orphans_are_pictures_of_removed_dashboards(tmp_path):
    folder = tmp_path / "docs/dashboards"
    folder.mkdir(parents=True)
    for name in ("README.md", "fixture-overview.svg", "gone.svg"):
        (folder / name).write_text("x")
    pages = preview.docs_pages({"prod": rendered_with(good())})
    assert preview.docs_orphans(Project(tmp_path), pages) == ["docs/dashboards/gone.svg"]


# ---- collecting from the renders --------------------------------------------------------------------


def test_collect_merges_environments():
    other = dataclasses.replace(rendered_with(good()), env="dev")
    views = preview.collect({"dev": other, "prod": rendered_with(good()), "staging": rendered_with()})
    assert [(v.name, v.envs) for v in views] == [("fixture-overview", ("dev", "prod"))]


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ('{"uid": "fixture-overview",', "is not valid JSON at line 1, column 28"),
        ('"just a string"', "is a dashboard is a JSON object, not a str"),
    ],
)
def test_collect_rejects_a_broken_dashboard(text, reason):
    with pytest.raises(UserError) as err:
        preview.collect({"prod": rendered_with(text)})
    assert reason in err.value.message
    assert err.value.file == f"{CHART_DASHBOARDS}/fixture/fixture-overview.json"
    assert "cfmon generate" in (err.value.hint or "")


def test_collect_rejects_one_file_name_in_two_folders():
    second = dashboard_configmap(good())
    second.obj["metadata"]["annotations"]["creativeflow.ai/dashboard-folder"] = "other"
    with pytest.raises(UserError) as err:
        preview.collect({"prod": rendered_with(good(), second)})
    assert err.value.message == "dashboard file fixture-overview.json is in more than one folder"


def test_write_preview_is_byte_identical(tmp_path):
    renders = {"prod": rendered_with(good())}
    written, count = preview.write_preview(renders, tmp_path / "a")
    preview.write_preview(renders, tmp_path / "b")
    assert count == 1
    assert [p.name for p in written] == ["fixture-overview.svg", "index.html"]
    for p in written:
        assert (tmp_path / "b" / p.name).read_bytes() == p.read_bytes()


def test_write_preview_refuses_a_file_as_output(tmp_path):
    target = tmp_path / "file"
    target.write_text("")
    with pytest.raises(UserError):
        preview.write_preview({"prod": rendered_with(good())}, target)


# ---- the CLI ----------------------------------------------------------------------------------------


def _with_fixture(repo: Path, text: str | None = None) -> Path:
    path = repo / CHART_DASHBOARDS / "fixture" / "fixture-overview.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    if text is None:
        shutil.copy(FIXTURE, path)
    else:
        path.write_text(text)
    return path


def test_cli_preview_writes_pictures_and_index(repo, cfmon, tmp_path):
    _with_fixture(repo)
    out = tmp_path / "preview"
    result = cfmon(repo, "preview", "--env", "prod", "--out", str(out))
    assert result.code == 0, result.err
    assert f"wrote {out}/fixture-overview.svg\n" in result.out
    assert result.out.endswith(f"dashboards -> {out}/index.html\n")
    svg_text = (out / "fixture-overview.svg").read_text()
    assert "Request rate" in boxes(parse(svg_text))
    # Run again: the same bytes.
    first = {p.name: p.read_bytes() for p in out.iterdir()}
    assert cfmon(repo, "preview", "--env", "prod", "--out", str(out)).code == 0
    assert {p.name: p.read_bytes() for p in out.iterdir()} == first


def test_cli_preview_unknown_environment(repo, cfmon):
    result = cfmon(repo, "preview", "--env", "nope")
    assert result.code == 2
    assert "values/nope.yaml: no values file for environment 'nope'" in result.err
    assert "Traceback" not in result.err


def test_cli_preview_broken_dashboard(repo, cfmon):
    _with_fixture(repo, '{"uid": "fixture-overview",\n  "panels": [}\n')
    result = cfmon(repo, "preview", "--env", "prod")
    assert result.code == 2
    assert result.err.startswith(
        f"cfmon: error: {CHART_DASHBOARDS}/fixture/fixture-overview.json: dashboard fixture-overview.json "
        "(ConfigMap creativeflow-grafana-dashboard-fixture-fixture-overview, environment prod) is not valid "
        "JSON at line 2, column 14"
    )
    assert "fix: fix the Jsonnet that generates it, then run `cfmon generate`" in result.err
    assert "Traceback" not in result.err


def test_docs_check_catches_a_stale_preview(repo, cfmon):
    _with_fixture(repo)
    result = cfmon(repo, "docs", "--check")
    assert result.code == 1
    assert "  docs/dashboards/README.md\n  docs/dashboards/fixture-overview.svg\n" in result.out


def test_docs_writes_and_removes_pictures(repo):
    # In process, on renders made here (the CLI path above renders every environment with helm).
    project = Project(repo)
    with_dashboard = {"prod": rendered_with(good())}
    stale = docs.write_docs(project, with_dashboard, check=True).stale
    assert {"docs/dashboards/README.md", "docs/dashboards/fixture-overview.svg"} <= set(stale)
    written = docs.write_docs(project, with_dashboard, check=False).written
    assert "docs/dashboards/fixture-overview.svg" in written
    assert (repo / "docs/dashboards/fixture-overview.svg").read_text() == preview.svg(view())
    assert not [p for p in docs.write_docs(project, with_dashboard, check=True).stale if "dashboards" in p]
    # The dashboard goes: its picture is stale until `cfmon docs` removes it.
    without = {"prod": rendered_with()}
    assert "docs/dashboards/fixture-overview.svg" in docs.write_docs(project, without, check=True).stale
    assert docs.write_docs(project, without, check=False).removed == ["docs/dashboards/fixture-overview.svg"]
    assert not (repo / "docs/dashboards/fixture-overview.svg").exists()


def _edited(change) -> dict:
    model = good()
    change(model)
    return model
