// Capacity / Capacity & trends: months and years of the aggregate tiers, read from the long-term
// store (datasource VictoriaMetrics-LongTerm, uid `longterm`), since Prometheus keeps raw data for
// days or weeks only (3 days in dev, 30 in prod). The 90-day rows read the 1h tier; the 1-year
// row reads the 1d tier (each of its panels shows the last year whatever the dashboard's range).
function(c)
  local d = (import '../../lib/dashboards.libsonnet')(c);

  local s = d.selector();
  local by(labels, expr) = 'sum by (%s) (%s%s)' % [labels, expr, s];
  local perDay(expr) = 'sum(%s%s) * 86400' % [expr, s];
  local year = { timeFrom: '1y', hideTimeOverride: false };
  local store = ' Reads the long-term store (VictoriaMetrics-LongTerm).';

  local p = {
    requests: d.timeseries(
      'Requests per service',
      'HTTP requests per second per service, hourly means.' + store + ' Good: growth you planned capacity for.',
      'reqps',
      [d.target(by('service', 'service:http_requests:rate_tier1h'), '{{service}}')],
    ),
    errors: d.timeseries(
      'Error ratio per service',
      'Share of requests answered with a 5xx per service, per hour (errors over requests in the hour).' + store + ' Good: flat and low.',
      'percentunit',
      [d.target('max by (service) (service:http_requests_errors:ratio_tier1h%s)' % s, '{{service}}')],
      min=0,
    ),
    latency: d.timeseries(
      'p99 latency per service',
      "The 99th percentile request duration per service over each hour (from the hour's bucket rates)." + store + ' Good: flat; a slow climb is a capacity signal.',
      's',
      [d.target('max by (service) (service:http_request_duration_seconds:p99_tier1h%s)' % s, '{{service}}')],
      min=0,
    ),
    // The AI generation tiers carry model_provider, model_name and generation_type (no model type):
    // these panels sum them per generation type.
    aiThroughput: d.timeseries(
      'AI generations per generation type',
      'AI generation requests per second per generation type (every provider and model), hourly means.' + store + ' Good: within what the GPU pool was sized for.',
      'reqps',
      [d.target(by('generation_type', 'model_type:creativeflow_ai_generation_requests:rate_tier1h'), '{{generation_type}}')],
    ),
    aiSuccess: d.timeseries(
      'AI generation success per generation type',
      'Share of AI generation requests that succeeded per generation type (every provider and model, weighted by requests), per hour.' + store + ' Good: at or above the 98% objective.',
      'percentunit',
      // No failure series until a first failure: count it as none rather than hide the type.
      [d.target('1 - (%s or %s * 0) / %s' % [
        by('generation_type', 'model_type:creativeflow_ai_generation_requests_failure:rate_tier1h'),
        by('generation_type', 'model_type:creativeflow_ai_generation_requests:rate_tier1h'),
        by('generation_type', 'model_type:creativeflow_ai_generation_requests:rate_tier1h'),
      ], '{{generation_type}}')],
      thresholds=d.below([0.98]),
      max=1,
    ),
    aiLatency: d.timeseries(
      'AI generation p90 duration per generation type (slowest model)',
      'The 90th percentile generation time over each hour of the slowest provider and model of each generation type.' + store + ' Good: flat.',
      's',
      [d.target('max by (generation_type) (model_type:creativeflow_ai_generation_duration_seconds:p90_tier1h%s)' % s, '{{generation_type}}')],
      min=0,
    ),
    cpu: d.timeseries(
      'Cluster CPU utilisation',
      'Node CPU busy share across the cluster: hourly mean and the busiest 5 minutes of each hour.' + store + ' Good: the peak stays below 80%.',
      'percentunit',
      [
        d.target('max(cluster:node_cpu_utilisation:avg_tier1h%s)' % s, 'mean'),
        d.target('max(cluster:node_cpu_utilisation:max_tier1h%s)' % s, 'peak'),
      ],
      thresholds=d.above([0.8]),
      min=0,
      max=1,
    ),
    memory: d.timeseries(
      'Cluster memory utilisation',
      'Node memory in use across the cluster: hourly mean and peak.' + store + ' Good: the peak stays below 85%.',
      'percentunit',
      [
        d.target('max(cluster:node_memory_utilisation:avg_tier1h%s)' % s, 'mean'),
        d.target('max(cluster:node_memory_utilisation:max_tier1h%s)' % s, 'peak'),
      ],
      thresholds=d.above([0.85]),
      min=0,
      max=1,
    ),
    gpu: d.timeseries(
      'GPU utilisation and memory',
      'GPU busy share and GPU memory in use across the cluster: hourly means and the peak utilisation.' + store + ' Good: busy but with headroom at the peak.',
      'percentunit',
      [
        d.target('max(cluster:DCGM_FI_DEV_GPU_UTIL:avg_tier1h%s) / 100' % s, 'utilisation'),
        d.target('max(cluster:DCGM_FI_DEV_GPU_UTIL:max_tier1h%s) / 100' % s, 'utilisation peak'),
        d.target('max(cluster:DCGM_FI_DEV_FB_USED:avg_tier1h%s)' % s, 'memory'),
      ],
      min=0,
      max=1,
    ),
    disk: d.timeseries(
      'Free disk space (lowest filesystem)',
      "The fullest filesystem's free share in each hour." + store + ' Good: well above 15%; extrapolate the slope to the day it runs out.',
      'percentunit',
      [d.target('min(cluster:node_filesystem_avail:min_tier1h%s)' % s, 'free')],
      thresholds=d.below([0.15]),
      min=0,
      max=1,
    ),
    network: d.timeseries(
      'Network throughput',
      'Bytes per second received and sent by the nodes, hourly means.' + store + " Good: below the links' capacity.",
      'Bps',
      [
        d.target('sum(cluster:node_network_receive_bytes:rate_tier1h%s)' % s, 'received'),
        d.target('sum(cluster:node_network_transmit_bytes:rate_tier1h%s)' % s, 'sent'),
      ],
      min=0,
    ),
    queues: d.timeseries(
      'Queue depth (hourly peak)',
      'Messages waiting per RabbitMQ queue: the deepest 5 minutes of each hour.' + store + ' Good: drained between peaks.',
      'short',
      [d.target('max by (queue) (queue:rabbitmq_queue_messages_ready:max_tier1h%s)' % s, '{{queue}}')],
      min=0,
    ),
    requestsDaily: d.timeseries(
      'Requests per day (1 year)',
      'HTTP requests per day across every service, from the daily tier, over the last year.' + store + ' Good: the growth you planned for.',
      'short',
      [d.target(perDay('service:http_requests:rate_tier1d'), 'requests per day')],
      min=0,
    ) + year,
    usageDaily: d.timeseries(
      'Daily utilisation (1 year)',
      'Daily mean CPU, memory and GPU utilisation of the cluster over the last year.' + store + ' Good: rising slower than capacity is added.',
      'percentunit',
      [
        d.target('max(cluster:node_cpu_utilisation:avg_tier1d%s)' % s, 'CPU'),
        d.target('max(cluster:node_memory_utilisation:avg_tier1d%s)' % s, 'memory'),
        d.target('max(cluster:DCGM_FI_DEV_GPU_UTIL:avg_tier1d%s) / 100' % s, 'GPU'),
      ],
      min=0,
      max=1,
    ) + year,
    budgetDaily: d.timeseries(
      'SLO error budget left (1 year)',
      'The lowest 30-day error budget left of each SLO per day, over the last year.' + store + ' Good: above 0 every day.',
      'percentunit',
      [d.target('min by (slo) (slo:error_budget_remaining:min_tier1d%s)' % s, '{{slo}}')],
      thresholds=d.below([0]),
    ) + year,
    businessDaily: d.timeseries(
      'Business KPIs per day (1 year)',
      'Registrations, payments and AI generations per day, from the daily tier, over the last year.' + store + ' Good: growing.',
      'short',
      [
        d.target(perDay('cluster:creativeflow_user_registration_success:rate_tier1d'), 'registrations'),
        d.target(perDay('cluster:creativeflow_payment_attempts:rate_tier1d'), 'payments'),
        d.target(perDay('cluster:creativeflow_ai_generation_requests:rate_tier1d'), 'AI generations'),
      ],
      min=0,
    ) + year,
  };

  local dash = d.dashboard({
    uid: 'capacity-trends',
    title: 'Capacity / Capacity & trends',
    tags: ['capacity', 'longterm'],
    description: 'Where are traffic, reliability and resource use heading over months? The aggregate tiers '
                 + '(1h over 90 days, 1d over a year) from the long-term store: datasource VictoriaMetrics-LongTerm '
                 + '(uid longterm), not Prometheus, which keeps raw data for weeks only.',
    refresh: '1h',
    time: 'now-90d',
    variableMetric: 'cluster:node_cpu_utilisation:avg_tier1h',
    panels: d.layout([
      d.row('Traffic and reliability: 90 days, hourly (1h tier)'),
      [p.requests, p.errors, p.latency],
      [p.aiThroughput, p.aiSuccess, p.aiLatency],
      d.row('Capacity: 90 days, hourly (1h tier)'),
      [p.cpu, p.memory, p.gpu],
      [p.disk, p.network, p.queues],
      d.row('One year, daily (1d tier)'),
      [p.requestsDaily, p.usageDaily],
      [p.budgetDaily, p.businessDaily],
    ]),
  });

  // The datasource variable offers the long-term store only, and starts on it.
  dash {
    templating+: {
      list: [
        dash.templating.list[0] {
          regex: '/LongTerm/',
          current: { text: 'VictoriaMetrics-LongTerm', value: 'longterm' },
        },
      ] + dash.templating.list[1:],
    },
  }
