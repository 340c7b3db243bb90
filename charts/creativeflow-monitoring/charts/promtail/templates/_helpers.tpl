{{/* Name of the objects of this component. */}}
{{- define "promtail.fullname" -}}
{{- printf "%s-promtail" .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Labels on every object. */}}
{{- define "promtail.labels" -}}
{{ include "promtail.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/part-of: creativeflow-monitoring
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{/* Labels that select the pods; never change them after the first release. */}}
{{- define "promtail.selectorLabels" -}}
app.kubernetes.io/name: promtail
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{/* "true" when global.logs.agent selects Promtail (every template renders only then). */}}
{{- define "promtail.enabled" -}}
{{- include "creativeflow.logs.selected" (dict "ctx" . "agent" "promtail") -}}
{{- end -}}

{{/* Where the config, the positions file and the metrics port are. */}}
{{- define "promtail.configDir" -}}/etc/promtail{{- end -}}
{{- define "promtail.positionsDir" -}}/var/lib/promtail{{- end -}}
{{- define "promtail.port" -}}3101{{- end -}}

{{/* Values that cannot be combined; each failure names the key to change. */}}
{{- define "promtail.validate" -}}
{{- if and .Values.loki.url .Values.global.networkPolicy.enabled (not .Values.networkPolicy.lokiEgress) -}}
{{- fail "promtail.networkPolicy.lokiEgress: say where the external Loki of promtail.loki.url runs (NetworkPolicy egress rules) so the NetworkPolicy lets Promtail push to it" -}}
{{- end -}}
{{- end -}}

{{/*
The neutral pipeline stages (umbrella templates/_logagent.tpl) as Promtail pipeline_stages.
Argument: the YAML of {stages: [...]}.
*/}}
{{- define "promtail.stages" -}}
{{- $out := list -}}
{{- range $stage := (fromYaml .).stages -}}
{{- range $kind, $cfg := $stage -}}
{{- if has $kind (list "labels" "structured_metadata") -}}
{{- $names := dict -}}
{{- range $cfg }}{{ $_ := set $names . nil }}{{ end -}}
{{- $out = append $out (dict $kind $names) -}}
{{- else if eq $kind "label_drop" -}}
{{- $out = append $out (dict "labeldrop" $cfg) -}}
{{- else if eq $kind "counter" -}}
{{- $metric := dict "type" "Counter" "description" $cfg.description "prefix" $cfg.prefix "max_idle_duration" $cfg.max_idle_duration "config" (dict "match_all" true "action" "inc") -}}
{{- $out = append $out (dict "metrics" (dict $cfg.name $metric)) -}}
{{- else -}}
{{- $out = append $out (dict $kind $cfg) -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- toYaml $out -}}
{{- end -}}

{{/* One Kubernetes pod job: this node's pods (Promtail keeps targets whose __host__ is its HOSTNAME). */}}
{{- define "promtail.podJob" -}}
{{- $v := .ctx.Values -}}
{{- $rules := (include "creativeflow.logs.podRelabelRules" (dict "job" .job "aiModels" .aiModels) | fromYaml).rules -}}
{{- $rules = prepend $rules (dict "source_labels" (list "__meta_kubernetes_pod_node_name") "target_label" "__host__") -}}
{{- $sd := dict "role" "pod" -}}
{{- if .aiModels -}}
{{- /* Only AI model pods are watched for this job (the relabel keep rule says the same). */ -}}
{{- $_ := set $sd "selectors" (list (dict "role" "pod" "label" "app.kubernetes.io/component=ai-model")) -}}
{{- end -}}
{{- $stages := include "creativeflow.logs.podStages" (dict "aiModels" .aiModels "outputMessage" $v.pipeline.outputMessage) -}}
{{- toYaml (dict
    "job_name" .job
    "kubernetes_sd_configs" (list $sd)
    "relabel_configs" $rules
    "pipeline_stages" (include "promtail.stages" $stages | fromYamlArray)
) -}}
{{- end -}}

{{/* promtail.yaml, keys in name order (toYaml), so the same values give the same bytes. */}}
{{- define "promtail.config" -}}
{{- $v := .Values -}}
{{- $client := dict
    "url" (include "creativeflow.logs.pushUrl" (dict "ctx" . "url" $v.loki.url))
    "external_labels" (dict "cluster" .Values.global.cluster "environment" .Values.global.environment)
    "batchwait" "1s"
    "batchsize" 1048576
    "timeout" "10s"
    "backoff_config" (dict "min_period" "500ms" "max_period" "5m" "max_retries" 10)
-}}
{{- with $v.loki.tenantId }}{{ $_ := set $client "tenant_id" . }}{{ end -}}
{{- $jobs := list
    (include "promtail.podJob" (dict "ctx" . "job" "kubernetes-pods" "aiModels" false) | fromYaml)
    (include "promtail.podJob" (dict "ctx" . "job" "ai-models" "aiModels" true) | fromYaml)
-}}
{{- if $v.journal.enabled -}}
{{- $jobs = append $jobs (dict
    "job_name" "node-journal"
    "journal" (dict "path" $v.journal.path "max_age" $v.journal.maxAge "json" false "labels" (dict "job" "node-journal"))
    "relabel_configs" (include "creativeflow.logs.journalRelabelRules" . | fromYaml).rules
    "pipeline_stages" (include "promtail.stages" (include "creativeflow.logs.journalStages" .) | fromYamlArray)
) -}}
{{- end -}}
{{- $config := dict
    "server" (dict
        "http_listen_address" "0.0.0.0"
        "http_listen_port" (include "promtail.port" . | int)
        "grpc_listen_port" 0
        "log_level" $v.logLevel
        "log_format" "logfmt")
    "positions" (dict "filename" (printf "%s/positions.yaml" (include "promtail.positionsDir" .)))
    "clients" (list $client)
    "scrape_configs" $jobs
-}}
{{- toYaml $config -}}
{{- end -}}
