// Entry point of `cfmon generate` for Grafana dashboards: every mixin's grafanaDashboards, as
// charts/creativeflow-monitoring/charts/grafana/files/dashboards/<folder>/<uid>.json. The grafana
// subchart turns each file into a ConfigMap and each folder into a Grafana folder
// (templates/_helpers.tpl, grafana.dashboardFiles). The CLI adds a `$comment` generated header.
local main = import '../main.libsonnet';

local files = 'charts/creativeflow-monitoring/charts/grafana/files/dashboards/';
local paths = std.objectFields(main.dashboards);
local uids = [main.dashboards[p].uid for p in paths];
local stem(path) = std.split(std.split(path, '/')[1], '.json')[0];

assert std.all([std.length(std.split(p, '/')) == 2 && std.endsWith(p, '.json') for p in paths])
       : 'dashboards go one folder deep: <folder>/<uid>.json, got %s' % [paths];
assert std.all([stem(p) == main.dashboards[p].uid for p in paths])
       : 'a dashboard file is named after its uid: %s'
         % [[p for p in paths if stem(p) != main.dashboards[p].uid]];
assert std.length(std.set(uids)) == std.length(uids)
       : 'duplicate dashboard uids: %s' % [std.set([u for u in uids if std.count(uids, u) > 1])];

{
  [files + p]: main.dashboards[p]
  for p in paths
}
+ {
  // The parameters the dashboards' threshold tokens name, with their defaults (the chart fills
  // the tokens from prometheus.alerts.<Alert>.params over these).
  'charts/creativeflow-monitoring/charts/grafana/files/dashboard-params.yaml': main.dashboardParams,
}
