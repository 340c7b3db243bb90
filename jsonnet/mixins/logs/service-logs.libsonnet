// Logs / Services: the logs of every service's pods in Loki, the same panels as the AI model logs
// per namespace, app and pod, plus the lines that carry a trace. traceID is structured metadata
// (not a label): `| traceID != ""` keeps traced lines and the `trace_id` box filters on it; the
// Loki datasource's derived field turns the id into a link to the tracing backend. Thresholds are
// the logs mixin's `_config`.

function(c)
  local d = (import '../../lib/dashboards.libsonnet')(c);
  local logPanels = (import 'log-panels.libsonnet')(c);
  local matchers = ['namespace=~"$namespace"', 'app=~"$app"', 'pod=~"$pod"'];
  // Empty box: `.*` keeps every line, traced or not.
  local traceFilter = ' | traceID=~"(?i)$trace_id.*"';
  local l = logPanels.new(
    matchers,
    groupBy='namespace, app',
    groupName='app',
    groupLegend='{{namespace}}/{{app}}',
    alert='ServiceErrorLogRatioHigh',
    threshold=c.serviceErrorLogRatioThreshold,
    // ServiceErrorLogRatioHigh counts application logs only (AI models have their own alert).
    ratioMatchers=['model_name=""'],
    filters=traceFilter,
  );
  local p = l.panels;

  local traced = d.logs(
    'Lines with a trace',
    'Lines of the selected streams that carry a trace ID; open one and follow its TraceID link to the whole request. Good: errors here lead straight to the failing span.',
    [d.lokiTarget('%s%s%s | traceID != ""' % [d.selector(matchers + ['level=~"$log_level"']), logPanels.search, traceFilter])],
  );

  d.withNeighbours(
    d.dashboard({
      uid: 'service-logs',
      title: 'Logs / Services',
      tags: ['logs', 'loki', 'applications'],
      description: 'What is a service logging? Log volume per level, errors and their most frequent messages, and the '
                   + 'log stream of the namespaces, apps and pods picked with the variables (Loki), with links from '
                   + 'trace IDs to traces. The error share is computed like ServiceErrorLogRatioHigh; its dashed line '
                   + 'is the alert threshold (Jsonnet default; an environment may override it in Helm values).',
      datasource: 'loki',
      time: 'now-1h',
      variables: [
        // `.+` for All: pod streams only (node journal streams have no namespace).
        d.lokiVariable('namespace', 'Namespace') { allValue: '.+' },
        d.lokiVariable('app', 'App', extra=['namespace=~"$namespace"']),
        d.lokiVariable('pod', 'Pod', extra=['namespace=~"$namespace"', 'app=~"$app"']),
        logPanels.levelVariable(['namespace=~"$namespace"']),
        logPanels.searchVariable,
        d.textbox('trace_id', 'Trace ID'),
      ],
      panels: d.layout([
        d.row('Volume and errors'),
        [[p.lines, 4], [p.errorLines, 4], p.volume, [p.byLevel, 6]],
        [p.errorShare, p.errorsByGroup],
        [[p.topErrors, 24]],
        d.row('Log stream'),
        d.height(16, [p.stream]),
        d.height(10, [traced]),
      ]),
    }),
    [
      d.neighbour('kubernetes-workloads', 'Kubernetes workloads', ['namespace']),
      d.neighbour('application-performance', 'Applications / Performance'),
      d.neighbour('loki-log-agents', 'Loki and log agents'),
    ],
  )
