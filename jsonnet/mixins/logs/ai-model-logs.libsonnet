// Logs / AI models (INT-007): the logs of the custom AI model pods in Loki. The
// log agent labels their streams model_name and model_version (other pods have neither) and keeps
// each line's event type as structured metadata (model_event). Variables: model_name,
// model_version, pod, log_level, and a free-text search. Thresholds are the logs mixin's `_config`.

function(c)
  local d = (import '../../lib/dashboards.libsonnet')(c);
  local logPanels = (import 'log-panels.libsonnet')(c);
  local matchers = ['model_name=~"$model_name"', 'model_version=~"$model_version"', 'pod=~"$pod"'];
  local l = logPanels.new(
    matchers,
    groupBy='model_name, model_version',
    groupName='model version',
    groupLegend='{{model_name}} {{model_version}}',
    alert='CustomAIModelErrorLogBurst',
    threshold=c.modelErrorLogBurstRatioThreshold,
  );
  local p = l.panels;

  local events = d.lokiTarget(
    'sum by (model_event) (count_over_time(%s%s | model_event != "" [$__interval]))'
    % [d.selector(matchers + ['level=~"$log_level"']), logPanels.search],
    '{{model_event}}'
  );
  local modelEvents = d.bars(d.timeseries(
    'Model events',
    'Lines per interval by the event type the model logs (model_event: inference started, completed, failed...). Good: failures a small share of completions.',
    'short',
    [events],
    min=0,
    stack=true,
  ));

  d.withNeighbours(
    d.dashboard({
      uid: 'ai-model-logs',
      title: 'Logs / AI models',
      tags: ['logs', 'ai', 'loki'],
      description: 'What are the custom AI models logging? Log volume per level, errors and their most frequent '
                   + 'messages, model events and the log stream of the models, versions and pods picked with the '
                   + 'variables (Loki). The error share is computed like CustomAIModelErrorLogBurst; its dashed line '
                   + 'is the alert threshold (Jsonnet default; an environment may override it in Helm values).',
      datasource: 'loki',
      time: 'now-1h',
      variables: [
        // `.+` for All: only streams that have a model name (the model pods').
        d.lokiVariable('model_name', 'Model') { allValue: '.+' },
        d.lokiVariable('model_version', 'Version', extra=['model_name=~"$model_name"']),
        d.lokiVariable('pod', 'Pod', extra=['model_name=~"$model_name"', 'model_version=~"$model_version"']),
        logPanels.levelVariable(['model_name=~"$model_name"']),
        logPanels.searchVariable,
      ],
      panels: d.layout([
        d.row('Volume and errors'),
        [[p.lines, 4], [p.errorLines, 4], p.volume, [p.byLevel, 6]],
        [p.errorShare, p.errorsByGroup, modelEvents],
        [[p.topErrors, 24]],
        d.row('Log stream'),
        d.height(16, [p.stream]),
      ]),
    }),
    [
      d.neighbour('custom-ai-models', 'Custom AI models (metrics)', ['model_name', 'model_version']),
      d.neighbour('gpus', 'GPUs'),
      d.neighbour('loki-log-agents', 'Loki and log agents'),
    ],
  )
