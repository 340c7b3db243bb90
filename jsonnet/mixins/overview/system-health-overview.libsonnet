// Overview / System Health: the DevOps/SRE first screen, refresh 30s. One line per area, each
// drawing the owning mixin's recorded series and its alert thresholds (that mixin's `_config`),
// so a red cell here is an alert there.

// c: the owning mixins' configs by area (mixin.libsonnet), the values their alerts' params default to.
function(c)
  local d = (import '../../lib/dashboards.libsonnet')(c);
  // Queries and panels live in system-health-overview/ (queries.libsonnet, panels.libsonnet); this file lays them out.
  local p = (import 'system-health-overview/panels.libsonnet')(c);

  d.dashboard({
    uid: 'system-health-overview',
    title: 'Overview / System Health',
    tags: ['overview', 'sre'],
    description: 'Is the platform healthy right now? The DevOps/SRE first screen: API gateway, AI generation, '
                 + 'nodes by role, databases, queues, caches and scrape health. Dashed lines are the alert thresholds '
                 + '(Jsonnet defaults; an environment may override them in Helm values).',
    refresh: '30s',
    time: 'now-3h',
    panels: d.layout([
      d.row('Service health'),
      d.height(4, [p.gatewayRate, p.gatewayErrors, p.gatewayP95, p.aiThroughput, p.aiSuccess, p.sessions]),
      d.row('Nodes by role'),
      [p.cpu, p.memory, p.disk],
      d.row('Databases, queues and caches'),
      [p.pgConnectionsRatio, p.pgConnections, p.pgLag, p.pgLongestTx],
      [p.queueReady, p.redisMemory, p.redisHitRatio],
      d.row('Pipelines and GPUs'),
      [p.n8nExecutions, p.n8nFailures, p.odooPending, p.gpu],
      d.row('Scrape health'),
      [p.targetsDown, p.uptime],
    ]),
  })
