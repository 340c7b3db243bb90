// Business: the KPIs of the platform's core user journeys, from the application metrics contract:
//   registrations (auth)         creativeflow_user_registration_{attempts,success}_total      KPI-001
//   payments (billing)           creativeflow_payment_{attempts,failures}_total
//   AI generation (ai-orchestration) creativeflow_ai_generation_requests_total{status}, _duration_seconds  KPI-004, REQ-SSPE-001/002
//   credits (billing)            creativeflow_user_credits_consumed_total
//   API users (api-gateway)      creativeflow_api_user_request_count_total{plan, outcome}
//   activation, conversion (analytics, billing)  creativeflow_user_activations_total, creativeflow_free_to_paid_conversions_total  KPI-002, KPI-003
// `business-recording` holds the 5-minute aggregates (dashboards), `business-kpi-recording` the
// 1-hour rates and KPI ratios the alerts read. Everything is per cluster and environment.
local config = import '../../lib/config.libsonnet';

{
  _config+:: config {
    registrationService: 'auth',
    paymentService: 'billing',
    aiGenerationService: 'ai-orchestration',
    creditsService: 'billing',
    apiService: 'api-gateway',
    // Currency of creativeflow_monthly_recurring_revenue shown on the Business KPIs dashboard.
    reportingCurrency: 'USD',
    // Defaults of the declared alert parameters.
    registrationSuccessRatioMin: 0.95,
    registrationMinAttemptsPerHour: 20,
    paymentFailureRatioMax: 0.10,
    paymentMinAttemptsPerHour: 20,
    aiGenerationSuccessRatioMin: 0.98,
    aiSampleGenerationP90Seconds: 30,
    aiHighResGenerationP90Seconds: 120,
    creditConsumptionRatioToAverage: 3,
    creditConsumptionMinPerHour: 1000,
    apiRateLimitedRatioMax: 0.05,
  },

  local c = $._config,
  local rules = (import '../../lib/rules.libsonnet')(c),
  local by = rules.by(),
  local byPlan = rules.by(['plan']),
  local byType = rules.by(['generation_type']),
  local byTypeLe = rules.by(['generation_type', 'le']),
  local where = '{{ $labels.environment }}/{{ $labels.cluster }}',
  // `cluster:<metric>:rate<w>` of a counter, summed per cluster and environment (or `grouping`).
  local rate(level, name, metric, w, selector='', grouping=by) =
    rules.record('%s:%s:rate%s' % [level, name, w], 'sum %s (rate(%s%s[%s]))' % [grouping, metric, selector, w]),
  // part / whole, 0 rather than absent when the part has no series yet.
  local ratio(name, part, whole) =
    rules.record(name, '(%s or %s * 0) / %s' % [part, whole, whole]),

  local counters(w) = [
    rate('cluster', 'creativeflow_user_registration_attempts', 'creativeflow_user_registration_attempts_total', w),
    rate('cluster', 'creativeflow_user_registration_success', 'creativeflow_user_registration_success_total', w),
    rate('cluster', 'creativeflow_payment_attempts', 'creativeflow_payment_attempts_total', w),
    rate('cluster', 'creativeflow_payment_failures', 'creativeflow_payment_failures_total', w),
    rate('cluster', 'creativeflow_ai_generation_requests', 'creativeflow_ai_generation_requests_total', w),
    rate('cluster', 'creativeflow_ai_generation_requests_success', 'creativeflow_ai_generation_requests_total', w, '{status="success"}'),
    rate('cluster', 'creativeflow_user_credits_consumed', 'creativeflow_user_credits_consumed_total', w),
    rate('cluster', 'creativeflow_user_activations', 'creativeflow_user_activations_total', w),
    rate('cluster', 'creativeflow_free_to_paid_conversions', 'creativeflow_free_to_paid_conversions_total', w),
    rate('cluster_plan', 'creativeflow_api_user_request_count', 'creativeflow_api_user_request_count_total', w, '', byPlan),
    rate('cluster_plan', 'creativeflow_api_user_request_count_rate_limited', 'creativeflow_api_user_request_count_total', w, '{outcome="rate_limited"}', byPlan),
  ],

  prometheusRules+:: {
    groups+: [
      rules.group('business-recording', counters('5m') + [
        rules.record(
          'cluster_type_le:creativeflow_ai_generation_duration_seconds_bucket:rate5m',
          'sum %s (rate(creativeflow_ai_generation_duration_seconds_bucket[5m]))' % byTypeLe,
        ),
        rules.record(
          'cluster_type:creativeflow_ai_generation_duration_seconds:p90_rate5m',
          'histogram_quantile(0.9, cluster_type_le:creativeflow_ai_generation_duration_seconds_bucket:rate5m)',
        ),
      ]),
      rules.group('business-kpi-recording', counters('1h') + [
        // The usual hourly credit consumption: the mean of the hourly rate over the last 7 days.
        rules.record(
          'cluster:creativeflow_user_credits_consumed:rate1h_avg7d',
          'avg_over_time(cluster:creativeflow_user_credits_consumed:rate1h[7d])',
        ),
        ratio(
          'cluster:creativeflow_user_registration_success:ratio_rate1h',
          'cluster:creativeflow_user_registration_success:rate1h',
          'cluster:creativeflow_user_registration_attempts:rate1h',
        ),
        ratio(
          'cluster:creativeflow_payment_failures:ratio_rate1h',
          'cluster:creativeflow_payment_failures:rate1h',
          'cluster:creativeflow_payment_attempts:rate1h',
        ),
        ratio(
          'cluster:creativeflow_ai_generation_requests_success:ratio_rate1h',
          'cluster:creativeflow_ai_generation_requests_success:rate1h',
          'cluster:creativeflow_ai_generation_requests:rate1h',
        ),
        ratio(
          'cluster_plan:creativeflow_api_user_request_count_rate_limited:ratio_rate1h',
          'cluster_plan:creativeflow_api_user_request_count_rate_limited:rate1h',
          'cluster_plan:creativeflow_api_user_request_count:rate1h',
        ),
      ]),
    ],
  },

  prometheusAlerts+:: {
    groups+: [
      rules.group('business-alerts', [
        rules.alert({
          name: 'RegistrationSuccessRatioLow',
          expr: 'cluster:creativeflow_user_registration_success:ratio_rate1h < %s' % rules.param('threshold')
                + ' and cluster:creativeflow_user_registration_attempts:rate1h * 3600 >= %s'
                  % rules.param('minAttemptsPerHour'),
          'for': '30m',
          severity: 'critical',
          priority: 'P2',
          labels: { service: c.registrationService },
          summary: 'Too many users fail to complete registration.',
          description: 'Only {{ $value | humanizePercentage }} of registrations started in %s over the last hour ' % where
                       + 'completed (threshold {{ %s | humanizePercentage }}): new users are lost at sign-up (KPI-001).'
                         % rules.param('threshold'),
          params: { threshold: c.registrationSuccessRatioMin, minAttemptsPerHour: c.registrationMinAttemptsPerHour },
        }),
        rules.alert({
          name: 'PaymentFailureRatioHigh',
          expr: 'cluster:creativeflow_payment_failures:ratio_rate1h > %s' % rules.param('threshold')
                + ' and cluster:creativeflow_payment_attempts:rate1h * 3600 >= %s'
                  % rules.param('minAttemptsPerHour'),
          'for': '15m',
          severity: 'critical',
          priority: 'P2',
          labels: { service: c.paymentService },
          summary: 'Too many payments fail.',
          description: '{{ $value | humanizePercentage }} of payments in %s failed over the last hour ' % where
                       + '(threshold {{ %s | humanizePercentage }}): subscriptions and credit purchases are lost.'
                         % rules.param('threshold'),
          params: { threshold: c.paymentFailureRatioMax, minAttemptsPerHour: c.paymentMinAttemptsPerHour },
        }),
        rules.alert({
          name: 'AiGenerationSuccessRatioLow',
          expr: 'cluster:creativeflow_ai_generation_requests_success:ratio_rate1h < %s' % rules.param('threshold'),
          'for': '15m',
          severity: 'warning',
          priority: 'P2',
          labels: { service: c.aiGenerationService },
          summary: 'AI generation success is below its KPI target.',
          description: 'Only {{ $value | humanizePercentage }} of AI generation requests in %s succeeded ' % where
                       + 'over the last hour (KPI-004 target {{ %s | humanizePercentage }}).'
                         % rules.param('threshold'),
          params: { threshold: c.aiGenerationSuccessRatioMin },
        }),
        rules.alert({
          name: 'AiSampleGenerationSlow',
          expr: 'cluster_type:creativeflow_ai_generation_duration_seconds:p90_rate5m{generation_type="sample"} > %s'
                % rules.param('thresholdSeconds'),
          'for': '15m',
          severity: 'warning',
          priority: 'P3',
          labels: { service: c.aiGenerationService },
          summary: 'Sample AI generations take too long.',
          description: 'p90 duration of sample generations in %s is {{ $value | humanizeDuration }} ' % where
                       + 'over the last 5 minutes (REQ-SSPE-001 target %ss).'
                         % rules.param('thresholdSeconds'),
          params: { thresholdSeconds: c.aiSampleGenerationP90Seconds },
        }),
        rules.alert({
          name: 'AiHighResGenerationSlow',
          expr: 'cluster_type:creativeflow_ai_generation_duration_seconds:p90_rate5m{generation_type="high_res"} > %s'
                % rules.param('thresholdSeconds'),
          'for': '15m',
          severity: 'warning',
          priority: 'P3',
          labels: { service: c.aiGenerationService },
          summary: 'High-resolution AI generations take too long.',
          description: 'p90 duration of high-resolution generations in %s is {{ $value | humanizeDuration }} ' % where
                       + 'over the last 5 minutes (REQ-SSPE-002 target %ss).'
                         % rules.param('thresholdSeconds'),
          params: { thresholdSeconds: c.aiHighResGenerationP90Seconds },
        }),
        rules.alert({
          name: 'CreditConsumptionUnusual',
          expr: 'cluster:creativeflow_user_credits_consumed:rate1h / cluster:creativeflow_user_credits_consumed:rate1h_avg7d > %s'
                % rules.param('ratioToAverage')
                + ' and cluster:creativeflow_user_credits_consumed:rate1h * 3600 >= %s' % rules.param('minCreditsPerHour'),
          'for': '30m',
          severity: 'warning',
          priority: 'P3',
          labels: { service: c.creditsService },
          summary: 'Users consume credits much faster than usual.',
          description: 'Credits consumed in %s over the last hour are {{ $value | humanize }} times ' % where
                       + 'their 7-day hourly average (threshold %sx): abuse, a pricing bug or a runaway client.'
                         % rules.param('ratioToAverage'),
          params: { ratioToAverage: c.creditConsumptionRatioToAverage, minCreditsPerHour: c.creditConsumptionMinPerHour },
        }),
        rules.alert({
          name: 'ApiUsersRateLimited',
          expr: 'cluster_plan:creativeflow_api_user_request_count_rate_limited:ratio_rate1h > %s' % rules.param('threshold'),
          'for': '15m',
          severity: 'warning',
          priority: 'P3',
          labels: { service: c.apiService },
          summary: 'Many API requests are rejected by rate limiting.',
          description: '{{ $value | humanizePercentage }} of API-key requests on the {{ $labels.plan }} plan in %s ' % where
                       + 'were rate limited over the last hour (threshold {{ %s | humanizePercentage }}).'
                         % rules.param('threshold'),
          params: { threshold: c.apiRateLimitedRatioMax },
        }),
      ]),
    ],
  },

  dashboardFolder:: 'Business',
  grafanaDashboards+:: {
    'business-kpis.json': (import 'business-kpis.libsonnet')(c),
  },
}
