// SLOs: the platform's user-facing objectives, as multi-window, multi-burn-rate alerts on a 30-day
// error budget (lib/slo.libsonnet explains the recorded series and the alert conditions).
//   api-availability        99.9 % of API gateway requests answered without a 5xx (http_requests_total)
//   ai-generation-success   98 % of AI generation requests succeed (KPI-004; creativeflow_ai_generation_requests_total)
local config = import '../../lib/config.libsonnet';
local slo = import '../../lib/slo.libsonnet';

{
  _config+:: config {
    apiGatewayService: 'api-gateway',
    apiAvailabilityTarget: 0.999,
    aiGenerationService: 'ai-orchestration',
    aiGenerationSuccessTarget: 0.98,
  },

  local c = $._config,
  local rules = (import '../../lib/rules.libsonnet')(c),

  // One spec per SLO (lib/slo.libsonnet); the SLO dashboard draws each of them.
  local specs = [
    {
      name: 'api-availability',
      alertName: 'SloApiAvailability',
      title: 'API availability',
      service: c.apiGatewayService,
      target: c.apiAvailabilityTarget,
      what: 'of API gateway requests answered without a server error',
      metric: 'http_requests_total',
      errorSelector: 'service="%s", status=~"5.."' % c.apiGatewayService,
      totalSelector: 'service="%s"' % c.apiGatewayService,
    },
    {
      name: 'ai-generation-success',
      alertName: 'SloAiGenerationSuccess',
      title: 'AI generation success',
      service: c.aiGenerationService,
      target: c.aiGenerationSuccessTarget,
      what: 'of AI generation requests succeeding',
      metric: 'creativeflow_ai_generation_requests_total',
      errorSelector: 'status="failure"',
      totalSelector: '',
    },
  ],
  local slos = [slo.new(c, spec) for spec in specs],

  prometheusRules+:: {
    groups+: [s.recordingGroup for s in slos],
  },

  prometheusAlerts+:: {
    groups+: [
      rules.group('slo-alerts', std.flattenArrays([s.alerts for s in slos])),
    ],
  },

  dashboardFolder:: 'SLO',
  grafanaDashboards+:: {
    'slo-overview.json': (import 'slo-overview.libsonnet')(c, specs),
  },
}
