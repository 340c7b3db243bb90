// The metrics contract: every application metric the platform's own services expose, with its
// type, unit and labels. Rules may only read metrics listed here, metrics a mixin declares in its
// `exporterMetrics` (the standard exporters' own names) and recording rules (checked by
// `cfmon check` rules/metrics-known). docs/metrics.md is generated from this file.
//
// Names follow the Prometheus conventions (base units, `_total` for counters). Where an earlier
// name was in milliseconds (`ai_generation_latency_ms`), the contract uses seconds and says which
// name it replaces, so the services instrument one name.
//
// Labels every series gets at scrape time (not listed per metric): cluster, environment,
// namespace, pod, service (from the pod's app.kubernetes.io/name label).
local metric(type, unit, labels, help, source, replaces=null) = {
  type: type,
  unit: unit,
  labels: labels,
  help: help,
  source: source,
} + (if replaces != null then { replaces: replaces } else {});

local counter = function(unit='1') function(labels, help, source, replaces=null)
  metric('counter', unit, labels, help, source, replaces);
local histogram = function(labels, help, source, replaces=null)
  metric('histogram', 'seconds', labels, help, source, replaces);
local gauge = function(unit) function(labels, help, source, replaces=null)
  metric('gauge', unit, labels, help, source, replaces);

{
  application: {
    // HTTP: every service (the API gateway, Odoo through its adapter, auth, billing, collaboration,
    // notifications, n8n's webhook front).
    http_requests_total: counter('requests')(
      ['method', 'route', 'status'],
      'HTTP requests served; `route` is the route template (/v1/projects/:id), never the raw path; `status` is the code ("503").',
      'every HTTP service',
      'http_requests_total, http_server_request_count_total',
    ),
    http_request_duration_seconds: histogram(
      ['method', 'route'],
      'Time to serve an HTTP request, from the first byte read to the last byte written.',
      'every HTTP service',
    ),

    // AI generation (AI orchestration service, n8n workflows).
    creativeflow_ai_generation_requests_total: counter('requests')(
      ['generation_type', 'user_tier', 'model_provider', 'model_name', 'status'],
      'AI generation requests by outcome; `status` is success or failure; `generation_type` is sample or high_res.',
      'ai-orchestration',
      'ai_generation_request_total, ai_generation_attempted_total, ai_generation_completed_total',
    ),
    creativeflow_ai_generation_errors_total: counter('errors')(
      ['generation_type', 'failure_reason', 'user_tier', 'model_provider'],
      'Failed AI generations by reason: n8n_workflow_failure, ai_model_api_error, content_safety_violation, credit_deduction_failure.',
      'ai-orchestration',
      'ai_generation_error_count_total',
    ),
    creativeflow_ai_generation_duration_seconds: histogram(
      ['generation_type', 'user_tier', 'model_provider', 'model_name'],
      'End-to-end time of one AI generation, from request to delivered asset.',
      'ai-orchestration',
      'creativeflow_ai_generation_duration_seconds, ai_generation_latency_ms',
    ),

    // Custom AI models served by the platform (INT-007); the pods carry model_name/model_version.
    custom_model_inference_requests_total: counter('requests')(
      ['model_name', 'model_version'],
      'Inference requests served by a custom model.',
      'model-serving pods',
    ),
    custom_model_inference_errors_total: counter('errors')(
      ['model_name', 'model_version', 'error_type'],
      'Inference requests that failed.',
      'model-serving pods',
    ),
    custom_model_inference_latency_seconds: histogram(
      ['model_name', 'model_version'],
      'Time to answer one inference request.',
      'model-serving pods',
    ),
    custom_model_prediction_score: metric(
      'histogram',
      'score (0..1)',
      ['model_name', 'model_version'],
      "Distribution of the model's output confidence score; a shift of its mean against the 7-day baseline indicates drift.",
      'model-serving pods',
    ),
    // Optional: a model's own alert thresholds, set in its deployment's config and exported as
    // constants; without them the alerts use their default parameter (docs/runbooks/CustomAIModel*).
    custom_model_latency_p99_threshold_seconds: gauge('seconds')(
      ['model_name'],
      "Optional: the model's own p99 inference latency alert threshold (overrides the default of CustomAIModelHighInferenceLatency).",
      'model-serving pods',
    ),
    custom_model_error_ratio_threshold: gauge('ratio (0..1)')(
      ['model_name'],
      "Optional: the model's own error ratio alert threshold (overrides the default of CustomAIModelHighErrorRate).",
      'model-serving pods',
    ),

    // Users, billing and credits.
    creativeflow_user_registration_attempts_total: counter('registrations')(
      ['registration_method'],
      'Registrations started; `registration_method` is email or social.',
      'auth',
      'user_registration_attempts_total',
    ),
    creativeflow_user_registration_success_total: counter('registrations')(
      ['registration_method'],
      'Registrations completed.',
      'auth',
      'user_registration_success_total',
    ),
    creativeflow_user_registration_duration_seconds: histogram(
      ['registration_method'],
      'Time for a user to complete registration.',
      'auth',
      'user_registration_duration_ms',
    ),
    creativeflow_auth_attempts_total: counter('attempts')(
      ['method', 'outcome'],
      'Sign-in attempts; `method` is password, oauth or api_key; `outcome` is success or failure.',
      'auth',
    ),
    creativeflow_payment_attempts_total: counter('payments')(
      ['payment_gateway', 'transaction_type'],
      'Payments attempted; `payment_gateway` is stripe or paypal; `transaction_type` is subscription or one_time.',
      'billing',
      'payment_attempts_total',
    ),
    creativeflow_payment_failures_total: counter('payments')(
      ['payment_gateway', 'transaction_type', 'reason'],
      'Payments that failed (declined, gateway error, timeout).',
      'billing',
      'payment_failure_total',
    ),
    creativeflow_payment_processing_duration_seconds: histogram(
      ['payment_gateway', 'transaction_type'],
      'Time to process one payment through the gateway.',
      'billing',
      'payment_processing_duration_ms',
    ),
    creativeflow_subscription_event_total: counter('events')(
      ['event', 'plan'],
      'Subscription lifecycle events: created, renewed, upgraded, downgraded, cancelled, payment_failed, error.',
      'billing (Odoo adapter)',
    ),
    creativeflow_user_credits_consumed_total: counter('credits')(
      ['user_tier', 'action'],
      'Credits deducted for billable actions.',
      'billing',
    ),
    creativeflow_api_user_request_count_total: counter('requests')(
      ['plan', 'outcome'],
      'Requests made with API keys; `outcome` is ok, rate_limited or error (no per-key label: unbounded cardinality).',
      'api-gateway',
    ),
    // Business KPIs the Business KPIs dashboard shows (KPI-002, KPI-003, REQ-11-004).
    creativeflow_user_activations_total: counter('users')(
      [],
      'Users who completed their activation event (their first successful AI generation); activation rate = activations / registrations.',
      'analytics',
      'user_activation_rate_percent',
    ),
    creativeflow_free_to_paid_conversions_total: counter('users')(
      ['plan'],
      'Users who moved from the free tier to a paid plan (`plan` is the new plan).',
      'billing (Odoo adapter)',
      'free_to_paid_conversion_rate_percent',
    ),
    creativeflow_users: gauge('users')(
      ['user_tier'],
      'Registered users per tier (free, pro, team, enterprise).',
      'billing (Odoo adapter)',
    ),
    creativeflow_monthly_recurring_revenue: gauge('currency')(
      ['currency'],
      'Monthly recurring revenue of the active subscriptions, in `currency` (ISO 4217); matches the Odoo financial records.',
      'billing (Odoo adapter)',
      'monthly_recurring_revenue_mrr_amount',
    ),
    creativeflow_active_users: gauge('users')(
      ['window'],
      'Distinct active users over the window (1d = DAU, 30d = MAU).',
      'analytics',
      'daily_active_users_dau_count, monthly_active_users_mau_count',
    ),

    // Workflows, collaboration, notifications, Odoo.
    n8n_workflow_executions_total: counter('executions')(
      ['workflow', 'status'],
      'Finished n8n workflow executions; `status` is success or error.',
      'n8n (workflow hooks)',
    ),
    n8n_workflow_duration_seconds: histogram(
      ['workflow'],
      'Duration of finished n8n workflow executions.',
      'n8n (workflow hooks)',
      'n8n_workflow_duration_ms',
    ),
    n8n_workflow_running_executions: gauge('executions')(
      ['workflow'],
      'Executions currently running.',
      'n8n (workflow hooks)',
    ),
    n8n_workflow_oldest_running_execution_seconds: gauge('seconds')(
      ['workflow'],
      'Age of the oldest execution still running (0 when none runs); a stuck execution keeps growing.',
      'n8n (workflow hooks)',
    ),
    creativeflow_collaboration_sync_latency_seconds: histogram(
      ['operation'],
      'Time for a collaborative edit (CRDT update) to reach the other participants.',
      'collaboration',
      'collaboration_sync_latency_ms',
    ),
    creativeflow_collaboration_active_sessions: gauge('sessions')(
      [],
      'Open real-time collaboration sessions.',
      'collaboration',
    ),
    creativeflow_notification_queue_depth: gauge('notifications')(
      ['channel'],
      'Notifications waiting to be sent; `channel` is email, push or in_app.',
      'notifications',
    ),
    creativeflow_notifications_sent_total: counter('notifications')(
      ['channel', 'outcome'],
      'Notifications handed to the provider; `outcome` is success or failure.',
      'notifications',
    ),
    creativeflow_odoo_job_queue_jobs: gauge('jobs')(
      ['channel', 'state'],
      'Odoo queue_job jobs by state (pending, enqueued, started, failed).',
      'odoo (exporter sidecar)',
    ),

    // External dependencies (AI providers, payment gateways, social media APIs).
    creativeflow_external_service_call_duration_seconds: histogram(
      ['dependency', 'operation'],
      'Duration of calls to an external service; `_count` is the number of calls.',
      'every service calling out',
      'external_service_call_latency_ms',
    ),
    creativeflow_external_service_call_errors_total: counter('errors')(
      ['dependency', 'operation', 'reason'],
      'Calls to an external service that failed (error status, timeout, open circuit breaker).',
      'every service calling out',
      'external_service_call_error_count_total',
    ),

    // Clients.
    creativeflow_web_client_errors_total: counter('errors')(
      ['error_type', 'app_version'],
      'JavaScript errors reported by the web client (through the client telemetry endpoint).',
      'web-client telemetry',
      'javascript_error_total',
    ),
    creativeflow_web_client_page_views_total: counter('views')(
      ['app_version'],
      'Page views reported by the web client.',
      'web-client telemetry',
    ),
    creativeflow_mobile_app_crashes_total: counter('crashes')(
      ['platform', 'app_version'],
      'Mobile app crashes (native crash, Dart exception).',
      'mobile telemetry',
      'mobile_app_crash_count_total',
    ),
    creativeflow_mobile_app_sessions_total: counter('sessions')(
      ['platform', 'app_version'],
      'Mobile app sessions started.',
      'mobile telemetry',
    ),
  },

  // Series names one metric of the contract produces (a histogram has three).
  seriesNames(name, m)::
    if m.type == 'histogram' then [name + '_bucket', name + '_sum', name + '_count'] else [name],
}
