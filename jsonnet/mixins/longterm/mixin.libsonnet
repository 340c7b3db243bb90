// Long-term aggregates: the series Prometheus remote-writes to the long-term store (VictoriaMetrics),
// in three tiers, for trends and capacity planning over months and years. Raw series stay in
// Prometheus (local retention); only these leave it.
//
// Naming: <level>:<metric>:<op>_tier<window>, window 5m, 1h or 1d, op one of
//   rate   mean per-second rate over the window (from a rate5m recording rule)
//   avg    mean of a gauge or ratio over the window;  max / min  its extreme in the window
//   ratio  numerator rate / denominator rate, both averaged over the window (a weighted ratio,
//          not a mean of ratios)
//   p50 / p90 / p95 / p99   quantile of the window's latency distribution (bucket rates averaged
//          over the window, then histogram_quantile: not a mean of quantiles)
// The `_tier<window>` suffix appears in no other rule name: the remote write keeps exactly the
// series matching `tierRegex` below (the chart reads it from files/longterm-tiers.yaml), so no raw
// series and no other recording rule leaves Prometheus.
//
// Every tier is built on the existing 5-minute recording rules (level:metric:rate5m and friends):
//   5m tier  the 5-minute rule itself (or its 5-minute mean/extreme), evaluated every 5m: one
//            sample per 5 minutes, consecutive windows that neither overlap nor leave holes.
//   1h tier  the mean/extreme of the 12 5m-tier samples of the last hour, evaluated every 5m (not
//            every hour): the newest hour is never more than 5 minutes stale, and a missed
//            evaluation (a Prometheus restart) costs 5 minutes of resolution, not an hour.
//   1d tier  the same over the 288 5m-tier samples of the last day, evaluated every hour.
// Quantiles read the bucket rates (evaluated every 15 s) over the whole window instead.
local config = import '../../lib/config.libsonnet';
// The tiers are built here, outside the mixin object, from the shared config as is: this mixin
// overrides nothing in its _config.
local rules = (import '../../lib/rules.libsonnet')(config);

// `retention`: how long the long-term store must keep the tier (the store's retention must cover
// the longest; the victoria-metrics subchart refuses to render otherwise).
local tiers = {
  '5m': { interval: '5m', retention: '60d' },
  '1h': { interval: '5m', retention: '1y' },
  '1d': { interval: '1h', retention: '3y' },
};
local tierNames = ['5m', '1h', '1d'];

// One aggregate source. `src` is an existing recording rule; `ops` what each tier keeps of it;
// `metric` renames the tier records when the source's own metric part would collide.
local src(name, ops, metric=null) = { name: name, ops: ops, metric: metric };
// A weighted ratio of two rate sources (both must be listed with the `rate` op in the family).
// `only` ({label: value}) keeps one value of a label the numerator has and the denominator lacks,
// and sums that label away so both sides carry the same labels.
local ratio(level, metric, num, den, only=null) = { ratio: true, level: level, metric: metric, num: num, den: den, only: only };
// Quantiles of a bucket-rate rule (`<level>_le:<metric>_bucket:rate5m`); the 5m tier reads the
// existing `<level>:<metric>:p<q>_rate5m` rules.
local quantiles(level, metric, qs) = { quantiles: true, level: level, metric: metric, qs: qs };

local parts(name) = std.split(name, ':');
local tierName(level, metric, op, w) = '%s:%s:%s_tier%s' % [level, metric, op, w];

local over = { avg: 'avg_over_time', max: 'max_over_time', min: 'min_over_time', rate: 'avg_over_time' };

// Records of one entry in one tier.
local recordsOf(entry, w) =
  if std.objectHas(entry, 'ratio') then [
    local num = tierName(parts(entry.num)[0], parts(entry.num)[1], 'rate', w);
    local only = if entry.only == null then {} else entry.only;
    local l = std.objectFields(only);
    rules.record(
      tierName(entry.level, entry.metric, 'ratio', w),
      '%s / %s' % [
        if l == [] then num
        else 'sum without (%s) (%s{%s})' % [
          std.join(', ', l),
          num,
          std.join(', ', ['%s="%s"' % [k, only[k]] for k in l]),
        ],
        tierName(parts(entry.den)[0], parts(entry.den)[1], 'rate', w),
      ],
    ),
  ]
  else if std.objectHas(entry, 'quantiles') then [
    local pq = 'p' + std.toString(std.round(q * 1000) / 10);
    rules.record(
      tierName(entry.level, entry.metric, pq, w),
      if w == '5m'
      then '%s:%s:%s_rate5m' % [entry.level, entry.metric, pq]
      else 'histogram_quantile(%s, avg_over_time(%s_le:%s_bucket:rate5m[%s]))' % [q, entry.level, entry.metric, w],
    )
    for q in entry.qs
  ]
  else [
    local p = parts(entry.name);
    local metric = if entry.metric != null then entry.metric else p[1];
    rules.record(
      tierName(p[0], metric, op, w),
      if w == '5m'
      then (if op == 'rate' then entry.name else '%s(%s[5m])' % [over[op], entry.name])
      else '%s(%s[%s])' % [over[op], tierName(p[0], metric, op, '5m'), w],
    )
    for op in entry.ops
  ];

// Families: what trends and capacity planning read. Order within a family: rates before the
// ratios built on them.
local families = {
  'red-services': [
    src('service:http_requests:rate5m', ['rate']),
    src('service:http_requests_errors:rate5m', ['rate']),
    ratio('service', 'http_requests_errors', 'service:http_requests_errors:rate5m', 'service:http_requests:rate5m'),
    quantiles('service', 'http_request_duration_seconds', [0.5, 0.95, 0.99]),
  ],
  // The edge's normalised contract (whichever gateway adapter records it). Errors stay per
  // code_class (4xx and 5xx); the ratio counts 5xx only, like edge:requests_errors:ratio_rate5m.
  'red-edge': [
    src('edge:requests:rate5m', ['rate']),
    src('edge:requests_errors:rate5m', ['rate']),
    ratio('edge', 'requests_errors', 'edge:requests_errors:rate5m', 'edge:requests:rate5m', only={ code_class: '5xx' }),
    // The adapters record the p99 itself, not a normalised bucket rate (Envoy's buckets are in
    // milliseconds, ingress-nginx's in seconds), so these tiers are the mean and the worst of the
    // 5-minute p99s in the window: a mean of quantiles, not the window's quantile.
    src('edge:request_duration_seconds:p99', ['avg', 'max'], metric='request_duration_seconds_p99'),
    src('edge:connections_active:sum', ['avg', 'max']),
  ],
  'ai-generation': [
    src('model_type:creativeflow_ai_generation_requests:rate5m', ['rate']),
    src('model_type:creativeflow_ai_generation_requests_failure:rate5m', ['rate']),
    ratio('model_type', 'creativeflow_ai_generation_requests_failure', 'model_type:creativeflow_ai_generation_requests_failure:rate5m', 'model_type:creativeflow_ai_generation_requests:rate5m'),
    quantiles('model_type', 'creativeflow_ai_generation_duration_seconds', [0.5, 0.9, 0.99]),
    src('model:custom_model_inference_requests:rate5m', ['rate']),
    src('model:custom_model_inference_errors:rate5m', ['rate']),
    ratio('model', 'custom_model_inference_errors', 'model:custom_model_inference_errors:rate5m', 'model:custom_model_inference_requests:rate5m'),
    quantiles('model', 'custom_model_inference_latency_seconds', [0.99]),
  ],
  gpu: [
    src('cluster:DCGM_FI_DEV_GPU_UTIL:avg', ['avg', 'max']),
    src('node:DCGM_FI_DEV_GPU_UTIL:avg', ['avg']),
    src('cluster:DCGM_FI_DEV_FB_USED:ratio', ['avg', 'max']),
    src('node:DCGM_FI_DEV_FB_USED:ratio', ['avg']),
    src('node:DCGM_FI_DEV_GPU_TEMP:max', ['max']),
    // GPUs reporting: the capacity the utilisation is a share of.
    src('cluster:DCGM_FI_DEV_GPU_UTIL:count', ['max'], metric='dcgm_gpus'),
  ],
  nodes: [
    src('cluster:node_cpu_utilisation:ratio_rate5m', ['avg', 'max']),
    src('instance:node_cpu_utilisation:rate5m', ['avg', 'max']),
    src('instance:node_num_cpu:sum', ['max']),
    src('cluster:node_memory_utilisation:ratio', ['avg', 'max']),
    src('instance:node_memory_utilisation:ratio', ['avg', 'max']),
    src('cluster:node_filesystem_avail:ratio', ['min']),
    src('instance_mountpoint:node_filesystem_avail:ratio', ['min']),
    src('cluster:node_disk_io_bytes:rate5m', ['rate']),
    src('cluster:node_network_receive_bytes:rate5m', ['rate']),
    src('cluster:node_network_transmit_bytes:rate5m', ['rate']),
    src('instance:node_network_receive_bytes:rate5m', ['rate']),
    src('instance:node_network_transmit_bytes:rate5m', ['rate']),
  ],
  kubernetes: [
    src('namespace:container_cpu_usage_seconds:sum_rate5m', ['avg', 'max']),
    src('namespace:container_memory_working_set_bytes:sum', ['avg', 'max']),
    src('cluster:kube_pod_container_resource_requests_cpu_cores:ratio', ['avg']),
    src('cluster:kube_pod_container_resource_requests_memory_bytes:ratio', ['avg']),
  ],
  'data-stores': [
    src('instance:pg_stat_activity_count:ratio_max_connections', ['max']),
    src('instance:redis_memory_used_bytes:ratio_maxmemory', ['max']),
    src('job:minio_cluster_health_capacity_usable_bytes:used_ratio', ['max']),
  ],
  queues: [
    src('queue:rabbitmq_queue_messages_ready:max', ['avg', 'max']),
    src('queue:rabbitmq_queue_messages_unacked:max', ['max']),
    // Per-queue publish counters do not exist on the built-in exporter: throughput is per cluster,
    // messages in (received) and out (delivered to consumers).
    src('rabbitmq_cluster:rabbitmq_global_messages_received:rate5m', ['rate']),
    src('rabbitmq_cluster:rabbitmq_global_messages_delivered:rate5m', ['rate']),
    src('channel:creativeflow_notification_queue_depth:sum', ['max']),
    src('state:creativeflow_odoo_job_queue_jobs:sum', ['max']),
    src('workflow:n8n_workflow_running_executions:sum', ['max']),
  ],
  slo: [
    src('slo:sli_errors:rate5m', ['rate']),
    src('slo:sli_total:rate5m', ['rate']),
    ratio('slo', 'sli_error', 'slo:sli_errors:rate5m', 'slo:sli_total:rate5m'),
    src('slo:error_budget_remaining:ratio_rate30d', ['min']),
    src('slo:objective:ratio', ['max']),
  ],
  business: [
    src('cluster:creativeflow_user_registration_attempts:rate5m', ['rate']),
    src('cluster:creativeflow_user_registration_success:rate5m', ['rate']),
    ratio('cluster', 'creativeflow_user_registration_success', 'cluster:creativeflow_user_registration_success:rate5m', 'cluster:creativeflow_user_registration_attempts:rate5m'),
    src('cluster:creativeflow_payment_attempts:rate5m', ['rate']),
    src('cluster:creativeflow_payment_failures:rate5m', ['rate']),
    ratio('cluster', 'creativeflow_payment_failures', 'cluster:creativeflow_payment_failures:rate5m', 'cluster:creativeflow_payment_attempts:rate5m'),
    src('cluster:creativeflow_ai_generation_requests:rate5m', ['rate']),
    src('cluster:creativeflow_ai_generation_requests_success:rate5m', ['rate']),
    src('cluster:creativeflow_user_credits_consumed:rate5m', ['rate']),
    src('cluster:creativeflow_user_activations:rate5m', ['rate']),
    src('cluster:creativeflow_free_to_paid_conversions:rate5m', ['rate']),
    src('cluster_plan:creativeflow_api_user_request_count:rate5m', ['rate']),
  ],
};

// At most 20 rules per group (rules/group-size): a family's tier is split in numbered parts.
local maxGroup = 20;
local chunks(xs) = [
  xs[i * maxGroup:std.min((i + 1) * maxGroup, std.length(xs))]
  for i in std.range(0, std.ceil(std.length(xs) / maxGroup) - 1)
];

{
  _config+:: config,

  dashboardFolder:: 'Capacity',
  grafanaDashboards+:: {
    'capacity-trends.json': (import 'capacity-trends.libsonnet')($._config),
  },

  // The remote write's keep regex (anchored by Prometheus): every tier record, nothing else.
  tierRegex:: '[a-zA-Z_][a-zA-Z0-9_]*:[a-zA-Z0-9_]+:[a-z0-9_]+_tier(5m|1h|1d)',
  tierWindows:: tierNames,
  // Per tier: evaluation interval, required retention and how many records (the store's sizing).
  tierSummary:: {
    [w]: {
      interval: tiers[w].interval,
      retention: tiers[w].retention,
      records: std.length(std.flattenArrays([recordsOf(e, w) for f in std.objectFields(families) for e in families[f]])),
    }
    for w in tierNames
  },

  prometheusRules+:: {
    groups+: [
      local split = chunks(std.flattenArrays([recordsOf(e, w) for e in families[f]]));
      rules.group(
        'longterm-%s-%s%s' % [f, w, if std.length(split) > 1 then '-' + (i + 1) else ''],
        split[i],
        tiers[w].interval,
      )
      for f in std.objectFields(families)
      for w in tierNames
      for i in std.range(0, std.length(chunks(std.flattenArrays([recordsOf(e, w) for e in families[f]]))) - 1)
    ],
  },
}
