// Where each alert links: its `dashboard_url`, computed from what the dashboards declare, so no
// link names a dashboard or a panel by hand (main.libsonnet adds it to every alert).
//
//   1. The panels whose `alerts=[...]` name the alert (dashboards.libsonnet stores each name as a
//      runbook link on the panel). When several do, the first of: dashboards of the alert's own
//      area before the others, graphs before single values (stat, gauge: a graph shows the
//      history that led to the alert), then by dashboard uid and panel id.
//   2. Else the area's default dashboard, without a panel: the mixin's `defaultDashboard::
//      '<uid>'`, or its only dashboard. An alert with neither fails `cfmon generate`.
//
// The query string selects the alert's environment and cluster and, for every other query
// variable of the dashboard, the alert's value of the label the variable lists (its name, or the
// label of its label_values()): a static label of the rule is written here, a label of the
// expression's result is filled by Prometheus when the alert fires (and left out when the alert
// has no such label, so the dashboard keeps its default).
//
// Jsonnet is environment-agnostic: the URL starts with the reserved token ${grafanaUrl}, which the
// prometheus subchart replaces with global.grafanaUrl (never an alert parameter).
local config = import 'config.libsonnet';

local unreserved = std.stringChars('ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~');
// Panel types that show one number: a graph of the same series is the better landing place.
local singleValue = ['stat', 'gauge'];
local runbookPrefix = config.runbookBaseUrl + '/';

{
  // The reserved token at the start of every dashboard_url.
  grafanaUrlToken:: '${grafanaUrl}',

  // Percent-encoding of a query value (RFC 3986: everything but the unreserved characters).
  urlEncode(s):: std.join('', [
    if std.member(unreserved, c) then c else std.join('', ['%%%02X' % b for b in std.encodeUTF8(c)])
    for c in std.stringChars(s)
  ]),

  // Every panel of a dashboard, the panels of collapsed rows included.
  panels(dashboard):: std.flattenArrays([
    [p] + std.get(p, 'panels', [])
    for p in std.get(dashboard, 'panels', [])
  ]),

  // The alerts a panel mirrors: the names behind its runbook links.
  panelAlerts(panel):: [
    std.substr(l.url, std.length(runbookPrefix), std.length(l.url) - std.length(runbookPrefix) - 3)
    for l in std.get(panel, 'links', [])
    if std.startsWith(l.url, runbookPrefix) && std.endsWith(l.url, '.md')
  ],

  // The label a query variable lists the values of: `label_values(<series>, <label>)` (Prometheus)
  // or the `label` of a Loki label query. Usually the variable's name, not always (the GPU
  // dashboard's `node` lists `Hostname`).
  variableLabel(v)::
    local q = if std.isObject(v.query) then std.get(v.query, 'query', '') else v.query;
    if std.isObject(v.query) && std.objectHas(v.query, 'label') then v.query.label
    else if std.startsWith(q, 'label_values(') && std.endsWith(q, ')') then
      local args = std.split(std.substr(q, 13, std.length(q) - 14), ',');
      std.stripChars(args[std.length(args) - 1], ' ')
    else v.name,

  // [{ name, label }] of a dashboard's query variables besides environment and cluster.
  labelVariables(dashboard):: [
    { name: v.name, label: $.variableLabel(v) }
    for v in std.get(std.get(dashboard, 'templating', {}), 'list', [])
    if v.type == 'query' && !std.member(['environment', 'cluster'], v.name)
  ],

  // The URL of one dashboard (and panel, or null) for one alerting rule (its static labels).
  url(dashboard, panelId, rule)::
    local static = std.get(rule, 'labels', {});
    local isStatic(name) = std.objectHas(static, name) && std.length(std.findSubstr('{{', static[name])) == 0;
    '%s/d/%s?%s' % [$.grafanaUrlToken, dashboard.uid, std.join('', [
      // Watchdog-like alerts (vector(1)) carry no labels: Prometheus' external labels say where.
      'var-environment={{ or $labels.environment $externalLabels.environment | urlquery }}',
      '&var-cluster={{ or $labels.cluster $externalLabels.cluster | urlquery }}',
    ] + [
      if isStatic(v.label) then '&var-%s=%s' % [v.name, $.urlEncode(static[v.label])]
      else '{{ with $labels.%s }}&var-%s={{ . | urlquery }}{{ end }}' % [v.label, v.name]
      for v in $.labelVariables(dashboard)
    ] + (if panelId == null then [] else ['&viewPanel=%d' % panelId]))],

  // { alert name: { uid, panel (or null), url } } for every alert.
  //   alerts       [{ area, rule }]: every alerting rule with the area of its mixin
  //   dashboards   [{ area, dashboard }]: every dashboard with the area of its mixin
  //   defaults     { area: uid or null }: the mixins' declared defaultDashboard
  links(alerts, dashboards, defaults)::
    local byUid = { [d.dashboard.uid]: d for d in dashboards };
    local hits = [
      { alert: a, area: d.area, dashboard: d.dashboard, panel: p }
      for d in dashboards
      for p in $.panels(d.dashboard)
      for a in std.set($.panelAlerts(p))
    ];
    local rank(alertArea, h) = std.join('/', [
      if h.area == alertArea then '0' else '1',
      if std.member(singleValue, h.panel.type) then '1' else '0',
      h.dashboard.uid,
      '%06d' % h.panel.id,
    ]);
    local ownUids(area) = std.sort([d.dashboard.uid for d in dashboards if d.area == area]);
    local fallback(area) =
      local declared = std.get(defaults, area, null);
      if declared != null then declared
      else if std.length(ownUids(area)) == 1 then ownUids(area)[0]
      else null;
    local declaredUnknown = [
      '%s: %s' % [area, defaults[area]]
      for area in std.objectFields(defaults)
      if defaults[area] != null && !std.objectHas(byUid, defaults[area])
    ];
    assert declaredUnknown == []
           : 'defaultDashboard names a dashboard uid that no mixin ships (area: uid): %s' % [declaredUnknown];
    {
      [a.rule.alert]:
        local mine = std.sort([h for h in hits if h.alert == a.rule.alert], function(h) rank(a.area, h));
        local uid = if mine != [] then mine[0].dashboard.uid else fallback(a.area);
        local panel = if mine != [] then mine[0].panel.id else null;
        assert uid != null
               : ('alert %s has no dashboard: no panel names it in alerts=[...] and area %s has %d dashboards %s. '
                  + "Add alerts=['%s'] to the panel that shows it, or declare defaultDashboard:: '<uid>' "
                  + 'in jsonnet/mixins/%s/mixin.libsonnet.')
                 % [a.rule.alert, a.area, std.length(ownUids(a.area)), ownUids(a.area), a.rule.alert, a.area];
        { uid: uid, panel: panel, url: $.url(byUid[uid].dashboard, panel, a.rule) }
      for a in alerts
    },
}
