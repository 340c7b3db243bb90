"""Conformance against the real exporters: `cfmon conformance record` stores what each one exposes
(record.py), the live tier runs them under the rendered Prometheus and Alertmanager (live.py);
servers.py starts and stops the real processes."""
