// values.schema.json of the prometheus subchart. Generated from the same Jsonnet as the rules.
//
// An alert override (prometheus.alerts.<Alert>) has one shape for every alert: helm rejects a
// wrong type (a string threshold) or an unknown key with the path of the key. Which alerts and
// which parameters exist is checked by the chart itself (prometheus.checkAlertOverrides, against
// files/alert-params.yaml), which names the alert's parameters in its message. Enumerating them
// here instead took one subschema per alert and parameter (400 KB), which helm compiles on every
// render: about 5 % of `helm template`'s CPU.
local relabel = import '../lib/relabel.libsonnet';

local str = { type: 'string' };
local duration = { type: 'string', pattern: '^([0-9]+(ms|s|m|h|d|w|y))+$' };
local stringMap = { type: 'object', additionalProperties: str };
local obj(props, required=[]) = {
  type: 'object',
  additionalProperties: false,
  properties: props,
} + (if required == [] then {} else { required: required });

local alertOverride = obj({
  enabled: { type: 'boolean', description: 'false drops the alert from the rendered rules' },
  'for': duration,
  severity: { type: 'string', enum: ['critical', 'warning', 'info'] },
  priority: { type: 'string', enum: ['P1', 'P2', 'P3', 'P4'] },
  labels: stringMap,
  annotations: stringMap,
  params: {
    type: 'object',
    description: "the alert's threshold parameters (files/alert-params.yaml lists each alert's, with its default)",
    additionalProperties: { type: 'number' },
  },
});

local bool = { type: 'boolean' };
local int0 = { type: 'integer', minimum: 0 };
local port = { type: 'integer', minimum: 1, maximum: 65535 };
local arrayOf(items, min=0) = { type: 'array', items: items } + (if min > 0 then { minItems: min } else {});
local namespaces = arrayOf(str { pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$' }, 1);
// A Kubernetes label name (pod labels select and feed scrape targets).
local labelName = str { pattern: '^([a-z0-9.-]+/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$' };
local labelMap = { type: 'object', propertyNames: labelName, additionalProperties: str };
// A Prometheus label name (target labels, relabelling).
local promLabel = str { pattern: '^[a-zA-Z_][a-zA-Z0-9_]*$' };
local secretName = str { pattern: '^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$' };
local secretKey = str { pattern: '^[-._a-zA-Z0-9]+$' };

local relabelConfig = obj({
  source_labels: arrayOf(str),
  separator: str,
  regex: str,
  modulus: { type: 'integer', minimum: 1 },
  target_label: str,
  replacement: str,
  action: { enum: relabel.actions },
});

// Settings every scrape job takes (prometheus.jobSettings) and its extra cardinality drops.
local jobSettings = {
  interval: duration { description: 'scrape_interval of the job (default: scrapeInterval)' },
  timeout: duration { description: 'scrape_timeout of the job (default: scrapeTimeout); at most the interval' },
  sampleLimit: int0 { description: 'sample_limit: a scrape returning more samples fails (0 = unlimited)' },
  labelLimit: int0 { description: 'label_limit: a series with more labels fails the scrape (0 = unlimited)' },
  extraMetricRelabelConfigs: arrayOf(relabelConfig) { description: "appended to the job's metric_relabel_configs" },
};
local targetGroup = obj({
  targets: arrayOf(str { pattern: '^[^\\s/:]+:[0-9]{1,5}$' }, 1),
  labels: { type: 'object', propertyNames: promLabel, additionalProperties: str },
}, ['targets']);
// TLS towards an endpoint (remote write, an exporter): files of an existing Secret; certKey and
// keyKey add a client certificate (mutual TLS).
local tlsFiles = obj({
  existingSecret: secretName,
  caKey: secretKey,
  certKey: secretKey,
  keyKey: secretKey,
  serverName: str,
  insecureSkipVerify: bool,
}, ['existingSecret']);
local exporter = obj({
  discovery: { enum: ['static', 'file'] },
  targetGroups: arrayOf(targetGroup),
  tls: tlsFiles { description: 'scrape over https (mutual TLS with certKey/keyKey) with files of an existing Secret' },
} + jobSettings);
local toggledJob(extra={}) = obj({ enabled: bool } + jobSettings + extra);
local stackComponent = obj({ enabled: bool, port: port });
// A NetworkPolicyPeer.
local peer = obj({
  podSelector: { type: 'object' },
  namespaceSelector: { type: 'object' },
  ipBlock: obj({ cidr: str, except: arrayOf(str) }, ['cidr']),
}) + { minProperties: 1 };
// `enabled: true` requires a non-empty existingSecret.
local requiresSecret(path) = {
  'if': { properties: { enabled: { const: true } }, required: ['enabled'] },
  'then': path,
};

local remoteWrite = obj({
  url: str { pattern: '^https?://' },
  remoteTimeout: duration,
  headers: {
    type: 'object',
    additionalProperties: str,
    // A literal Authorization header would put the credential in the manifest.
    propertyNames: { not: { pattern: '^[Aa][Uu][Tt][Hh][Oo][Rr][Ii][Zz][Aa][Tt][Ii][Oo][Nn]$' } },
  },
  basicAuth: obj({ username: str { minLength: 1 }, existingSecret: secretName, passwordKey: secretKey }, ['username', 'existingSecret']),
  bearerToken: obj({ existingSecret: secretName, key: secretKey }, ['existingSecret']),
  tls: tlsFiles,
  queueConfig: obj({
    capacity: { type: 'integer', minimum: 1 },
    maxShards: { type: 'integer', minimum: 1 },
    minShards: { type: 'integer', minimum: 1 },
    maxSamplesPerSend: { type: 'integer', minimum: 1 },
    batchSendDeadline: duration,
    minBackoff: duration,
    maxBackoff: duration,
    retryOnHttp429: bool,
    sampleAgeLimit: duration,
  }),
  writeRelabelConfigs: arrayOf(relabelConfig),
}, ['url']) + { not: { required: ['basicAuth', 'bearerToken'] } };

local scrapeConfigs = obj({
  nodeExporter: toggledJob(),
  applicationServices: toggledJob({ namespaces: namespaces, pathLabels: arrayOf(promLabel) }),
  databases: obj({ enabled: bool, postgres: exporter, redis: exporter }),
  messageQueue: obj({
    enabled: bool,
    rabbitmq: obj({
      discovery: { enum: ['static', 'file'] },
      targetGroups: arrayOf(targetGroup),
      queues: obj({ enabled: bool, families: arrayOf(str { pattern: '^[a-z_]+$' }, 1) } + jobSettings),
    } + jobSettings),
  }),
  kubernetes: obj({
    enabled: bool,
    apiserver: toggledJob(),
    kubelet: toggledJob({ insecureSkipVerify: bool }),
    cadvisor: toggledJob({ insecureSkipVerify: bool }),
    kubeStateMetrics: toggledJob(),
    coredns: toggledJob({ namespace: str { minLength: 1 }, podLabels: labelMap { minProperties: 1 }, port: port }),
    controlPlane: toggledJob({
      nodeLabel: str { minLength: 1 },
      schedulerPort: port,
      controllerManagerPort: port,
      etcdPort: port,
      insecureSkipVerify: bool,
    }),
  }),
  gpu: toggledJob({ namespaces: namespaces, podLabels: labelMap { minProperties: 1 }, port: port }),
  customAiModels: toggledJob({ namespaces: namespaces, modelNameLabel: labelName, modelVersionLabel: labelName }),
  stack: toggledJob({
    components: obj({ prometheus: stackComponent, alertmanager: stackComponent, grafana: stackComponent, loki: stackComponent }),
    logAgent: obj({ enabled: bool, ports: obj({ promtail: port, alloy: port }, ['promtail', 'alloy']) }),
  }),
  minio: obj({
    enabled: bool,
    discovery: { enum: ['static', 'file'] },
    targetGroups: arrayOf(targetGroup),
    scheme: { enum: ['http', 'https'] },
    metricsPath: str { pattern: '^/' },
    bearerToken: obj({ existingSecret: str, key: secretKey }),
    api: toggledJob({ namespaces: namespaces, podLabels: labelMap { minProperties: 1 }, port: port }),
  } + jobSettings) + requiresSecret({ properties: { bearerToken: { properties: { existingSecret: secretName }, required: ['existingSecret'] } } }),
  edge: obj({
    envoyGateway: toggledJob({ namespaces: namespaces, podLabels: labelMap { minProperties: 1 }, port: port }),
    nginx: obj({ enabled: bool, discovery: { enum: ['static', 'file'] }, targetGroups: arrayOf(targetGroup) } + jobSettings),
    ingressNginx: toggledJob({ namespaces: namespaces, podLabels: labelMap { minProperties: 1 }, port: port }),
  }),
  extraJobs: {
    type: 'object',
    description: 'team scrape jobs keyed by job name (scrape_config without job_name)',
    propertyNames: { pattern: '^[a-zA-Z_][-a-zA-Z0-9_]*$' },
    additionalProperties: { type: 'object', not: { required: ['job_name'] } },
  },
});

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
    rules: obj({
      alertForGracePeriod: duration { description: '--rules.alert.for-grace-period: alerts with a `for` at least this long keep their state across a restart' },
    }),
    externalLabels: stringMap,
    retention: obj({ time: duration, size: { type: 'string', pattern: '^[0-9]+(B|KB|MB|GB|TB|PB|EB)$' } }),
    persistence: obj({ enabled: { type: 'boolean' }, size: str, storageClassName: str }),
    resources: { type: 'object' },
    terminationGracePeriodSeconds: { type: 'integer', minimum: 30 },
    podAntiAffinity: { enum: ['', 'soft', 'hard'] },
    podDisruptionBudget: obj({
      enabled: bool,
      minAvailable: { type: ['integer', 'string'], minimum: 1, pattern: '^[0-9]+%$' },
      maxUnavailable: { type: ['integer', 'string'], minimum: 1, pattern: '^[0-9]+%$' },
    }),
    networkPolicy: obj({ ingressFrom: arrayOf(peer), egressTo: arrayOf(peer) }),
    alerting: obj({
      enabled: { type: 'boolean' },
      port: { type: 'integer' },
      basicAuth: obj({
        enabled: bool,
        username: str { minLength: 1 },
        existingSecret: str,
        passwordKey: secretKey,
      }) + requiresSecret({ properties: { existingSecret: secretName } }),
      tls: obj({ enabled: bool, caSecret: str, caKey: secretKey, serverName: str })
           + requiresSecret({ properties: { caSecret: secretName } }),
    }),
    remoteWrite: {
      type: 'object',
      propertyNames: { pattern: '^[a-z0-9]([-a-z0-9]{0,38}[a-z0-9])?$' },
      additionalProperties: remoteWrite,
    },
    webConfig: obj({
      enabled: bool,
      existingSecret: str,
      usersKey: secretKey,
      scrapeUsername: str { minLength: 1 },
      scrapePasswordKey: secretKey,
      tls: obj({ enabled: bool, existingSecret: str }) + requiresSecret({ properties: { existingSecret: secretName } }),
    }) + requiresSecret({ properties: { existingSecret: secretName } }),
    scrapeConfigs: scrapeConfigs,
    alerts: {
      type: 'object',
      description: 'overrides by alert name (files/alert-params.yaml lists the alerts)',
      additionalProperties: alertOverride,
    },
  }),
}
