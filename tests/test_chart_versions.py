"""The images the chart ships are the versions the repository tests with: promtool, Prometheus and
Alertmanager (tools/install-deps, `cfmon doctor`) and the real node-exporter (the conformance tier).
A bump of one without the other fails here."""

from __future__ import annotations

import re
import subprocess

import pytest
import yaml
from conftest import ROOT

from cfmon import binaries

SUBCHARTS = ROOT / "charts" / "creativeflow-monitoring" / "charts"


def _image_tag(subchart: str) -> str:
    values = yaml.safe_load((SUBCHARTS / subchart / "values.yaml").read_text())
    return str(values["image"]["tag"])


def _app_version(subchart: str) -> str:
    return str(yaml.safe_load((SUBCHARTS / subchart / "Chart.yaml").read_text())["appVersion"])


@pytest.mark.parametrize(
    ("subchart", "tool"), [("prometheus", "prometheus"), ("alertmanager", "alertmanager")]
)
def test_prometheus_and_alertmanager_images_are_the_pinned_tools(subchart, tool):
    pinned = binaries.TOOLS[tool].pinned
    assert _image_tag(subchart) == f"v{pinned}"
    assert _app_version(subchart) == f"v{pinned}"
    # and the binary the tests run reports that version
    assert binaries.probe(tool).version == pinned


def test_node_exporter_image_is_the_binary_the_conformance_tier_runs():
    binary = ROOT / ".tools" / "bin" / "prometheus-node-exporter"  # installed by tools/install-deps
    assert binary.exists(), "run tools/install-deps"
    proc = subprocess.run([str(binary), "--version"], capture_output=True, text=True, timeout=30)
    version = re.search(r"version (\d+\.\d+\.\d+)", proc.stdout + proc.stderr)
    assert version, proc.stdout + proc.stderr
    assert _image_tag("node-exporter") == f"v{version.group(1)}"
    assert _app_version("node-exporter") == f"v{version.group(1)}"


@pytest.mark.parametrize(
    "subchart", ["prometheus", "alertmanager", "node-exporter", "kube-state-metrics", "grafana"]
)
def test_app_version_follows_the_image_tag(subchart):
    assert _app_version(subchart) == _image_tag(subchart)
