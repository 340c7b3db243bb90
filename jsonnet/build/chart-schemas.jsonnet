// values.schema.json of the prometheus subchart. Generated, because it enumerates every alert of
// the mixins with its threshold parameters: an override of an unknown alert, or a string where a
// number belongs, is rejected by helm itself with the path of the key.
local main = import '../main.libsonnet';

local str = { type: 'string' };
local duration = { type: 'string', pattern: '^([0-9]+(ms|s|m|h|d|w|y))+$' };
local stringMap = { type: 'object', additionalProperties: str };
local obj(props, required=[]) = {
  type: 'object',
  additionalProperties: false,
  properties: props,
} + (if required == [] then {} else { required: required });

local alertOverride(alert) = obj({
  enabled: { type: 'boolean', description: 'false drops the alert from the rendered rules' },
  'for': duration,
  severity: { type: 'string', enum: ['critical', 'warning', 'info'] },
  priority: { type: 'string', enum: ['P1', 'P2', 'P3', 'P4'] },
  labels: stringMap,
  annotations: stringMap,
  params: obj({
    [p]: { type: 'number', description: 'default %s' % alert.params[p] }
    for p in std.objectFields(alert.params)
  }),
}) + { description: '%s (%s, default severity %s, for %s)' % [alert.name, alert.area, alert.severity, alert['for']] };

{
  'charts/creativeflow-monitoring/charts/prometheus/values.schema.json': {
    '$schema': 'https://json-schema.org/draft-07/schema#',
    title: 'prometheus subchart values',
  } + obj({
    global: { type: 'object' },
    enabled: { type: 'boolean' },
    image: obj({ repository: str, tag: str { minLength: 1, not: { const: 'latest' } }, pullPolicy: { enum: ['Always', 'IfNotPresent', 'Never'] } }),
    replicas: { type: 'integer', minimum: 1 },
    scrapeInterval: duration,
    scrapeTimeout: duration,
    evaluationInterval: duration,
    externalLabels: stringMap,
    retention: obj({ time: duration, size: { type: 'string', pattern: '^[0-9]+(B|KB|MB|GB|TB|PB|EB)$' } }),
    persistence: obj({ enabled: { type: 'boolean' }, size: str, storageClassName: str }),
    resources: { type: 'object' },
    alerting: obj({ enabled: { type: 'boolean' }, port: { type: 'integer' } }),
    scrapeConfigs: obj({
      stack: obj({ enabled: { type: 'boolean' } }),
      applicationServices: obj({ enabled: { type: 'boolean' }, namespaces: { type: 'array', items: str } }),
    }),
    alerts: obj({ [a.name]: alertOverride(a) for a in main.alerts }),
  }),
}
