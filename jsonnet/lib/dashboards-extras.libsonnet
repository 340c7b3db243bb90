// Additions to dashboards.libsonnet for the infrastructure, stack and log dashboards, kept in their
// own file so the shared library's functions stay as they are: a free-text variable, bars,
// fixed colours per log level, up/down stats, and links to neighbouring dashboards.
//
//   local d = import '../../lib/dashboards.libsonnet';
//   local x = import '../../lib/dashboards-extras.libsonnet';
//   x.withNeighbours(d.dashboard({...}), [x.neighbour('kubernetes-workloads', 'Kubernetes workloads', ['namespace'])])
local d = import 'dashboards.libsonnet';

{
  // ---- variables ------------------------------------------------------------------------------

  // A free-text box (Grafana `textbox`), e.g. a search used as a line filter `|~ "(?i)$search"`:
  // the empty default matches every line.
  textbox(name, label, default=''):: {
    type: 'textbox',
    name: name,
    label: label,
    query: default,
    current: { text: default, value: default },
    options: [],
    hide: 0,
    skipUrlSync: false,
  },

  // ---- thresholds -----------------------------------------------------------------------------

  // A count of broken things (nodes not ready, partitions, alarms): green at 0, red from 1. The
  // alerts on them compare with 0 and have no parameter, so this is the only line there is.
  countBad:: d.steps('green', [[1, 'red']]),
  // An up/down gauge (1 up, 0 down): red below 1.
  upDown:: d.steps('red', [[1, 'green']]),

  // ---- panel decorations ------------------------------------------------------------------------

  // A timeseries drawn as stacked bars: counts per interval (a log volume histogram).
  bars(panel):: panel {
    fieldConfig+: { defaults+: { custom+: { drawStyle: 'bars', fillOpacity: 80, lineWidth: 1, stacking: { mode: 'normal', group: 'A' } } } },
  },

  // The same colour for a log level on every log panel (series named by the level, '{{level}}').
  levelColours:: {
    debug: 'blue',
    info: 'green',
    warn: 'orange',
    'error': 'red',
    fatal: 'dark-red',
  },
  withLevelColours(panel):: panel {
    fieldConfig+: {
      overrides+: [
        {
          matcher: { id: 'byName', options: level },
          properties: [{ id: 'color', value: { mode: 'fixed', fixedColor: $.levelColours[level] } }],
        }
        for level in std.objectFields($.levelColours)
      ],
    },
  },

  // A 1/0 stat shown as UP/DOWN.
  upStat(title, description, targets, alerts=[]):: d.stat(title, description, 'short', targets, thresholds=$.upDown, alerts=alerts, graph=false) {
    fieldConfig+: {
      defaults+: {
        mappings: [{
          type: 'value',
          options: {
            '0': { text: 'DOWN', color: 'red', index: 0 },
            '1': { text: 'UP', color: 'green', index: 1 },
          },
        }],
      },
    },
  },

  // ---- links ----------------------------------------------------------------------------------

  // A link to a neighbouring dashboard by uid. It keeps the time range and passes environment,
  // cluster and the named variables (the target must define them, or Grafana ignores them); never
  // `datasource`, which would hand a Prometheus uid to a Loki dashboard.
  neighbour(uid, title, vars=[]):: {
    uid:: uid,
    title: title,
    type: 'link',
    url: '/d/%s?%s' % [uid, std.join('&', ['${%s:queryparam}' % v for v in ['environment', 'cluster'] + vars])],
    icon: 'dashboard',
    tags: [],
    asDropdown: false,
    includeVars: false,
    keepTime: true,
    targetBlank: false,
    tooltip: 'Open ' + title,
  },

  // The dashboard with links to its neighbours after the library's links (the dashboards menu).
  withNeighbours(dashboard, neighbours):: dashboard { links+: neighbours },
}
