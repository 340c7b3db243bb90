// Small helpers for Prometheus rules, shared by every mixin.
//
// Jsonnet stays environment-agnostic: an alert threshold is emitted as a token ('${name}') and
// its default is declared next to the alert in `params`. The Helm chart replaces every token in
// the rule's strings (expr and annotations) with prometheus.alerts.<Alert>.params.<name>, or the
// default. The helpers check the naming rules here, so a bad rule fails `cfmon generate` with a
// message instead of surfacing later in a rendered manifest.
local severities = ['critical', 'warning', 'info'];
local priorities = ['P1', 'P2', 'P3', 'P4'];
local alnum = std.stringChars('ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789');
local kebab = std.stringChars('abcdefghijklmnopqrstuvwxyz0123456789-');

// Built from a mixin's config (`local rules = (import '../../lib/rules.libsonnet')(c)`, inside the
// mixin object after `local c = $._config`): the aggregation labels and the runbook base URL come
// from it, so a mixin's `_config+::` override reaches every rule the helpers build.
function(config) {
  // `by (cluster, environment, <extra...>)`: the grouping every aggregation uses.
  by(extra=[]):: 'by (' + std.join(', ', config.aggregationLabels + extra) + ')',
  // `on (cluster, environment, <extra...>)`: the matching of every binary operation between them.
  on(extra=[]):: 'on (' + std.join(', ', config.aggregationLabels + extra) + ')',

  // A declared threshold parameter, e.g. `expr: 'x > ' + rules.param('threshold')`.
  param(name):: '${' + name + '}',

  // Names of the parameter tokens used in a string (sorted, unique).
  paramsIn(s):: std.set([
    std.split(part, '}')[0]
    for part in std.split(s, '${')[1:]
  ]),

  // One recording rule; names follow level:metric:operations.
  record(name, expr, labels={})::
    assert std.length(std.split(name, ':')) == 3
           : 'recording rule %s: name must be level:metric:operations' % name;
    { record: name, expr: expr }
    + (if labels != {} then { labels: labels } else {}),

  // One alerting rule from a spec object (an object because `for` is a Jsonnet keyword):
  //   name         CamelCase alert name; also names its runbook docs/runbooks/<name>.md
  //   expr         PromQL; may contain param() tokens, each declared in `params`
  //   for          pending duration, e.g. '5m'
  //   severity     critical | warning | info
  //   priority     P1..P4
  //   labels       extra labels; must include `service` or `component`. `symptom` (kebab-case, the
  //                pair's common name stem, e.g. node-cpu-usage) joins the alerts that watch one
  //                measure at two thresholds: Alertmanager's inhibition `critical-silences-warning-
  //                of-its-symptom` silences the warning while the critical of the same symptom fires
  //                on the same target (cluster, instance, mountpoint, queue, ...: the labels both
  //                expressions keep). Give it to every alert of the pair, and only to such pairs.
  //   summary      static text ending with a period (no templating: it is the notification title)
  //   description  templated text ({{ $labels.x }}, {{ $value }}); may contain param() tokens
  //   params       { paramName: defaultNumber }; kept as a hidden field because it is not part of
  //                the Prometheus rule (main.libsonnet collects it into alert-params.yaml)
  //   annotations  optional extra annotations (dashboard_url is added by main.libsonnet)
  alert(spec)::
    local s = { labels: {}, annotations: {}, params: {} } + spec;
    local where = 'alert %s' % s.name;
    local used = $.paramsIn(s.expr + s.description);
    local chars = std.stringChars(s.name);
    {
      assert std.member(std.stringChars('ABCDEFGHIJKLMNOPQRSTUVWXYZ'), chars[0])
             && std.all([std.member(alnum, c) for c in chars])
             : '%s: name must be CamelCase' % where,
      assert std.member(severities, s.severity)
             : '%s: severity must be one of %s' % [where, severities],
      assert std.member(priorities, s.priority)
             : '%s: priority must be one of %s' % [where, priorities],
      assert std.objectHas(s.labels, 'service') || std.objectHas(s.labels, 'component')
             : '%s: labels must include service or component' % where,
      assert !std.objectHas(s.labels, 'symptom')
             || std.all([std.member(kebab, c) for c in std.stringChars(s.labels.symptom)])
             : '%s: the symptom label must be kebab-case (e.g. node-cpu-usage)' % where,
      assert std.endsWith(s.summary, '.') && std.length(std.findSubstr('{{', s.summary)) == 0
             : '%s: summary must be static text ending with a period' % where,
      assert std.length(std.findSubstr('${', s.summary)) == 0
             : '%s: summary must not contain parameters' % where,
      assert used == std.objectFields(s.params)
             : '%s: parameters used %s but declared %s' % [where, used, std.objectFields(s.params)],
      assert std.all([std.isNumber(s.params[p]) for p in std.objectFields(s.params)])
             : '%s: parameter defaults must be numbers' % where,
      // ${grafanaUrl} starts every dashboard_url (lib/alert-links.libsonnet); the chart fills it
      // from global.grafanaUrl, so no alert may declare a parameter of that name.
      assert !std.objectHas(s.params, 'grafanaUrl')
             : '%s: grafanaUrl is reserved (the Grafana base URL of dashboard_url); name the parameter differently' % where,

      alert: s.name,
      expr: s.expr,
      'for': s['for'],
      labels: s.labels { severity: s.severity, priority: s.priority },
      annotations: {
        summary: s.summary,
        description: s.description,
        runbook_url: config.runbookBaseUrl + '/' + s.name + '.md',
      } + s.annotations,
      params:: s.params,
    },

  // One rule group; `interval` only when it differs from the global evaluation interval. A group
  // of recording rules alone is evaluated every `config.recordingInterval` unless it gives its own.
  group(name, rules, interval=null)::
    local recording = std.all([std.objectHas(r, 'record') for r in rules]);
    local every = if interval == null && recording then config.recordingInterval else interval;
    { name: name, rules: rules }
    + (if every != null then { interval: every } else {}),
}
