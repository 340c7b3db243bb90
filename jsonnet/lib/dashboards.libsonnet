// Grafana dashboards without grafonnet: a dashboard, panel presets, targets, variables, threshold
// steps and a layout grid. Small on purpose; everything Grafana needs is spelled out here once.
//
// Usage (a mixin's dashboard file; mixins/overview/system-health-overview.libsonnet is a full example):
//
//   function(c)  // the mixin's _config
//   local d = (import '../../lib/dashboards.libsonnet')(c);
//   local s = d.selector(['service=~"$service"']);  // {environment="$environment", cluster="$cluster", service=~"$service"}
//
//   // 1. Queries, in one object: d.target(expr, legend). refIds and datasources are filled in.
//   local q = {
//     rps: d.target('sum by (service) (service:http_requests:rate5m%s)' % s, '{{service}}'),
//     raw: d.target('sum (rate(http_requests_total%s[$__rate_interval]))' % s, 'all'),  // raw counters: $__rate_interval
//   };
//   // 2. Panels: title, description (what good looks like), unit and targets are required.
//   local p = {
//     rps: d.timeseries('Requests', 'Good: steady, no drop to 0.', 'reqps', [q.rps]),
//     errors: d.stat('Error ratio', 'Good: below the alert line.', 'percentunit', [q.err],
//                    thresholds=d.above([c.errorRatioThreshold]), alerts=['ServiceErrorRatioHigh']),
//   };
//   // 3. Layout: rows of cells; a cell is a panel (widths shared equally) or [panel, width].
//   //    gridPos and unique ids are assigned; nobody writes x/y/id by hand.
//   d.dashboard({
//     uid: 'application-performance', title: 'Applications / Performance', tags: ['applications'],
//     description: '...', refresh: '30s',
//     variables: [d.variable('service', 'Service', 'service:http_requests:rate5m', multi=true)],
//     panels: d.layout([d.row('Traffic'), [p.rps, [p.errors, 6]], d.height(4, [p.a, p.b])]),
//   })
//
// The mixin exposes it as `grafanaDashboards+:: { 'application-performance.json': <dashboard> }`
// and names its Grafana folder with `dashboardFolder:: 'Applications'`; main.libsonnet collects
// every mixin's dashboards and build/dashboards.jsonnet writes them to the grafana subchart's
// files/dashboards/<folder>/<uid>.json.
//
// Loki dashboards: `datasource: 'loki'` in the dashboard's spec (the `datasource` variable and the
// environment/cluster values come from Loki), d.lokiTarget(logql), d.logs(...), d.lokiVariable(...).
//
// Conventions: the helpers refuse (at `cfmon generate`, naming the panel) a data panel without a
// description or unit, a rate()/increase() range other than $__rate_interval, a title that is not
// 'Area / Topic', a line wider than 24 columns. tests/test_dashboards.py checks the rest on the
// generated files: thresholds come from the mixin's `_config` (the values the alerts' params
// default to) and name the alerts they mirror in `alerts=[...]` (each becomes a runbook link on
// the panel); recorded series (the mixins' recording rules) instead of raw histogram_quantile.
local ds = {
  prometheus: { type: 'prometheus', uid: '${datasource}' },
  loki: { type: 'loki', uid: '${datasource}' },
};
local gridWidth = 24;
// Every dashboard's first variables, in this order; then the area's own.
local standardVariableNames = ['datasource', 'environment', 'cluster'];

// Panel types that show no numbers: no unit required.
local unitless = ['row', 'logs'];

// Built from the mixin's config (`function(c) local d = (import '../../lib/dashboards.libsonnet')(c); ...`
// in a dashboard file): the runbook links come from it.
function(config) {
  // Datasource references ({type, uid: '${datasource}'}) for targets and panels.
  ds:: ds,
  datasourceTypes:: ['prometheus', 'loki'],  // what the `datasource` variable may select
  standardVariableNames:: standardVariableNames,
  gridWidth:: gridWidth,  // Grafana's grid: every row is this many columns wide
  schemaVersion:: 41,  // Grafana 12 reads it as is (and migrates it in memory to its own latest)
  grafanaTag:: 'creativeflow',  // every dashboard has it; the dashboards' `links` menu lists them by it
  runbookLinkPrefix:: 'Runbook: ',  // a panel's link to the runbook of an alert it shows: <prefix><Alert>

  // ---- selectors ------------------------------------------------------------------------------

  // 'environment="$environment", cluster="$cluster"' plus extra matchers (no braces), to combine
  // with other matchers.
  matchers(extra=[]):: std.join(', ', ['environment="$environment"', 'cluster="$cluster"'] + extra),
  // '{environment="$environment", cluster="$cluster", <extra...>}'.
  selector(extra=[]):: '{' + $.matchers(extra) + '}',

  // ---- targets --------------------------------------------------------------------------------

  // One PromQL query. `legend` is the legendFormat ('{{service}}'); `instant` for tables and
  // single values that need no history; `format` 'table' or 'heatmap' where the panel needs it.
  target(expr, legend='', instant=false, format='time_series')::
    assert std.isString(expr) && expr != '' : 'd.target: expr must be a non-empty PromQL string';
    local ranges = std.set([
      std.split(std.split(part, ']')[0], '[')[std.length(std.split(std.split(part, ']')[0], '[')) - 1]
      for fn in ['rate(', 'increase(', 'irate(']
      for part in std.split(expr, fn)[1:]
    ]);
    assert std.all([r == '$__rate_interval' for r in ranges])
           : 'd.target: rate()/increase() over %s: use [$__rate_interval] (a recorded series needs no rate at all): %s'
             % [ranges, expr];
    {
      datasource: ds.prometheus,
      editorMode: 'code',
      expr: expr,
      legendFormat: legend,
      range: !instant,
      instant: instant,
      format: format,
    },

  // One LogQL query (log lines, or a metric query over logs for graphs).
  lokiTarget(expr, legend='', instant=false)::
    assert std.isString(expr) && expr != '' : 'd.lokiTarget: expr must be a non-empty LogQL string';
    {
      datasource: ds.loki,
      editorMode: 'code',
      expr: expr,
      legendFormat: legend,
      queryType: if instant then 'instant' else 'range',
    },

  // ---- thresholds -----------------------------------------------------------------------------

  // Threshold steps from numbers: base colour below the first value, then each [value, colour].
  steps(base, pairs):: {
    mode: 'absolute',
    steps: [{ color: base, value: null }] + [{ color: p[1], value: p[0] } for p in pairs],
  },
  // Higher is worse: green, then orange at the first value, red at the second (if any).
  above(values)::
    assert std.length(values) >= 1 && std.length(values) <= 2 && values == std.sort(values)
           : 'd.above: one or two ascending values, got %s' % [values];
    $.steps('green', std.mapWithIndex(
      function(i, v) [v, if std.length(values) == 1 || i == 1 then 'red' else 'orange'], values
    )),
  // Lower is worse: red below the first value, orange up to the second (if any), then green.
  below(values)::
    assert std.length(values) >= 1 && std.length(values) <= 2 && values == std.sort(values)
           : 'd.below: one or two ascending values, got %s' % [values];
    $.steps('red', std.mapWithIndex(
      function(i, v) [v, if i == std.length(values) - 1 then 'green' else 'orange'], values
    )),
  // No threshold: one colour.
  none:: $.steps('green', []),
  // A count of broken things (nodes not ready, partitions, alarms): green at 0, red from 1. The
  // alerts on them compare with 0 and have no parameter, so this is the only line there is.
  countBad:: $.steps('green', [[1, 'red']]),
  // An up/down gauge (1 up, 0 down): red below 1.
  upDown:: $.steps('red', [[1, 'green']]),

  // The token a threshold step holds for an alert's parameter: `${Alert.param}`, a JSON string
  // the chart replaces (quotes included) with the parameter's value from
  // prometheus.alerts.<Alert>.params, else its default. main.libsonnet puts it in every step of a
  // panel that equals a default of an alert the panel mirrors (`alerts=[...]`); the dashboard
  // mixins keep writing numbers.
  paramToken(alert, param):: '${%s.%s}' % [alert, param],

  // ---- panels ---------------------------------------------------------------------------------

  // Fields every data panel shares. `alerts`: the alerts the panel mirrors; each becomes a link to
  // its runbook. When they have parameters, tests/test_dashboards.py checks that every threshold
  // step is one of their defaults and that some step is (alerts without parameters fix no step).
  local base(type, title, description, unit, targets, thresholds, alerts) =
    assert std.isString(title) && title != '' : 'd.%s: a title is required' % type;
    assert std.isString(description) && std.length(description) >= 10
           : 'panel %s: a description saying what good looks like is required' % title;
    assert std.member(unitless, type) || (std.isString(unit) && unit != '')
           : 'panel %s: a unit is required (e.g. percentunit, s, reqps, bytes, short)' % title;
    assert std.isArray(targets) : 'panel %s: targets must be a list' % title;
    {
      type: type,
      title: title,
      description: description,
      datasource: if targets == [] then ds.prometheus else targets[0].datasource,
      targets: std.mapWithIndex(function(i, t) t { refId: std.char(65 + i) }, targets),
      fieldConfig: {
        defaults: {
          unit: unit,
          thresholds: if thresholds == null then $.none else thresholds,
          color: { mode: 'thresholds' },
          mappings: [],
        },
        overrides: [],
      },
      [if alerts != [] then 'links']: [
        { title: $.runbookLinkPrefix + a, url: '%s/%s.md' % [config.runbookBaseUrl, a], targetBlank: true }
        for a in alerts
      ],
    },

  local reduce(calc) = { calcs: [calc], fields: '', values: false },

  // Lines over time. `stack` stacks the series; `min`/`max` bound the axis; thresholds are drawn
  // as dashed lines (the alert lines).
  timeseries(title, description, unit, targets, thresholds=null, alerts=[], min=null, max=null, stack=false, legend='list')::
    base('timeseries', title, description, unit, targets, thresholds, alerts) {
      fieldConfig+: {
        defaults+: {
          color: { mode: 'palette-classic' },
          [if min != null then 'min']: min,
          [if max != null then 'max']: max,
          custom: {
            drawStyle: 'line',
            lineWidth: 1,
            fillOpacity: if stack then 30 else 10,
            showPoints: 'never',
            spanNulls: false,
            stacking: { mode: if stack then 'normal' else 'none', group: 'A' },
            thresholdsStyle: { mode: if thresholds == null then 'off' else 'dashed' },
          },
        },
      },
      options: {
        legend: { showLegend: true, displayMode: legend, placement: 'bottom', calcs: if legend == 'table' then ['mean', 'max', 'lastNotNull'] else [] },
        tooltip: { mode: 'multi', sort: 'desc' },
      },
    },

  // One number (the last value, or `calc`), coloured by its thresholds, with a sparkline.
  stat(title, description, unit, targets, thresholds=null, alerts=[], calc='lastNotNull', graph=true, decimals=null)::
    base('stat', title, description, unit, targets, thresholds, alerts) {
      fieldConfig+: { defaults+: { [if decimals != null then 'decimals']: decimals } },
      options: {
        reduceOptions: reduce(calc),
        colorMode: 'value',
        graphMode: if graph then 'area' else 'none',
        justifyMode: 'auto',
        orientation: 'auto',
        textMode: 'auto',
        wideLayout: true,
        showPercentChange: false,
      },
    },

  // Horizontal bars, one per series (e.g. per queue, per model): comparison at a glance.
  bargauge(title, description, unit, targets, thresholds=null, alerts=[], min=0, max=null, calc='lastNotNull')::
    base('bargauge', title, description, unit, targets, thresholds, alerts) {
      fieldConfig+: { defaults+: { min: min, [if max != null then 'max']: max } },
      options: {
        reduceOptions: reduce(calc),
        displayMode: 'gradient',
        orientation: 'horizontal',
        showUnfilled: true,
        valueMode: 'color',
        namePlacement: 'auto',
        sizing: 'auto',
      },
    },

  // A table of instant values, one row per series (targets should be instant, format table).
  table(title, description, unit, targets, thresholds=null, alerts=[], hide=['Time'])::
    base('table', title, description, unit, targets, thresholds, alerts) {
      fieldConfig+: { defaults+: { custom: { align: 'auto', cellOptions: { type: 'color-text' } } } },
      options: { showHeader: true, cellHeight: 'sm', footer: { show: false, reducer: ['sum'], fields: '' } },
      transformations: [
        { id: 'merge', options: {} },
        { id: 'organize', options: { excludeByName: { [h]: true for h in hide } } },
      ],
    },

  // Distribution over time from recorded `_bucket` rates (target format 'heatmap', legend '{{le}}').
  heatmap(title, description, unit, targets)::
    base('heatmap', title, description, unit, targets, null, []) {
      options: {
        calculate: false,
        cellGap: 1,
        color: { mode: 'scheme', scheme: 'Oranges', steps: 64, exponent: 0.5, fill: 'dark-orange', reverse: false },
        yAxis: { axisPlacement: 'left', unit: unit },
        rowsFrame: { layout: 'auto' },
        tooltip: { mode: 'single', yHistogram: true, showColorScale: false },
        legend: { show: true },
        exemplars: { color: 'rgba(255,0,255,0.7)' },
        filterValues: { le: 1e-9 },
      },
    },

  // Log lines (Loki).
  logs(title, description, targets)::
    base('logs', title, description, null, targets, null, []) {
      fieldConfig: { defaults: {}, overrides: [] },
      options: {
        showTime: true,
        wrapLogMessage: true,
        sortOrder: 'Descending',
        enableLogDetails: true,
        dedupStrategy: 'none',
        prettifyLogMessage: false,
        showCommonLabels: false,
        showLabels: false,
      },
    },

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
  upStat(title, description, targets, alerts=[]):: $.stat(title, description, 'short', targets, thresholds=$.upDown, alerts=alerts, graph=false) {
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

  // A full-width section header.
  row(title):: { type: 'row', title: title, collapsed: false, panels: [] },

  // ---- layout ---------------------------------------------------------------------------------

  // A line of cells with its own height (the default line height is layout()'s `height`).
  height(h, cells):: { line:: true, h: h, cells: cells },

  // Places panels on Grafana's 24-column grid, top to bottom, and numbers them 1, 2, 3...
  //   lines: a list of d.row(title) | [cell, ...] | d.height(h, [cell, ...])
  //   cell:  a panel (shares the width left by the cells with an explicit one) | [panel, width]
  // Returns the dashboard's `panels` list, each with gridPos and id.
  layout(lines, height=8)::
    local norm(line) =
      if std.isObject(line) && std.objectHasAll(line, 'line') then line
      else if std.isObject(line) && std.get(line, 'type') == 'row' then { row: line, h: 1, cells: [] }
      else if std.isArray(line) then { h: height, cells: line }
      else error 'd.layout: a line is d.row(...), a list of cells or d.height(h, cells); got %s' % [line];
    local cellOf(c) = if std.isArray(c) then { panel: c[0], w: c[1] } else { panel: c, w: null };
    local place(line, y) =
      local cells = [cellOf(c) for c in line.cells];
      local fixed = std.foldl(function(acc, c) acc + (if c.w == null then 0 else c.w), cells, 0);
      local auto = std.length([c for c in cells if c.w == null]);
      local share = if auto == 0 then 0 else std.floor((gridWidth - fixed) / auto);
      local autoIdx = [i for i in std.range(0, std.length(cells) - 1) if cells[i].w == null];
      // The last auto-width cell takes the remainder, so the line fills the grid.
      local widths = [
        if cells[i].w != null then cells[i].w
        else if i == autoIdx[std.length(autoIdx) - 1] then gridWidth - fixed - share * (auto - 1)
        else share
        for i in std.range(0, std.length(cells) - 1)
      ];
      local total = std.foldl(function(a, w) a + w, widths, 0);
      assert total <= gridWidth
             : 'd.layout: the cells of the line at y=%d (%s) are %d columns wide, more than %d'
               % [y, std.join(', ', [c.panel.title for c in cells]), total, gridWidth];
      assert std.all([w >= 1 for w in widths]) : 'd.layout: a cell at y=%d has no width left' % y;
      if std.objectHas(line, 'row') then [line.row { gridPos: { x: 0, y: y, w: gridWidth, h: 1 } }]
      else [
        cells[i].panel {
          gridPos: { x: std.foldl(function(a, w) a + w, widths[:i], 0), y: y, w: widths[i], h: line.h },
        }
        for i in std.range(0, std.length(cells) - 1)
      ];
    local placed = std.foldl(
      function(acc, line)
        local l = norm(line);
        { y: acc.y + l.h, panels: acc.panels + place(l, acc.y) },
      lines,
      { y: 0, panels: [] },
    ).panels;
    std.mapWithIndex(function(i, p) p { id: i + 1 }, placed),

  // ---- variables ------------------------------------------------------------------------------

  local promQuery(q) = {
    query: { qryType: 1, query: q, refId: 'PrometheusVariableQueryEditor-VariableQuery' },
    definition: q,
  },
  local lokiQuery(label, stream) = {
    query: { type: 1, label: label, stream: stream, refId: 'LokiVariableQueryEditor-VariableQuery' },
    definition: if stream == '' then 'label_values(%s)' % label else 'label_values(%s, %s)' % [stream, label],
  },
  local queryVariable(name, label, q, dsType, multi, includeAll) = {
    type: 'query',
    name: name,
    label: label,
    datasource: ds[dsType],
    refresh: 2,  // on time range change: values of a new deployment show up without a reload
    sort: 1,
    multi: multi,
    includeAll: includeAll,
    [if includeAll then 'allValue']: '.*',
    current: {},
    options: [],
    regex: '',
    hide: 0,
    skipUrlSync: false,
  } + q,

  // The three standard variables: datasource, environment, cluster (cluster chained on
  // environment). `metric`: a series every environment of the dashboard has (label_values source).
  standardVariables(dsType='prometheus', metric='up')::
    assert std.member($.datasourceTypes, dsType) : 'datasource %s: one of %s' % [dsType, $.datasourceTypes];
    local variables = self.standardVariableList(dsType, metric);
    assert [v.name for v in variables] == standardVariableNames;
    variables,
  standardVariableList(dsType, metric):: [
    {
      type: 'datasource',
      name: 'datasource',
      label: 'Data source',
      query: dsType,
      regex: '',
      current: {},
      options: [],
      refresh: 1,
      hide: 0,
      multi: false,
      includeAll: false,
      skipUrlSync: false,
    },
  ] + (
    if dsType == 'prometheus' then [
      queryVariable('environment', 'Environment', promQuery('label_values(%s, environment)' % metric), 'prometheus', false, false),
      queryVariable('cluster', 'Cluster', promQuery('label_values(%s{environment="$environment"}, cluster)' % metric), 'prometheus', false, false),
    ] else [
      queryVariable('environment', 'Environment', lokiQuery('environment', ''), 'loki', false, false),
      queryVariable('cluster', 'Cluster', lokiQuery('cluster', '{environment="$environment"}'), 'loki', false, false),
    ]
  ),

  // A dashboard's own variable: the values of label `labelName` (default: `name`) of `metric`
  // within the selected environment and cluster, narrowed by `extra` matchers (e.g. an earlier
  // variable: ['model_name=~"$model_name"']). Multi-value variables with All need `=~` matchers.
  variable(name, label, metric, labelName=null, extra=[], multi=true, includeAll=true)::
    queryVariable(
      name,
      label,
      promQuery('label_values(%s%s, %s)' % [metric, $.selector(extra), if labelName == null then name else labelName]),
      'prometheus',
      multi,
      includeAll,
    ),

  // The same for a Loki dashboard: values of a stream label.
  lokiVariable(name, label, labelName=null, extra=[], multi=true, includeAll=true)::
    queryVariable(name, label, lokiQuery(if labelName == null then name else labelName, $.selector(extra)), 'loki', multi, includeAll),

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

  // ---- dashboard ------------------------------------------------------------------------------

  // A dashboard from a spec object:
  //   uid          the file name stem (lowercase letters, digits, '-'; at most 40 characters)
  //   title        'Area / Topic'
  //   tags         the area's tags; 'creativeflow' is added (the links menu lists dashboards by it)
  //   description  who it is for and what question it answers
  //   panels       d.layout([...])
  //   variables    the dashboard's own variables, after datasource, environment and cluster
  //   datasource   'prometheus' (default) or 'loki': the type of the `datasource` variable
  //   variableMetric  series the environment/cluster values come from (default `up`)
  //   refresh      auto-refresh ('30s', '1m', '1h'); time: relative start ('now-6h')
  //   links        extra links ({title, url}) after the dashboards menu
  dashboard(spec)::
    local s = {
      tags: [],
      description: '',
      variables: [],
      datasource: 'prometheus',
      variableMetric: 'up',
      refresh: '1m',
      time: 'now-6h',
      links: [],
    } + spec;
    local uidChars = std.stringChars('abcdefghijklmnopqrstuvwxyz0123456789-');
    local titleParts = std.split(s.title, ' / ');
    local ids = [p.id for p in s.panels];
    assert std.all([std.member(uidChars, c) for c in std.stringChars(s.uid)]) && std.length(s.uid) <= 40
           : 'dashboard %s: uid must be lowercase letters, digits and "-", at most 40 characters' % s.uid;
    assert std.length(titleParts) == 2 && std.all([p != '' for p in titleParts])
           : 'dashboard %s: title must look like "Area / Topic", got %s' % [s.uid, s.title];
    assert s.description != '' : 'dashboard %s: a description is required' % s.uid;
    assert std.all([std.objectHas(p, 'gridPos') && std.objectHas(p, 'id') for p in s.panels])
           : 'dashboard %s: lay the panels out with d.layout([...])' % s.uid;
    assert std.length(std.set(ids)) == std.length(ids) : 'dashboard %s: duplicate panel ids' % s.uid;
    assert std.member(['prometheus', 'loki'], s.datasource)
           : 'dashboard %s: datasource must be prometheus or loki' % s.uid;
    {
      uid: s.uid,
      title: s.title,
      description: s.description,
      tags: std.set([$.grafanaTag] + s.tags),
      editable: false,  // provisioned from git: a change in the UI would be lost on the next sync
      graphTooltip: 1,  // shared crosshair: one time across every panel
      schemaVersion: $.schemaVersion,
      time: { from: s.time, to: 'now' },
      timepicker: {},
      timezone: 'browser',
      fiscalYearStartMonth: 0,
      liveNow: false,
      weekStart: '',
      refresh: s.refresh,
      links: [
        {
          title: 'CreativeFlow dashboards',
          type: 'dashboards',
          tags: [$.grafanaTag],
          asDropdown: true,
          includeVars: true,
          keepTime: true,
          targetBlank: false,
          icon: 'external link',
          tooltip: '',
          url: '',
        },
      ] + [
        { title: l.title, type: 'link', url: l.url, icon: 'doc', tags: [], asDropdown: false, includeVars: false, keepTime: false, targetBlank: true, tooltip: '' }
        for l in s.links
      ],
      annotations: {
        list: [{
          builtIn: 1,
          datasource: { type: 'grafana', uid: '-- Grafana --' },
          enable: true,
          hide: true,
          iconColor: 'rgba(0, 211, 255, 1)',
          name: 'Annotations & Alerts',
          type: 'dashboard',
        }],
      },
      templating: { list: $.standardVariables(s.datasource, s.variableMetric) + s.variables },
      panels: s.panels,
    },
}
