// The series names rules may read (application contract + exporter lists); evaluated by
// `cfmon check` (rules/metrics-known), which adds the recording rules it finds in the render.
(import 'main.libsonnet').metrics.seriesNames
