// Business / KPIs: for product management and business stakeholders, refresh 1h, 30 days by
// default. Registrations and the funnel, activation, DAU/MAU, free-to-paid conversion, payments,
// credits, MRR and AI generation success against its 98% target (KPI-004).
// Reads the business mixin's 1h recorded rates; long windows average them (avg_over_time) instead
// of re-reading raw counters. c: the business mixin's `_config`.

function(c)
  local d = (import '../../lib/dashboards.libsonnet')(c);
  local s = d.selector();
  // Events in the window `w` from a recorded per-second 1h rate.
  local total(series, w) = 'avg_over_time(%s%s[%s]) * %d' % [series, s, w, { '1d': 86400, '30d': 2592000 }[w]];
  local perHour(series) = '%s%s * 3600' % [series, s];

  local q = {
    registrations1d: d.target(total('cluster:creativeflow_user_registration_success:rate1h', '1d'), 'registrations (24h)'),
    registrationsPerHour: d.target(perHour('cluster:creativeflow_user_registration_success:rate1h'), 'completed'),
    registrationAttemptsPerHour: d.target(perHour('cluster:creativeflow_user_registration_attempts:rate1h'), 'started'),
    funnel: d.target('cluster:creativeflow_user_registration_success:ratio_rate1h%s' % s, 'completion (1h)'),
    activation30d: d.target(
      '%s / %s' % [
        total('cluster:creativeflow_user_activations:rate1h', '30d'),
        total('cluster:creativeflow_user_registration_success:rate1h', '30d'),
      ],
      'activation (30d)'
    ),
    dau: d.target('max (creativeflow_active_users%s)' % d.selector(['window="1d"']), 'DAU'),
    mau: d.target('max (creativeflow_active_users%s)' % d.selector(['window="30d"']), 'MAU'),
    stickiness: d.target(
      'max (creativeflow_active_users%s) / max (creativeflow_active_users%s)'
      % [d.selector(['window="1d"']), d.selector(['window="30d"'])],
      'DAU / MAU'
    ),
    conversion30d: d.target(
      '%s / sum (creativeflow_users%s)'
      % [total('cluster:creativeflow_free_to_paid_conversions:rate1h', '30d'), d.selector(['user_tier="free"'])],
      'free to paid (30d)'
    ),
    usersByTier: d.target('sum by (user_tier) (creativeflow_users%s)' % s, '{{user_tier}}'),
    mrr: d.target(
      'sum (creativeflow_monthly_recurring_revenue%s)' % d.selector(['currency="%s"' % c.reportingCurrency]), 'MRR'
    ),
    paymentsPerHour: d.target(perHour('cluster:creativeflow_payment_attempts:rate1h'), 'attempted'),
    paymentFailuresPerHour: d.target(perHour('cluster:creativeflow_payment_failures:rate1h'), 'failed'),
    paymentFailureRatio: d.target('cluster:creativeflow_payment_failures:ratio_rate1h%s' % s, 'failure ratio (1h)'),
    creditsPerHour: d.target(perHour('cluster:creativeflow_user_credits_consumed:rate1h'), 'last hour'),
    creditsAvgPerHour: d.target(perHour('cluster:creativeflow_user_credits_consumed:rate1h_avg7d'), '7-day hourly mean'),
    creditsRatio: d.target(
      'cluster:creativeflow_user_credits_consumed:rate1h%s / cluster:creativeflow_user_credits_consumed:rate1h_avg7d%s' % [s, s],
      'against the 7-day mean'
    ),
    aiSuccess: d.target('cluster:creativeflow_ai_generation_requests_success:ratio_rate1h%s' % s, 'success (1h)'),
    apiRateLimited: d.target('cluster_plan:creativeflow_api_user_request_count_rate_limited:ratio_rate1h%s' % s, '{{plan}}'),
  };

  local p = {
    registrations1d: d.stat(
      'Registrations (24h)', 'Registrations completed over the last 24 hours. Good: at or above the usual day (week-on-week).', 'short', [q.registrations1d], decimals=0
    ),
    funnelNow: d.stat(
      'Registration completion',
      'Share of registrations started in the last hour that completed (KPI-001). Good: green, above the RegistrationSuccessRatioLow threshold.',
      'percentunit',
      [q.funnel],
      thresholds=d.below([c.registrationSuccessRatioMin]),
      alerts=['RegistrationSuccessRatioLow'],
    ),
    activation: d.stat(
      'Activation (30d)', 'New users of the last 30 days who completed their first successful generation, per registration (KPI-002). Good: rising; the target is above 60%.', 'percentunit', [q.activation30d]
    ),
    conversion: d.stat(
      'Free to paid (30d)', 'Users who moved to a paid plan over the last 30 days, per free user (KPI-003). Good: rising; the target is above 5%.', 'percentunit', [q.conversion30d], decimals=2
    ),
    mrr: d.stat(
      'MRR', 'Monthly recurring revenue of the active subscriptions (%s). Good: growing month on month.' % c.reportingCurrency, 'currency' + c.reportingCurrency, [q.mrr], decimals=0
    ),
    aiSuccessNow: d.stat(
      'AI generation success',
      'Share of AI generations that succeeded over the last hour. Good: green, at or above the 98% KPI-004 target (AiGenerationSuccessRatioLow).',
      'percentunit',
      [q.aiSuccess],
      thresholds=d.below([c.aiGenerationSuccessRatioMin]),
      alerts=['AiGenerationSuccessRatioLow'],
      decimals=2,
    ),
    registrations: d.timeseries(
      'Registrations per hour', 'Registrations started and completed per hour. Good: the two lines close together, with the usual daily shape.', 'short', [q.registrationAttemptsPerHour, q.registrationsPerHour], min=0
    ),
    funnel: d.timeseries(
      'Registration funnel completion',
      'Share of registrations started that completed, over the last hour. Good: above the dashed RegistrationSuccessRatioLow line.',
      'percentunit',
      [q.funnel],
      thresholds=d.below([c.registrationSuccessRatioMin]),
      alerts=['RegistrationSuccessRatioLow'],
      max=1,
    ),
    activeUsers: d.timeseries(
      'Daily and monthly active users', 'Distinct active users over the last day (DAU) and 30 days (MAU). Good: both growing.', 'short', [q.dau, q.mau], min=0
    ),
    stickiness: d.timeseries(
      'Stickiness (DAU / MAU)', 'Share of the monthly users active on a given day. Good: stable or rising; a fall means users come back less often.', 'percentunit', [q.stickiness], min=0, max=1
    ),
    usersByTier: d.timeseries(
      'Users by tier', 'Registered users per tier. Good: paid tiers growing faster than free.', 'short', [q.usersByTier], min=0, stack=true
    ),
    payments: d.timeseries(
      'Payments per hour', 'Payments attempted and failed per hour (Stripe, PayPal). Good: failures a thin sliver of attempts.', 'short', [q.paymentsPerHour, q.paymentFailuresPerHour], min=0
    ),
    paymentFailureRatio: d.timeseries(
      'Payment failure ratio',
      'Share of payments that failed over the last hour. Good: below the dashed PaymentFailureRatioHigh line.',
      'percentunit',
      [q.paymentFailureRatio],
      thresholds=d.above([c.paymentFailureRatioMax]),
      alerts=['PaymentFailureRatioHigh'],
      min=0,
    ),
    credits: d.timeseries(
      'Credits consumed per hour', 'Credits deducted for billable actions per hour, against the 7-day hourly mean. Good: close to the mean line.', 'short', [q.creditsPerHour, q.creditsAvgPerHour], min=0
    ),
    creditsRatio: d.timeseries(
      'Credit consumption against the usual',
      'Hourly credit consumption divided by its 7-day hourly mean. Good: around 1, below the dashed CreditConsumptionUnusual line.',
      'short',
      [q.creditsRatio],
      thresholds=d.above([c.creditConsumptionRatioToAverage]),
      alerts=['CreditConsumptionUnusual'],
      min=0,
    ),
    aiSuccess: d.timeseries(
      'AI generation success against the 98% target',
      'Share of AI generations that succeeded over the last hour. Good: above the dashed KPI-004 target line (AiGenerationSuccessRatioLow).',
      'percentunit',
      [q.aiSuccess],
      thresholds=d.below([c.aiGenerationSuccessRatioMin]),
      alerts=['AiGenerationSuccessRatioLow'],
      max=1,
    ),
    apiRateLimited: d.timeseries(
      'API requests rate limited by plan',
      'Share of API-key requests rejected by rate limiting per plan. Good: below the dashed ApiUsersRateLimited line; above it, customers outgrow their plan.',
      'percentunit',
      [q.apiRateLimited],
      thresholds=d.above([c.apiRateLimitedRatioMax]),
      alerts=['ApiUsersRateLimited'],
      min=0,
    ),
  };

  d.dashboard({
    uid: 'business-kpis',
    title: 'Business / KPIs',
    tags: ['business', 'kpi'],
    description: 'How is the business doing? Registrations and activation, active users, conversion, payments, '
                 + 'credits, MRR and AI generation success against its 98% target. Hourly data; dashed lines are '
                 + 'the business alerts (Jsonnet defaults). Reads Prometheus (the Data source variable), whose '
                 + 'raw retention can be shorter than 30 days (dev, staging); the daily KPIs for a year are on '
                 + 'Capacity / Capacity & trends, from the long-term store.',
    refresh: '1h',
    time: 'now-30d',
    panels: d.layout([
      d.row('Key numbers'),
      d.height(4, [p.registrations1d, p.funnelNow, p.activation, p.conversion, p.mrr, p.aiSuccessNow]),
      d.row('Acquisition and engagement'),
      [p.registrations, p.funnel],
      [p.activeUsers, p.stickiness, p.usersByTier],
      d.row('Revenue'),
      [p.payments, p.paymentFailureRatio],
      [p.credits, p.creditsRatio],
      d.row('Product'),
      [p.aiSuccess, p.apiRateLimited],
    ]),
  })
