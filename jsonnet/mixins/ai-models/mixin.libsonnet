// AI models (INT-007): the custom models served by the platform and the AI generations that use
// them, per model. Sources:
//   custom_model_inference_{requests,errors}_total, custom_model_inference_latency_seconds,
//   custom_model_prediction_score                          model-serving pods (model_name, model_version)
//   creativeflow_ai_generation_{requests_total,duration_seconds}  ai-orchestration (model_name, generation_type)
//   creativeflow_ai_generation_errors_total               ai-orchestration (failure_reason)
//   DCGM_FI_DEV_{GPU_UTIL,FB_USED,FB_FREE}                dcgm-exporter, with its Kubernetes pod mapping:
//     the `namespace`/`pod` labels name the pod using the GPU, so the dcgm-exporter scrape must keep
//     them (honor_labels) rather than overwrite them with the exporter's own pod.
// A model-serving pod is tied to its model through the scrape labels (namespace, pod) of its own
// custom_model_inference_requests_total series.
//
// Per-model thresholds: the latency and error-ratio alerts compare against the model's own
// threshold series (custom_model_latency_p99_threshold_seconds / custom_model_error_ratio_threshold,
// optional gauges the model's pods export from their deployment config) and fall back to the
// alert's default parameter for every model without one.
local config = import '../../lib/config.libsonnet';
local selectors = import '../../lib/selectors.libsonnet';

{
  _config+:: config {
    // Extra matchers ANDed into every selector on the model-serving and dcgm-exporter series.
    modelSelector: '',
    dcgmSelector: '',
    modelAlertLabels: { service: 'custom-ai-models', team: 'ai-infrastructure' },
    // Defaults of the declared alert parameters.
    modelLatencyP99ThresholdSeconds: 2,
    modelErrorRatioThreshold: 0.05,
    modelGpuUtilizationPercent: 95,
    modelGpuMemoryUsedRatio: 0.9,
    modelThroughputMinRatioToYesterday: 0.5,
    modelThroughputMinBaselinePerHour: 60,
    modelDriftRelativeShift: 0.2,
  },

  local c = $._config,
  local rules = (import '../../lib/rules.libsonnet')(c),
  local sel(s, extra=[]) = selectors.of([s] + extra),
  local msel(extra=[]) = sel(c.modelSelector, extra),
  local dsel = sel(c.dcgmSelector, ['pod!=""']),
  local byModel = rules.by(['model_name']),
  local byModelLe = rules.by(['model_name', 'le']),
  local byVersion = rules.by(['model_name', 'model_version']),
  local byPod = rules.by(['namespace', 'pod']),
  local byPodModel = rules.by(['namespace', 'pod', 'model_name']),
  local byGeneration = rules.by(['model_provider', 'model_name', 'generation_type']),
  local byGenerationLe = rules.by(['model_provider', 'model_name', 'generation_type', 'le']),
  local onModel = 'on (%s)' % std.join(', ', c.aggregationLabels + ['model_name']),
  local onPod = 'on (%s)' % std.join(', ', c.aggregationLabels + ['namespace', 'pod']),
  // The pods serving each model: 1 per (namespace, pod, model_name).
  local modelPods = 'group %s (custom_model_inference_requests_total%s)' % [byPodModel, msel()],
  local where = '{{ $labels.environment }}/{{ $labels.cluster }}',

  exporterMetrics:: {
    'dcgm-exporter': ['DCGM_FI_DEV_GPU_UTIL', 'DCGM_FI_DEV_FB_USED', 'DCGM_FI_DEV_FB_FREE'],
  },

  prometheusRules+:: {
    groups+: [
      rules.group('ai-models-recording', [
        rules.record(
          'model:custom_model_inference_requests:rate5m',
          'sum %s (rate(custom_model_inference_requests_total%s[5m]))' % [byModel, msel()],
        ),
        rules.record(
          'model:custom_model_inference_errors:rate5m',
          'sum %s (rate(custom_model_inference_errors_total%s[5m]))' % [byModel, msel()],
        ),
        // 0 rather than absent for a model that never failed.
        rules.record(
          'model:custom_model_inference_errors:ratio_rate5m',
          '(model:custom_model_inference_errors:rate5m or model:custom_model_inference_requests:rate5m * 0)'
          + ' / model:custom_model_inference_requests:rate5m',
        ),
        rules.record(
          'model_le:custom_model_inference_latency_seconds_bucket:rate5m',
          'sum %s (rate(custom_model_inference_latency_seconds_bucket%s[5m]))' % [byModelLe, msel()],
        ),
      ] + [
        rules.record(
          'model:custom_model_inference_latency_seconds:p%d_rate5m' % q,
          'histogram_quantile(%g, model_le:custom_model_inference_latency_seconds_bucket:rate5m)' % (q / 100),
        )
        for q in [50, 90, 99]
      ] + [
        // Hourly traffic, compared with the same hour yesterday by CustomAIModelLowThroughput.
        rules.record(
          'model:custom_model_inference_requests:rate1h',
          'sum %s (rate(custom_model_inference_requests_total%s[1h]))' % [byModel, msel()],
        ),
        // Mean output score over the last hour, per model version (a new version has its own baseline).
        rules.record(
          'model_version:custom_model_prediction_score:mean1h',
          'sum %s (rate(custom_model_prediction_score_sum%s[1h])) / sum %s (rate(custom_model_prediction_score_count%s[1h]))'
          % [byVersion, msel(), byVersion, msel()],
        ),
        // GPU use of each model's pods (utilisation in percent, memory as a ratio of the framebuffer).
        rules.record(
          'model_pod:DCGM_FI_DEV_GPU_UTIL:avg',
          '%s * %s group_left () avg %s (DCGM_FI_DEV_GPU_UTIL%s)' % [modelPods, onPod, byPod, dsel],
        ),
        rules.record(
          'model_pod:DCGM_FI_DEV_FB_USED:ratio',
          '%s * %s group_left () (sum %s (DCGM_FI_DEV_FB_USED%s) / sum %s (DCGM_FI_DEV_FB_USED%s + DCGM_FI_DEV_FB_FREE%s))'
          % [modelPods, onPod, byPod, dsel, byPod, dsel, dsel],
        ),
      ]),
      // AI generations per provider, model and generation type (sample, high_res): a group of its
      // own beside the custom models' (each reads a latency histogram of every replica, and
      // Prometheus evaluates groups side by side but a group's rules one after another).
      rules.group('ai-models-recording-generations', [
        rules.record(
          'model_type:creativeflow_ai_generation_requests:rate5m',
          'sum %s (rate(creativeflow_ai_generation_requests_total[5m]))' % byGeneration,
        ),
        rules.record(
          'model_type:creativeflow_ai_generation_requests_failure:rate5m',
          'sum %s (rate(creativeflow_ai_generation_requests_total{status="failure"}[5m]))' % byGeneration,
        ),
        rules.record(
          'model_type:creativeflow_ai_generation_requests_failure:ratio_rate5m',
          '(model_type:creativeflow_ai_generation_requests_failure:rate5m or model_type:creativeflow_ai_generation_requests:rate5m * 0)'
          + ' / model_type:creativeflow_ai_generation_requests:rate5m',
        ),
        rules.record(
          'model_type_le:creativeflow_ai_generation_duration_seconds_bucket:rate5m',
          'sum %s (rate(creativeflow_ai_generation_duration_seconds_bucket[5m]))' % byGenerationLe,
        ),
      ] + [
        rules.record(
          'model_type:creativeflow_ai_generation_duration_seconds:p%d_rate5m' % q,
          'histogram_quantile(%g, model_type_le:creativeflow_ai_generation_duration_seconds_bucket:rate5m)' % (q / 100),
        )
        for q in [50, 90, 99]
      ]),
      // The 7-day baseline of the drift indicator: a week of raw samples, so evaluated every minute.
      rules.group('ai-models-baseline-recording', [
        rules.record(
          'model_version:custom_model_prediction_score:mean7d',
          'sum %s (rate(custom_model_prediction_score_sum%s[7d])) / sum %s (rate(custom_model_prediction_score_count%s[7d]))'
          % [byVersion, msel(), byVersion, msel()],
        ),
      ], interval='1m'),
    ],
  },

  prometheusAlerts+:: {
    groups+: [
      rules.group('ai-models-alerts', [
        rules.alert({
          name: 'CustomAIModelHighInferenceLatency',
          expr: 'model:custom_model_inference_latency_seconds:p99_rate5m > %s (max %s (custom_model_latency_p99_threshold_seconds%s) or %s model:custom_model_inference_latency_seconds:p99_rate5m * 0 + %s)'
                % [onModel, byModel, msel(), onModel, rules.param('thresholdSeconds')],
          'for': '5m',
          severity: 'warning',
          priority: 'P3',
          labels: c.modelAlertLabels,
          summary: 'A custom AI model answers its slowest requests too slowly.',
          description: 'p99 inference latency of model {{ $labels.model_name }} in %s is ' % where
                       + '{{ $value | humanizeDuration }} over the last 5 minutes, above its threshold '
                       + "(the model's custom_model_latency_p99_threshold_seconds, else {{ %s | humanizeDuration }})."
                         % rules.param('thresholdSeconds'),
          params: { thresholdSeconds: c.modelLatencyP99ThresholdSeconds },
        }),
        rules.alert({
          name: 'CustomAIModelHighErrorRate',
          expr: 'model:custom_model_inference_errors:ratio_rate5m > %s (max %s (custom_model_error_ratio_threshold%s) or %s model:custom_model_inference_errors:ratio_rate5m * 0 + %s)'
                % [onModel, byModel, msel(), onModel, rules.param('threshold')],
          'for': '10m',
          severity: 'critical',
          priority: 'P2',
          labels: c.modelAlertLabels,
          summary: 'A custom AI model fails too many inference requests.',
          description: '{{ $value | humanizePercentage }} of inference requests to model {{ $labels.model_name }} '
                       + 'in %s failed over the last 5 minutes, above its threshold ' % where
                       + "(the model's custom_model_error_ratio_threshold, else {{ %s | humanizePercentage }})."
                         % rules.param('threshold'),
          params: { threshold: c.modelErrorRatioThreshold },
        }),
        rules.alert({
          name: 'CustomAIModelGpuUtilizationHigh',
          expr: 'model_pod:DCGM_FI_DEV_GPU_UTIL:avg > %s' % rules.param('thresholdPercent'),
          'for': '15m',
          severity: 'warning',
          priority: 'P3',
          labels: c.modelAlertLabels,
          summary: 'A custom AI model pod has saturated its GPU.',
          description: 'The GPU of pod {{ $labels.namespace }}/{{ $labels.pod }} serving model {{ $labels.model_name }} '
                       + 'in %s is {{ $value | humanize }}%% busy (threshold %s%%): ' % [where, rules.param('thresholdPercent')]
                       + 'its requests queue; scale the model out.',
          params: { thresholdPercent: c.modelGpuUtilizationPercent },
        }),
        rules.alert({
          name: 'CustomAIModelGpuMemoryHigh',
          expr: 'model_pod:DCGM_FI_DEV_FB_USED:ratio > %s' % rules.param('threshold'),
          'for': '15m',
          severity: 'warning',
          priority: 'P3',
          labels: c.modelAlertLabels,
          summary: 'A custom AI model pod has almost no GPU memory left.',
          description: 'Pod {{ $labels.namespace }}/{{ $labels.pod }} serving model {{ $labels.model_name }} in %s ' % where
                       + 'uses {{ $value | humanizePercentage }} of its GPU memory (threshold {{ %s | humanizePercentage }}): '
                         % rules.param('threshold')
                       + 'larger inputs or batches will fail with out-of-memory.',
          params: { threshold: c.modelGpuMemoryUsedRatio },
        }),
        rules.alert({
          name: 'CustomAIModelLowThroughput',
          expr: 'model:custom_model_inference_requests:rate1h / model:custom_model_inference_requests:rate1h offset 1d < %s'
                % rules.param('minRatioToYesterday')
                + ' and model:custom_model_inference_requests:rate1h offset 1d * 3600 >= %s'
                  % rules.param('minBaselinePerHour'),
          'for': '30m',
          severity: 'warning',
          priority: 'P3',
          labels: c.modelAlertLabels,
          summary: 'A custom AI model serves far fewer requests than at the same time yesterday.',
          description: 'Model {{ $labels.model_name }} in %s served {{ $value | humanizePercentage }} ' % where
                       + 'of the requests of the same hour yesterday (threshold {{ %s | humanizePercentage }}): '
                         % rules.param('minRatioToYesterday')
                       + 'its callers may be failing before they reach it, or route elsewhere.',
          params: {
            minRatioToYesterday: c.modelThroughputMinRatioToYesterday,
            minBaselinePerHour: c.modelThroughputMinBaselinePerHour,
          },
        }),
        rules.alert({
          name: 'CustomAIModelPredictionDrift',
          expr: 'abs(model_version:custom_model_prediction_score:mean1h - model_version:custom_model_prediction_score:mean7d)'
                + ' / model_version:custom_model_prediction_score:mean7d > %s' % rules.param('threshold'),
          'for': '1h',
          severity: 'warning',
          priority: 'P3',
          labels: c.modelAlertLabels,
          summary: "A custom AI model's output scores drifted from their 7-day baseline.",
          description: 'The mean prediction score of model {{ $labels.model_name }} version {{ $labels.model_version }} '
                       + 'in %s over the last hour differs by {{ $value | humanizePercentage }} ' % where
                       + 'from its 7-day mean (threshold {{ %s | humanizePercentage }}): its inputs or its behaviour changed.'
                         % rules.param('threshold'),
          params: { threshold: c.modelDriftRelativeShift },
        }),
      ]),
    ],
  },

  dashboardFolder:: 'AI',
  grafanaDashboards+:: {
    'custom-ai-models.json': (import 'custom-ai-models.libsonnet')(c),
    // The pipeline mirrors the alerts of the mixins its stages belong to.
    'ai-generation-pipeline.json': (import 'ai-generation-pipeline.libsonnet')(config {
      applications: (import '../applications/mixin.libsonnet')._config,
      business: (import '../business/mixin.libsonnet')._config,
      gpu: (import '../gpu/mixin.libsonnet')._config,
      rabbitmq: (import '../rabbitmq/mixin.libsonnet')._config,
    }),
  },
} + (import 'dashboard-rules.libsonnet')
