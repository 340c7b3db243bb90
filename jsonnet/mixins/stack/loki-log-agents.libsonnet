// Stack / Loki and log agents: the log pipeline watching itself, from Prometheus metrics. Loki
// (ingestion, rejected lines, retention, queries), the log agents on every node (read, sent,
// dropped, failed pushes; the `node` variable) and what the agents count per service and AI model.
// Reads the logs mixin's recording rules; thresholds are the `_config` of the logs mixin (its
// alerts) and of the stack mixin (`c`).
local logs = (import '../logs/mixin.libsonnet')._config;

function(c)
  local d = (import '../../lib/dashboards.libsonnet')(c);
  local s = d.selector();
  local loki = d.selector(['job="%s"' % c.lokiJob]);
  local node = d.selector(['node=~"$node"']);

  local q = {
    lokiUp: d.target('sum (up%s)' % loki, 'up'),
    agentsUp: d.target('sum (up%s)' % d.selector(['job="%s"' % c.logAgentJob]), 'up'),
    agentsDesired: d.target(
      'sum (max by (namespace, daemonset) (kube_daemonset_status_desired_number_scheduled%s))'
      % d.selector([logs.kubeStateMetricsSelector, 'daemonset=~"%s"' % logs.logAgentDaemonSetRegex]),
      'desired'
    ),
    retentionAge: d.target(
      '(time() - max (loki_compactor_apply_retention_last_successful_run_timestamp_seconds%s)) / 3600' % loki, 'hours since'
    ),
    linesReceived: d.target('cluster:loki_distributor_lines_received:rate5m%s' % s, 'lines'),
    bytesReceived: d.target('sum (rate(loki_distributor_bytes_received_total%s[$__rate_interval]))' % loki, 'bytes'),
    discarded: d.target('reason:loki_discarded_samples:ratio_rate5m%s' % s, '{{reason}}'),
    streams: d.target('sum (loki_ingester_memory_streams%s)' % loki, 'streams'),
    queryLatency: d.target(
      'histogram_quantile(0.99, sum by (le, route) (rate(loki_request_duration_seconds_bucket%s[$__rate_interval])))'
      % d.selector(['job="%s"' % c.lokiJob, 'route=~"loki_api_v1_query.*"']),
      '{{route}} p99'
    ),
    read: d.target('node:log_agent_read_lines:rate5m%s' % node, '{{node}} read'),
    sent: d.target('node:log_agent_sent_entries:rate5m%s' % node, '{{node}} sent'),
    dropped: d.target('node:log_agent_dropped_entries:rate5m%s' % node, '{{node}}'),
    pushFailures: d.target('node:log_agent_push_requests_failed:ratio_rate5m%s' % node, '{{node}}'),
    appLines: d.target('topk(10, namespace_app:creativeflow_log_lines:rate5m%s)' % s, '{{namespace}}/{{app}}'),
    appErrorRatio: d.target('namespace_app:creativeflow_log_lines_errors:ratio_rate5m%s' % s, '{{namespace}}/{{app}}'),
    modelErrorLines: d.target('model_version:creativeflow_log_lines_errors:rate5m%s * 300' % s, '{{model_name}} {{model_version}}'),
    modelErrorRatio: d.target('model_version:creativeflow_log_lines_errors:ratio_rate5m%s' % s, '{{model_name}} {{model_version}}'),
  };

  local pushThresholds = d.above([logs.logAgentPushFailureRatioThreshold]);

  local p = {
    lokiUp: d.stat('Loki targets up', 'Loki pods Prometheus can scrape. Good: every replica; 0 fires LokiDown.', 'short', [q.lokiUp], alerts=['LokiDown'], graph=false),
    agentsUp: d.stat(
      'Log agents up', 'Log agent pods answering scrapes. Good: equal to the desired count; a gap is a node whose logs are not shipped.', 'short', [q.agentsUp], alerts=['LogAgentDown'], graph=false
    ),
    agentsDesired: d.stat(
      'Log agents desired', 'Agent pods the DaemonSet wants (one per node). Good: equal to the agents up (LogAgentMissingOnNodes otherwise).', 'short', [q.agentsDesired], alerts=['LogAgentMissingOnNodes'], graph=false
    ),
    linesReceivedTotal: d.stat('Lines ingested', 'Log lines per second Loki accepts. Good: the usual level; 0 means nothing arrives.', 'cps', [q.linesReceived]),
    retentionAge: d.stat(
      'Hours since retention ran',
      'Time since the compactor last applied retention successfully. Good: green, below the LokiRetentionNotRunning threshold; otherwise storage only grows.',
      'h',
      [q.retentionAge],
      thresholds=d.above([logs.lokiRetentionMaxAgeHours]),
      alerts=['LokiRetentionNotRunning'],
    ),
    ingestion: d.timeseries(
      'Ingestion', 'Log lines per second Loki accepts. Good: the usual daily shape; a cliff means agents or Loki stopped.', 'cps', [q.linesReceived], min=0
    ),
    bytes: d.timeseries('Ingested bytes', 'Bytes per second Loki receives. Good: within the ingestion limits of the tenant.', 'Bps', [q.bytesReceived], min=0),
    discarded: d.timeseries(
      'Rejected lines by reason',
      'Lines Loki discarded (rate limit, too old, too long, stream limit) as a share of the lines it accepted. Good: 0, below the dashed LokiDiscardingLogs line.',
      'percentunit',
      [q.discarded],
      thresholds=d.above([logs.lokiDiscardedRatioThreshold]),
      alerts=['LokiDiscardingLogs'],
      min=0,
    ),
    streams: d.timeseries('Active streams', 'Streams held in the ingesters. Good: stable; a climb means an unbounded label.', 'short', [q.streams], min=0),
    queryLatency: d.timeseries(
      'Query latency p99', 'p99 latency of Loki queries per API route. Good: below 1 s for dashboard panels, below 10 s for searches.', 's', [q.queryLatency], min=0
    ),
    readSent: d.timeseries(
      'Lines read and sent by node',
      'Lines per second each agent reads from the log files and entries it sends to Loki. Good: the two equal; read without sent fires LogAgentNotShipping.',
      'cps',
      [q.read, q.sent],
      alerts=['LogAgentNotShipping'],
      min=0,
    ),
    dropped: d.timeseries(
      'Dropped entries by node',
      'Entries an agent gave up on after all retries, per second. Good: 0; any drop is lost log lines (LogAgentDroppingEntries).',
      'cps',
      [q.dropped],
      alerts=['LogAgentDroppingEntries'],
      min=0,
    ),
    pushFailures: d.timeseries(
      'Failed pushes by node',
      'Share of pushes to Loki that failed (5xx, 429, no answer). Good: 0, below the dashed LogAgentPushFailing line; failed pushes are retried, then dropped.',
      'percentunit',
      [q.pushFailures],
      thresholds=pushThresholds,
      alerts=['LogAgentPushFailing'],
      min=0,
    ),
    appLines: d.timeseries(
      'Log lines: top 10 services', 'Log lines per second per service. Good: the usual level; a service that suddenly logs 10x is looping on an error.', 'cps', [q.appLines], min=0
    ),
    appErrorRatio: d.timeseries(
      'Error log share by service',
      "Share of each service's log lines at level error or fatal. Good: below the dashed ServiceErrorLogRatioHigh line (the alert ignores services with few error lines).",
      'percentunit',
      [q.appErrorRatio],
      thresholds=d.above([logs.serviceErrorLogRatioThreshold]),
      alerts=['ServiceErrorLogRatioHigh'],
      min=0,
    ),
    modelErrorLines: d.timeseries(
      'AI model error lines per 5 minutes',
      'Error and fatal log lines per model version over 5 minutes. Good: below the dashed line: CustomAIModelErrorLogBurst fires above it when they are also a large share.',
      'short',
      [q.modelErrorLines],
      thresholds=d.above([logs.modelErrorLogBurstMinLines]),
      alerts=['CustomAIModelErrorLogBurst'],
      min=0,
    ),
    modelErrorRatio: d.timeseries(
      'AI model error log share',
      "Share of each model version's log lines at level error or fatal. Good: below the dashed CustomAIModelErrorLogBurst line.",
      'percentunit',
      [q.modelErrorRatio],
      thresholds=d.above([logs.modelErrorLogBurstRatioThreshold]),
      alerts=['CustomAIModelErrorLogBurst'],
      min=0,
    ),
  };

  d.withNeighbours(
    d.dashboard({
      uid: 'loki-log-agents',
      title: 'Stack / Loki and log agents',
      tags: ['stack', 'loki', 'logs'],
      description: 'Are logs shipped, ingested and kept? Loki ingestion, rejections, retention and queries; the log '
                   + 'agent of every node (the `node` variable); and the log volume and error share the agents count '
                   + 'per service and AI model. Dashed lines are the alert thresholds (Jsonnet defaults; an environment '
                   + 'may override them in Helm values).',
      variables: [d.variable('node', 'Node', 'node:log_agent_read_lines:rate5m')],
      panels: d.layout([
        d.row('Health'),
        d.height(4, [p.lokiUp, p.agentsUp, p.agentsDesired, p.linesReceivedTotal, p.retentionAge]),
        d.row('Loki'),
        [p.ingestion, p.bytes, p.discarded],
        [p.streams, p.queryLatency],
        d.row('Log agents'),
        [p.readSent, p.dropped, p.pushFailures],
        d.row('What the agents count'),
        [p.appLines, p.appErrorRatio],
        [p.modelErrorLines, p.modelErrorRatio],
      ]),
    }),
    [
      d.neighbour('service-logs', 'Service logs'),
      d.neighbour('ai-model-logs', 'AI model logs'),
      d.neighbour('prometheus-alertmanager', 'Prometheus and Alertmanager'),
    ],
  )
