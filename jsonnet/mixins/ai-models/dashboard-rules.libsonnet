// Recording rules that the AI dashboards read instead of aggregating raw series on every load:
// the per-version latency histogram of the custom models (every bucket of every serving pod) and
// the AI generation errors by failure reason (every model provider, generation type and user tier).
// The records keep only the labels the panels group by. Joined to the ai-models mixin with `+`.
{
  local c = $._config,
  local rules = (import '../../lib/rules.libsonnet')(c),
  local selectors = import '../../lib/selectors.libsonnet',
  local by = rules.by,
  local msel = selectors.of([c.modelSelector]),

  prometheusRules+:: {
    groups+: [
      // AI / Custom Models: latency quantiles per model version. model_le:..._bucket:rate5m
      // (mixin.libsonnet) sums the versions together, so it cannot serve them.
      rules.group('ai-models-recording-custom-models-dashboard', [
        rules.record(
          'model_version_le:custom_model_inference_latency_seconds_bucket:rate5m',
          'sum %s (rate(custom_model_inference_latency_seconds_bucket%s[5m]))' % [by(['model_name', 'model_version', 'le']), msel],
        ),
      ]),
      // AI / Generation Pipeline: failed generations by reason.
      rules.group('ai-models-recording-generation-pipeline-dashboard', [
        rules.record(
          'failure_reason:creativeflow_ai_generation_errors:rate5m',
          'sum %s (rate(creativeflow_ai_generation_errors_total[5m]))' % by(['failure_reason']),
        ),
      ]),
    ],
  },
}
