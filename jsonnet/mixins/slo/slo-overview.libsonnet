// SLO / Overview: for each SLO of the slo mixin, the objective over 30 days, the error budget
// left, how fast it burns, and the SLI over time. Reads the series lib/slo.libsonnet records; the
// burn-rate lines are the page/ticket factors of its alerts (slo.fast, slo.slow).
// specs: the SLO specs of the slo mixin (name, alertName, title, service, target, what).
local slo = import '../../lib/slo.libsonnet';

function(c, specs)
  local d = (import '../../lib/dashboards.libsonnet')(c);
  // Every burn-rate factor of the page and ticket alerts, ascending, coloured by how fast it burns.
  local factors = std.sort([f[0] for f in std.objectValues(slo.fast) + std.objectValues(slo.slow)]);
  local colours = ['yellow', 'orange', 'red', 'dark-red'];
  assert std.length(factors) <= std.length(colours) : 'slo-overview: one colour per burn-rate factor';
  local burnSteps = d.steps('green', std.mapWithIndex(function(i, f) [f, colours[i]], factors));
  // The long windows of the alert conditions, e.g. ['1h', '6h', '1d', '3d'].
  local windows = [w[1] for w in std.objectValues(slo.fast) + std.objectValues(slo.slow)];

  local perSlo(spec) =
    local s = d.selector(['slo="%s"' % spec.name]);
    local budget = 1 - spec.target;
    local objective = std.format('%g%%', spec.target * 100);
    local q = {
      sli30d: d.target('1 - slo:sli_error:ratio_rate30d%s' % s, '30 days'),
      budgetLeft: d.target('slo:error_budget_remaining:ratio_rate30d%s' % s, 'budget left'),
      burn(w): d.target('slo:sli_error:ratio_rate%s%s / %g' % [w, s, budget], 'burn rate %s' % w),
      sli(w): d.target('1 - slo:sli_error:ratio_rate%s%s' % [w, s], 'SLI %s' % w),
      objective: d.target('slo:objective:ratio%s' % s, 'objective'),
    };
    {
      sli30d: d.stat(
        '%s: SLI over 30 days' % spec.title,
        'Share %s over the last 30 days. Good: green, at or above the %s objective.' % [spec.what, objective],
        'percentunit',
        [q.sli30d],
        thresholds=d.below([spec.target]),
        decimals=3,
      ),
      budgetLeft: d.stat(
        '%s: error budget left' % spec.title,
        'Share of the 30-day error budget (%s of events may fail) not yet spent. Good: green, above 0; below 0 the objective is missed.'
        % std.format('%g%%', budget * 100),
        'percentunit',
        [q.budgetLeft],
        thresholds=d.below([0]),
        decimals=1,
      ),
      budgetOverTime: d.timeseries(
        '%s: error budget left over time' % spec.title,
        'The 30-day error budget left, over the time range. Good: flat or rising; a steep fall is an incident spending it.',
        'percentunit',
        [q.budgetLeft],
        thresholds=d.below([0]),
      ),
      burn: d.timeseries(
        '%s: burn rate' % spec.title,
        'How many times faster than sustainable the budget burns, per window (1 spends it in exactly 30 days). Good: below 1; the dashed lines are the page (%s) and ticket (%s) factors.'
        % [spec.alertName + 'BudgetBurnFast', spec.alertName + 'BudgetBurnSlow'],
        'short',
        [q.burn(w) for w in windows],
        thresholds=burnSteps,
        alerts=[spec.alertName + 'BudgetBurnFast', spec.alertName + 'BudgetBurnSlow'],
        min=0,
      ),
      sli: d.timeseries(
        '%s: SLI' % spec.title,
        'Share %s over 5 minutes and 1 hour, with the objective. Good: above the %s objective line.' % [spec.what, objective],
        'percentunit',
        [q.sli('5m'), q.sli('1h'), q.objective],
        thresholds=d.below([spec.target]),
        max=1,
      ),
    };

  local lines = std.flattenArrays([
    local p = perSlo(spec);
    [
      d.row('%s (%s, objective %s)' % [spec.title, spec.service, std.format('%g%%', spec.target * 100)]),
      d.height(6, [[p.sli30d, 4], [p.budgetLeft, 4], p.budgetOverTime]),
      [p.burn, p.sli],
    ]
    for spec in specs
  ]);

  d.dashboard({
    uid: 'slo-overview',
    title: 'SLO / Overview',
    tags: ['slo'],
    description: 'Are we meeting our service level objectives? For each SLO: the SLI over 30 days against its '
                 + 'objective, the error budget left and how fast it burns (multi-window, multi-burn-rate alerts). '
                 + 'Reads Prometheus (the Data source variable); where its raw retention is under 7 days (dev) the '
                 + 'start of the range is empty: Capacity / Capacity & trends has the budgets for a year.',
    refresh: '1m',
    time: 'now-7d',
    panels: d.layout(lines),
  })
