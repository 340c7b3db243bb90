// Service level objectives: recording rules and multi-window, multi-burn-rate alerts (Google SRE
// workbook, "Alerting on SLOs", approach 6). One call of `slo.new(config, spec)` per SLO:
//
//   slo.new(config, {
//     name: 'api-availability',        // `slo` label value; the group is slo-<name>-recording
//     alertName: 'SloApiAvailability', // alerts <alertName>BudgetBurnFast and <alertName>BudgetBurnSlow
//     title: 'API availability',       // for the alerts' static summary
//     service: 'api-gateway',          // `service` label of the recorded series and the alerts
//     target: 0.999,                   // objective: share of good events over the 30-day period
//     what: 'API requests answered without a server error',  // a good event, for the annotations
//     metric: 'http_requests_total',   // counter of events, with the selectors of bad and all events
//     errorSelector: 'service="api-gateway", status=~"5.."',
//     totalSelector: 'service="api-gateway"',
//     // or, instead of metric/selectors: errorRate(window) and totalRate(window) returning PromQL
//     // aggregated `by (cluster, environment)`
//     labels: {},                      // extra alert labels (e.g. team)
//   })
//
// returns { recordingGroup: <group>, alerts: [<fast alert>, <slow alert>] }.
//
// Recorded series (labels cluster, environment, slo, service):
//   slo:sli_errors:rate5m, slo:sli_total:rate5m       bad / all events per second over 5m
//   slo:sli_error:ratio_rate<w>                        bad / all over w in 5m 30m 1h 2h 6h 1d 3d 30d
//   slo:objective:ratio                                the target (constant, for dashboards)
//   slo:error_budget_remaining:ratio_rate30d           1 - (error ratio over 30d / error budget);
//                                                      1 = untouched, 0 = spent, < 0 = overspent
// The windows above 5m are sum_over_time(bad rate5m) / sum_over_time(all rate5m): a traffic-
// weighted ratio read from two small recorded series instead of days of raw counters.
//
// Alerts (burn rate = error ratio / (1 - target); 1 spends the budget in exactly 30 days):
//   <alertName>BudgetBurnFast  page (critical): burn > 14.4 over 1h and 5m, or > 6 over 6h and 30m
//                              (2 % / 5 % of the 30-day budget spent)
//   <alertName>BudgetBurnSlow  ticket (warning): burn > 3 over 1d and 2h, or > 1 over 3d and 6h
//                              (10 % / 10 % of the budget spent)
// Both carry `symptom: slo-<name>-budget-burn` (rules.libsonnet): while the fast burn pages,
// Alertmanager silences the slow-burn ticket of the same SLO.
// The burn-rate factors are declared alert parameters (Helm values can retune them); the target
// is part of the SLO's definition and stays in Jsonnet.

local selectors = import 'selectors.libsonnet';

{
  windows:: ['5m', '30m', '1h', '2h', '6h', '1d', '3d'],
  period:: '30d',

  // Default page/ticket conditions: { param: [factor, long window, short window] }.
  fast:: { burnRate1h: [14.4, '1h', '5m'], burnRate6h: [6, '6h', '30m'] },
  slow:: { burnRate1d: [3, '1d', '2h'], burnRate3d: [1, '3d', '6h'] },

  new(cfg, spec)::
    local s = {
      labels: {},
      fastSeverity: 'critical',
      fastPriority: 'P1',
      fastFor: '2m',
      slowSeverity: 'warning',
      slowPriority: 'P3',
      slowFor: '15m',
    } + spec;
    local rules = (import 'rules.libsonnet')(cfg);
    local by = rules.by();
    local errorRate(w) =
      if std.objectHas(s, 'errorRate') then s.errorRate(w)
      else 'sum %s (rate(%s%s[%s]))' % [by, s.metric, selectors.of([s.errorSelector]), w];
    local totalRate(w) =
      if std.objectHas(s, 'totalRate') then s.totalRate(w)
      else 'sum %s (rate(%s%s[%s]))' % [by, s.metric, selectors.of([s.totalSelector]), w];
    local labels = { slo: s.name, service: s.service };
    local symptom = 'slo-%s-budget-burn' % s.name;  // the alerts' common name stem, kebab-case
    local only = '{slo="%s"}' % s.name;
    local budget = 1 - s.target;
    local budgetText = std.format('%g', budget);
    local objectiveText = std.format('%g%%', s.target * 100);
    local ratio(w) = 'slo:sli_error:ratio_rate' + w + only;
    local burnCondition(conditions) = std.join(' or ', [
      local c = conditions[p];
      '(%s / %s > %s and %s / %s > %s)'
      % [ratio(c[1]), budgetText, rules.param(p), ratio(c[2]), budgetText, rules.param(p)]
      for p in std.objectFields(conditions)
    ]);
    local thresholds(conditions) = std.join(' or ', [
      local c = conditions[p];
      '%sx over %s' % [rules.param(p), c[1]]
      for p in std.objectFields(conditions)
    ]);
    local description(conditions, kind) =
      'The {{ $labels.slo }} SLO of {{ $labels.service }} in {{ $labels.environment }}/{{ $labels.cluster }} '
      + '(%s %s) is burning its 30-day error budget {{ $value | humanize }} times faster than sustainable '
        % [objectiveText, s.what]
      + '(%s at %s, confirmed over the short window).' % [kind, thresholds(conditions)];
    assert s.target > 0 && s.target < 1 : 'slo %s: target must be between 0 and 1' % s.name;
    {
      recordingGroup: rules.group('slo-%s-recording' % s.name, [
        rules.record('slo:sli_errors:rate5m', '%s or %s * 0' % [errorRate('5m'), totalRate('5m')], labels),
        rules.record('slo:sli_total:rate5m', totalRate('5m'), labels),
        rules.record(
          'slo:sli_error:ratio_rate5m',
          'slo:sli_errors:rate5m%s / slo:sli_total:rate5m%s' % [only, only],
          labels,
        ),
      ] + [
        rules.record(
          'slo:sli_error:ratio_rate' + w,
          'sum_over_time(slo:sli_errors:rate5m%s[%s]) / sum_over_time(slo:sli_total:rate5m%s[%s])'
          % [only, w, only, w],
          labels,
        )
        for w in $.windows[1:] + [$.period]
      ] + [
        rules.record('slo:objective:ratio', 'slo:sli_total:rate5m%s * 0 + %g' % [only, s.target], labels),
        rules.record(
          'slo:error_budget_remaining:ratio_rate30d',
          '1 - slo:sli_error:ratio_rate30d%s / %s' % [only, budgetText],
          labels,
        ),
      ]),

      alerts: [
        rules.alert({
          name: s.alertName + 'BudgetBurnFast',
          expr: burnCondition($.fast),
          'for': s.fastFor,
          severity: s.fastSeverity,
          priority: s.fastPriority,
          labels: { service: s.service, symptom: symptom } + s.labels,
          summary: 'The %s SLO is burning its error budget fast enough to exhaust it within days.' % s.title,
          description: description($.fast, 'page'),
          params: { [p]: $.fast[p][0] for p in std.objectFields($.fast) },
        }),
        rules.alert({
          name: s.alertName + 'BudgetBurnSlow',
          expr: burnCondition($.slow),
          'for': s.slowFor,
          severity: s.slowSeverity,
          priority: s.slowPriority,
          labels: { service: s.service, symptom: symptom } + s.labels,
          summary: 'The %s SLO is burning its error budget faster than it can afford over 30 days.' % s.title,
          description: description($.slow, 'ticket'),
          params: { [p]: $.slow[p][0] for p in std.objectFields($.slow) },
        }),
      ],
    },
}
