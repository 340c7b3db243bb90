// Composes the mixins. Adding an area is one line in `mixins` below; its rules become
// files/rules/<area>.yaml in the prometheus subchart.
local links = import 'lib/alert-links.libsonnet';
local d = (import 'lib/dashboards.libsonnet')(import 'lib/config.libsonnet');
local contract = import 'lib/metrics.libsonnet';

local mixins = {
  applications: import 'mixins/applications/mixin.libsonnet',
  gpu: import 'mixins/gpu/mixin.libsonnet',
  'ai-models': import 'mixins/ai-models/mixin.libsonnet',
  business: import 'mixins/business/mixin.libsonnet',
  slo: import 'mixins/slo/mixin.libsonnet',
  kubernetes: import 'mixins/kubernetes/mixin.libsonnet',
  // Self-managed clusters only: the chart ships this rule file with scrapeConfigs.kubernetes.controlPlane.
  'kubernetes-control-plane': import 'mixins/kubernetes/control-plane.libsonnet',
  logs: import 'mixins/logs/mixin.libsonnet',
  platform: import 'mixins/platform/mixin.libsonnet',
  postgres: import 'mixins/postgres/mixin.libsonnet',
  redis: import 'mixins/redis/mixin.libsonnet',
  rabbitmq: import 'mixins/rabbitmq/mixin.libsonnet',
  minio: import 'mixins/minio/mixin.libsonnet',
  edge: import 'mixins/edge/mixin.libsonnet',
  stack: import 'mixins/stack/mixin.libsonnet',
  overview: import 'mixins/overview/mixin.libsonnet',
  longterm: import 'mixins/longterm/mixin.libsonnet',
};

local areas = std.objectFields(mixins);

// A mixin may have no recording rules or no alerts.
local groupsOf(area, field) = std.get(std.get(mixins[area], field, {}), 'groups', []);

// Alerting rules of one area, flattened out of their groups.
local alertRules(area) = [
  r
  for g in groupsOf(area, 'prometheusAlerts')
  for r in g.rules
];

// `params` is Jsonnet-side metadata, not a Prometheus field: keep it out of the rule files even
// if a mixin declared it visible.
local stripParams(rule) = { [k]: rule[k] for k in std.objectFields(rule) if k != 'params' };
local paramsOf(rule) = if std.objectHasAll(rule, 'params') then rule.params else {};

local allAlerts = [
  { area: area, rule: r }
  for area in areas
  for r in alertRules(area)
];
local alertNames = [a.rule.alert for a in allAlerts];

assert std.length(std.set(alertNames)) == std.length(alertNames)
       : 'duplicate alert names: %s'
         % [std.set([n for n in alertNames if std.count(alertNames, n) > 1])];

// Every alert's dashboard link (lib/alert-links.libsonnet): the panel that names it in its
// `alerts`, else its area's default dashboard (`defaultDashboard::` or the area's only one).
local dashboardLinks = links.links(
  allAlerts,
  [
    { area: area, dashboard: mixins[area].grafanaDashboards[file] }
    for area in areas
    for file in std.objectFields(std.get(mixins[area], 'grafanaDashboards', {}))
  ],
  { [area]: std.get(mixins[area], 'defaultDashboard', null) for area in areas },
);
// A dashboard_url the mixin wrote itself wins.
local withDashboardUrl(rule) =
  if std.objectHas(rule, 'alert')
  then rule { annotations: { dashboard_url: dashboardLinks[rule.alert].url } + super.annotations }
  else rule;

// Threshold lines drawn where the alert fires: a panel that mirrors alerts (`alerts=[...]`, its
// runbook links) draws each threshold step that equals one of their parameter defaults as that
// parameter's token (d.paramToken), which the chart fills from prometheus.alerts.<Alert>.params
// like the rule itself, so a values override moves the line with the alert. When two parameters
// share the value, the first alert of the panel's list, then the first parameter by name, wins.
local allParams = { [a.rule.alert]: paramsOf(a.rule) for a in allAlerts };
local prefix = std.length(d.runbookLinkPrefix);
local panelAlerts(panel) = [
  std.substr(l.title, prefix, std.length(l.title) - prefix)
  for l in std.get(panel, 'links', [])
  if std.startsWith(l.title, d.runbookLinkPrefix)
];
local tokenFor(alerts, value) =
  local hits = [
    d.paramToken(a, p)
    for a in alerts
    for p in std.objectFields(std.get(allParams, a, {}))
    if allParams[a][p] == value
  ];
  if hits == [] then value else hits[0];
local withTokens(panel) =
  local alerts = panelAlerts(panel);
  local thresholds = std.get(std.get(std.get(panel, 'fieldConfig', {}), 'defaults', {}), 'thresholds', null);
  panel
  + (if std.objectHas(panel, 'panels') then { panels: [withTokens(p) for p in panel.panels] } else {})
  + (
    if alerts == [] || thresholds == null then {}
    else {
      fieldConfig+: { defaults+: { thresholds+: {
        steps: [
          s + (if s.value == null then {} else { value: tokenFor(alerts, s.value) })
          for s in thresholds.steps
        ],
      } } },
    }
  );
local thresholdSteps(panel) =
  std.get(std.get(std.get(std.get(panel, 'fieldConfig', {}), 'defaults', {}), 'thresholds', {}), 'steps', []);
local allPanels(panels) = std.flattenArrays([[p] + allPanels(std.get(p, 'panels', [])) for p in panels]);
local tokenized(dashboard) = dashboard { panels: [withTokens(p) for p in super.panels] };

{
  // One rule file per area that has rules (a dashboards-only mixin has none): recording groups
  // first, then alert groups.
  ruleFiles: {
    [area + '.yaml']: {
      groups:
        groupsOf(area, 'prometheusRules')
        + [
          g { rules: [withDashboardUrl(stripParams(r)) for r in g.rules] }
          for g in groupsOf(area, 'prometheusAlerts')
        ],
    }
    for area in areas
    if groupsOf(area, 'prometheusRules') + groupsOf(area, 'prometheusAlerts') != []
  },

  // Grafana dashboards, { '<folder>/<uid>.json': dashboard }: each mixin's grafanaDashboards in the
  // folder its `dashboardFolder` names (default: the area). build/dashboards.jsonnet writes them.
  dashboards: {
    [std.get(mixins[area], 'dashboardFolder', area) + '/' + file]: tokenized(mixins[area].grafanaDashboards[file])
    for area in areas
    for file in std.objectFields(std.get(mixins[area], 'grafanaDashboards', {}))
  },

  // The long-term tiers (mixins/longterm): the remote write's keep regex and, per tier, its
  // evaluation interval and record count (read by the chart).
  longterm: {
    keepRegex: mixins.longterm.tierRegex,
    tiers: mixins.longterm.tierSummary,
  },
  // The parameters the dashboards draw, with their defaults (the grafana subchart's
  // files/dashboard-params.yaml): what the chart fills the dashboards' tokens with.
  dashboardParams:
    local pairs = [
      std.split(std.substr(t, 2, std.length(t) - 3), '.')
      for t in std.set([
        step.value
        for path in std.objectFields($.dashboards)
        for panel in allPanels($.dashboards[path].panels)
        for step in thresholdSteps(panel)
        if std.isString(step.value)
      ])
    ];
    {
      [alert]: { [pair[1]]: allParams[alert][pair[1]] for pair in pairs if pair[0] == alert }
      for alert in std.set([pair[0] for pair in pairs])
    },

  // Declared threshold parameters and their defaults, per alert (read by the chart).
  alertParams: {
    [a.rule.alert]: paramsOf(a.rule)
    for a in allAlerts
  },

  // One entry per alert, for docs and values-schema generation.
  alerts: [
    {
      name: a.rule.alert,
      area: a.area,
      severity: a.rule.labels.severity,
      priority: a.rule.labels.priority,
      'for': std.get(a.rule, 'for', null),
      params: paramsOf(a.rule),
    }
    for a in allAlerts
  ],

  // Every metric a rule may read: the application contract (lib/metrics.libsonnet) and the exporter
  // metrics the mixins declare in `exporterMetrics` ({exporter: [series names]}).
  metrics: {
    application: contract.application,
    exporters: {
      [exporter]: std.set(std.flattenArrays([
        std.get(std.get(mixins[area], 'exporterMetrics', {}), exporter, [])
        for area in areas
      ]))
      for exporter in std.set(std.flattenArrays([
        std.objectFields(std.get(mixins[area], 'exporterMetrics', {}))
        for area in areas
      ]))
    },
    // Flat list of the series names rules may select (recording rules are added by the check).
    seriesNames: std.set(
      std.flattenArrays([contract.seriesNames(n, contract.application[n]) for n in std.objectFields(contract.application)])
      + std.flattenArrays([self.exporters[e] for e in std.objectFields(self.exporters)])
    ),
  },
}
