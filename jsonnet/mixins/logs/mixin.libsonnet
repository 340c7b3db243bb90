// Logs: alerts on what the log pipeline sees and on the pipeline itself, as Prometheus rules on
// metrics (unit-tested with promtool like every other alert; no Loki ruler, no LogQL at runtime).
// Sources, all scraped by the chart:
//   creativeflow_log_lines_total{namespace, app, level, container, pod, exported_job, retention,
//     model_name, model_version}   counter from the log agent's metrics stage, one per log stream
//     and level (debug|info|warn|error|fatal); model_name/model_version on AI model logs only.
//     The scrape job `log-agent` puts the stream's namespace/pod back over the agent's own.
//   the agent's own client metrics: Promtail (promtail_*) or Alloy (loki_source_file_* and
//     loki_write_*). global.logs.agent deploys one of them; each recording rule below is one concept
//     summed over both names, so the alerts hold for either agent (and during a switch-over).
//   Loki (job `loki`): loki_discarded_samples_total{reason}, loki_distributor_lines_received_total,
//     loki_compactor_apply_retention_last_successful_run_timestamp_seconds.
//   kube-state-metrics: the agent DaemonSet's desired pods (LogAgentMissingOnNodes).
// Loki being down is the stack mixin's LokiDown; this mixin does not repeat it.
local config = import '../../lib/config.libsonnet';
// Job names and labels owned by other mixins, referenced rather than repeated.
local aiModels = (import '../ai-models/mixin.libsonnet')._config;
local kubernetes = (import '../kubernetes/mixin.libsonnet')._config;
local stack = (import '../stack/mixin.libsonnet')._config;

{
  _config+:: config {
    // The scrape job of the log agent (charts/.../prometheus/templates/_scrape.tpl), and Loki's.
    logAgentJob: stack.logAgentJob,
    lokiJob: stack.lokiJob,
    prometheusJob: stack.prometheusJob,
    kubeStateMetricsSelector: kubernetes.kubeStateMetricsSelector,
    // The agent DaemonSets (<release>-promtail / <release>-alloy); only those in the namespace of
    // this Prometheus count (LogAgentMissingOnNodes), so another team's Promtail elsewhere is ignored.
    logAgentDaemonSetRegex: '(.+-)?(promtail|alloy)',
    // Levels that count as errors (the agents lower-case the level).
    errorLevels: 'error|fatal',
    // Push statuses that mean "not delivered, retrying": Loki down (5xx), rate-limited (429) and
    // no answer at all (Promtail and Alloy record status_code="-1" when the request failed).
    failedPushStatuses: '5..|429|-1',
    logAgentLabels: { component: 'log-agent' },
    lokiLabels: { component: 'loki' },
    modelAlertLabels: aiModels.modelAlertLabels,

    // Defaults of the declared alert parameters (overridable per environment in Helm values).
    serviceErrorLogRatioThreshold: 0.05,
    // Fewer error lines than this in 5 minutes never alert (one error in ten lines at night).
    serviceErrorLogMinLines: 20,
    modelErrorLogBurstMinLines: 50,
    modelErrorLogBurstRatioThreshold: 0.1,
    logAgentPushFailureRatioThreshold: 0.1,
    lokiDiscardedRatioThreshold: 0.01,
    lokiRetentionMaxAgeHours: 6,
  },

  local c = $._config,
  local rules = (import '../../lib/rules.libsonnet')(c),
  local by = rules.by,
  local on = rules.on,
  local where = '{{ $labels.environment }}/{{ $labels.cluster }}',
  local agentJob = 'job="%s"' % c.logAgentJob,
  local lokiJob = 'job="%s"' % c.lokiJob,
  local lines(extra) = 'creativeflow_log_lines_total{%s}' % std.join(', ', [agentJob] + extra),
  local errors = 'level=~"%s"' % c.errorLevels,
  local byApp = by(['namespace', 'app']),
  local byModel = by(['model_name', 'model_version']),
  local byNode = by(['node']),
  // One concept from either agent: `or` keeps both agents' series (different targets, so no label
  // set collides), then the sum adds them up per node.
  local agentRate(promtail, alloy, matchers='') =
    local m = if matchers == '' then agentJob else agentJob + ', ' + matchers;
    'sum %s (rate(%s{%s}[5m]) or rate(%s{%s}[5m]))' % [byNode, promtail, m, alloy, m],
  // 0 rather than absent for a stream that never logged an error, so the ratio is defined.
  local ratio(errs, total) = '(%s or %s * 0) / %s' % [errs, total, total],

  prometheusRules+:: {
    groups+: [
      rules.group('logs-recording', [
        // Application logs of pods (AI model logs have their own rules below; node journals have no app).
        rules.record('namespace_app:creativeflow_log_lines:rate5m', 'sum %s (rate(%s[5m]))' % [byApp, lines(['app!=""', 'model_name=""'])]),
        rules.record(
          'namespace_app:creativeflow_log_lines_errors:rate5m',
          'sum %s (rate(%s[5m]))' % [byApp, lines(['app!=""', 'model_name=""', errors])],
        ),
        rules.record(
          'namespace_app:creativeflow_log_lines_errors:ratio_rate5m',
          ratio('namespace_app:creativeflow_log_lines_errors:rate5m', 'namespace_app:creativeflow_log_lines:rate5m'),
        ),
        // AI model logs, per model version.
        rules.record('model_version:creativeflow_log_lines:rate5m', 'sum %s (rate(%s[5m]))' % [byModel, lines(['model_name!=""'])]),
        rules.record(
          'model_version:creativeflow_log_lines_errors:rate5m',
          'sum %s (rate(%s[5m]))' % [byModel, lines(['model_name!=""', errors])],
        ),
        rules.record(
          'model_version:creativeflow_log_lines_errors:ratio_rate5m',
          ratio('model_version:creativeflow_log_lines_errors:rate5m', 'model_version:creativeflow_log_lines:rate5m'),
        ),
      ]),
      rules.group('logs-agent-recording', [
        rules.record('node:log_agent_read_lines:rate5m', agentRate('promtail_read_lines_total', 'loki_source_file_read_lines_total')),
        rules.record('node:log_agent_sent_entries:rate5m', agentRate('promtail_sent_entries_total', 'loki_write_sent_entries_total')),
        rules.record('node:log_agent_dropped_entries:rate5m', agentRate('promtail_dropped_entries_total', 'loki_write_dropped_entries_total')),
        rules.record(
          'node:log_agent_push_requests:rate5m',
          agentRate('promtail_request_duration_seconds_count', 'loki_write_request_duration_seconds_count'),
        ),
        rules.record(
          'node:log_agent_push_requests_failed:rate5m',
          agentRate(
            'promtail_request_duration_seconds_count',
            'loki_write_request_duration_seconds_count',
            'status_code=~"%s"' % c.failedPushStatuses,
          ),
        ),
        rules.record(
          'node:log_agent_push_requests_failed:ratio_rate5m',
          ratio('node:log_agent_push_requests_failed:rate5m', 'node:log_agent_push_requests:rate5m'),
        ),
      ]),
      rules.group('logs-loki-recording', [
        rules.record('reason:loki_discarded_samples:rate5m', 'sum %s (rate(loki_discarded_samples_total{%s}[5m]))' % [by(['reason']), lokiJob]),
        rules.record(
          'cluster:loki_distributor_lines_received:rate5m',
          'sum %s (rate(loki_distributor_lines_received_total{%s}[5m]))' % [by(), lokiJob],
        ),
        // Rejected lines per accepted line; +Inf when Loki rejects everything (nothing received).
        rules.record(
          'reason:loki_discarded_samples:ratio_rate5m',
          'reason:loki_discarded_samples:rate5m / %s group_left () cluster:loki_distributor_lines_received:rate5m' % on(),
        ),
      ]),
    ],
  },

  prometheusAlerts+:: {
    groups+: [
      rules.group('logs-alerts', [
        rules.alert({
          name: 'ServiceErrorLogRatioHigh',
          expr: 'namespace_app:creativeflow_log_lines_errors:ratio_rate5m > %s' % rules.param('threshold')
                + ' and namespace_app:creativeflow_log_lines_errors:rate5m * 300 >= %s' % rules.param('minErrorLines'),
          'for': '10m',
          severity: 'warning',
          priority: 'P3',
          labels: { service: '{{ $labels.app }}' },
          summary: 'A service writes too many error logs.',
          description: '{{ $value | humanizePercentage }} of the log lines of {{ $labels.app }} (namespace '
                       + '{{ $labels.namespace }}) in %s were at level error or fatal over the last 5 minutes ' % where
                       + '(threshold {{ %s | humanizePercentage }}, from %s error lines per 5 minutes).'
                         % [rules.param('threshold'), rules.param('minErrorLines')],
          params: { threshold: c.serviceErrorLogRatioThreshold, minErrorLines: c.serviceErrorLogMinLines },
        }),
        rules.alert({
          name: 'CustomAIModelErrorLogBurst',
          expr: 'model_version:creativeflow_log_lines_errors:rate5m * 300 >= %s' % rules.param('minErrorLines')
                + ' and model_version:creativeflow_log_lines_errors:ratio_rate5m > %s' % rules.param('threshold'),
          'for': '5m',
          severity: 'warning',
          priority: 'P3',
          labels: c.modelAlertLabels,
          summary: 'A custom AI model logs a burst of errors.',
          description: 'Model {{ $labels.model_name }} version {{ $labels.model_version }} in %s logged ' % where
                       + '{{ $value | humanize }} error or fatal lines in the last 5 minutes (alerts from %s lines '
                         % rules.param('minErrorLines')
                       + 'that are more than {{ %s | humanizePercentage }} of its log lines).' % rules.param('threshold'),
          params: { minErrorLines: c.modelErrorLogBurstMinLines, threshold: c.modelErrorLogBurstRatioThreshold },
        }),
      ]),
      rules.group('logs-agent-alerts', [
        rules.alert({
          name: 'LogAgentDown',
          expr: 'up{%s} == 0' % agentJob,
          'for': '10m',
          severity: 'warning',
          priority: 'P3',
          labels: c.logAgentLabels,
          summary: 'The log agent of a node does not answer.',
          description: 'Prometheus cannot scrape log agent {{ $labels.pod }} on node {{ $labels.node }} in %s: ' % where
                       + 'the logs of that node are not shipped (or shipped unseen).',
        }),
        rules.alert({
          name: 'LogAgentMissingOnNodes',
          // Desired agent pods (kube-state-metrics, deduplicated over its replicas) minus the agent
          // targets Prometheus discovers (up or down: LogAgentDown covers down). The right-hand side
          // exists only in the namespace of this Prometheus (0 there when nothing is discovered),
          // so DaemonSets of other releases or teams elsewhere never match.
          expr: 'sum %s (max %s (kube_daemonset_status_desired_number_scheduled{%s, daemonset=~"%s"}))'
                % [by(['namespace']), by(['namespace', 'daemonset']), c.kubeStateMetricsSelector, c.logAgentDaemonSetRegex]
                + ' - %s (count %s (up{%s}) or group %s (up{job="%s"}) * 0) > 0'
                  % [on(['namespace']), by(['namespace']), agentJob, by(['namespace']), c.prometheusJob],
          'for': '15m',
          severity: 'warning',
          priority: 'P3',
          labels: c.logAgentLabels,
          summary: 'The log agent does not run on every node it should.',
          description: '{{ $value }} of the log agent pods the DaemonSet in namespace {{ $labels.namespace }} '
                       + 'wants in %s are not scraped (not scheduled, pending, or not found by Prometheus): ' % where
                       + 'the logs of those nodes are not shipped.',
        }),
        rules.alert({
          name: 'LogAgentNotShipping',
          expr: 'node:log_agent_read_lines:rate5m > 0 unless %s node:log_agent_sent_entries:rate5m > 0' % on(['node']),
          'for': '15m',
          severity: 'warning',
          priority: 'P2',
          labels: c.logAgentLabels,
          summary: 'The log agent of a node reads logs but sends nothing to Loki.',
          description: 'The log agent on node {{ $labels.node }} in %s read {{ $value | humanize }} lines/s ' % where
                       + 'over the last 5 minutes and sent none to Loki: its buffer fills and lines will be dropped.',
        }),
        rules.alert({
          name: 'LogAgentDroppingEntries',
          expr: 'node:log_agent_dropped_entries:rate5m > 0',
          'for': '5m',
          severity: 'warning',
          priority: 'P2',
          labels: c.logAgentLabels,
          summary: 'The log agent of a node drops log entries it could not deliver.',
          description: 'The log agent on node {{ $labels.node }} in %s dropped {{ $value | humanize }} entries/s ' % where
                       + 'over the last 5 minutes after all retries: those log lines are lost.',
        }),
        rules.alert({
          name: 'LogAgentPushFailing',
          expr: 'node:log_agent_push_requests_failed:ratio_rate5m > %s' % rules.param('threshold'),
          'for': '15m',
          severity: 'warning',
          priority: 'P3',
          labels: c.logAgentLabels,
          summary: 'Pushes of the log agent to Loki fail.',
          description: '{{ $value | humanizePercentage }} of the pushes of the log agent on node {{ $labels.node }} '
                       + 'in %s failed over the last 5 minutes (5xx, 429 or no answer; threshold ' % where
                       + '{{ %s | humanizePercentage }}): lines are delayed, and dropped once the retries run out.'
                         % rules.param('threshold'),
          params: { threshold: c.logAgentPushFailureRatioThreshold },
        }),
      ]),
      rules.group('logs-loki-alerts', [
        rules.alert({
          name: 'LokiDiscardingLogs',
          expr: 'reason:loki_discarded_samples:ratio_rate5m > %s' % rules.param('threshold'),
          'for': '15m',
          severity: 'warning',
          priority: 'P3',
          labels: c.lokiLabels,
          summary: 'Loki rejects a share of the log lines pushed to it.',
          description: 'Loki in %s discarded log lines for reason {{ $labels.reason }} at ' % where
                       + '{{ $value | humanizePercentage }} of the rate it accepted lines over the last 5 minutes '
                       + '(threshold {{ %s | humanizePercentage }}): the agents drop or retry them.' % rules.param('threshold'),
          params: { threshold: c.lokiDiscardedRatioThreshold },
        }),
        rules.alert({
          name: 'LokiRetentionNotRunning',
          expr: 'time() - max %s (loki_compactor_apply_retention_last_successful_run_timestamp_seconds{%s}) > %s * 3600'
                % [by(), lokiJob, rules.param('maxAgeHours')],
          'for': '1h',
          severity: 'warning',
          priority: 'P3',
          labels: c.lokiLabels,
          summary: 'The Loki compactor has not applied retention for hours.',
          description: 'The last successful retention run of the Loki compactor in %s was ' % where
                       + '{{ $value | humanizeDuration }} ago (threshold %s hours): expired logs are not deleted and '
                         % rules.param('maxAgeHours')
                       + "Loki's storage keeps growing.",
          params: { maxAgeHours: c.lokiRetentionMaxAgeHours },
        }),
      ]),
    ],
  },

  // Raw series the rules read that are not in the application contract.
  exporterMetrics:: {
    'log-agent': ['creativeflow_log_lines_total'],
    promtail: [
      'promtail_dropped_entries_total',
      'promtail_read_lines_total',
      'promtail_request_duration_seconds_count',
      'promtail_sent_entries_total',
    ],
    alloy: [
      'loki_source_file_read_lines_total',
      'loki_write_dropped_entries_total',
      'loki_write_request_duration_seconds_count',
      'loki_write_sent_entries_total',
    ],
    loki: [
      'loki_compactor_apply_retention_last_successful_run_timestamp_seconds',
      'loki_discarded_samples_total',
      'loki_distributor_lines_received_total',
    ],
    'kube-state-metrics': ['kube_daemonset_status_desired_number_scheduled'],
  },

  // Logs / AI models and Logs / Services (Loki; the panels they share are in log-panels.libsonnet).
  dashboardFolder:: 'Logs',
  grafanaDashboards+:: {
    'ai-model-logs.json': (import 'ai-model-logs.libsonnet')(c),
    'service-logs.json': (import 'service-logs.libsonnet')(c),
  },
}
