{{/* Name of the objects of this component. */}}
{{- define "alloy.fullname" -}}
{{- printf "%s-alloy" .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Labels on every object. */}}
{{- define "alloy.labels" -}}
{{ include "alloy.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/part-of: creativeflow-monitoring
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{/* Labels that select the pods; never change them after the first release. */}}
{{- define "alloy.selectorLabels" -}}
app.kubernetes.io/name: alloy
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{/* "true" when global.logs.agent selects Alloy (every template renders only then). */}}
{{- define "alloy.enabled" -}}
{{- include "creativeflow.logs.selected" (dict "ctx" . "agent" "alloy") -}}
{{- end -}}

{{/* Where the config and the storage (positions, per component) are, and the HTTP port. */}}
{{- define "alloy.configDir" -}}/etc/alloy{{- end -}}
{{- define "alloy.storageDir" -}}/var/lib/alloy/data{{- end -}}
{{- define "alloy.port" -}}12345{{- end -}}

{{/* Values that cannot be combined; each failure names the key to change. */}}
{{- define "alloy.validate" -}}
{{- if and .Values.loki.url .Values.global.networkPolicy.enabled (not .Values.networkPolicy.lokiEgress) -}}
{{- fail "alloy.networkPolicy.lokiEgress: say where the external Loki of alloy.loki.url runs (NetworkPolicy egress rules) so the NetworkPolicy lets Alloy push to it" -}}
{{- end -}}
{{- end -}}

{{/*
An Alloy expression for a plain value: strings quoted (a string holding `"` and no backtick is
written raw, between backticks, so Go templates stay readable), lists and objects with keys in
name order. Argument: the value.
*/}}
{{- define "alloy.value" -}}
{{- if kindIs "map" . -}}
{{- $m := . -}}
{{- if not $m }}{}{{ else if le (len $m) 2 -}}
{ {{- range $i, $k := keys $m | sortAlpha }}{{ if $i }},{{ end }} {{ include "alloy.key" $k }} = {{ include "alloy.value" (get $m $k) }}{{ end }} }
{{- else -}}
{
{{- range $k := keys $m | sortAlpha }}
  {{ include "alloy.key" $k }} = {{ include "alloy.value" (get $m $k) | replace "\n" "\n  " }},
{{- end }}
}
{{- end -}}
{{- else if kindIs "slice" . -}}
[{{ range $i, $e := . }}{{ if $i }}, {{ end }}{{ include "alloy.value" $e }}{{ end }}]
{{- else if kindIs "string" . -}}
{{- if and (contains "\"" .) (not (contains "`" .)) -}}
{{ printf "`%s`" . }}
{{- else -}}
{{ toJson . }}
{{- end -}}
{{- else if kindIs "bool" . -}}
{{ ternary "true" "false" . }}
{{- else if kindIs "invalid" . -}}
null
{{- else if kindIs "float64" . -}}
{{ if eq (floor .) . }}{{ int64 . }}{{ else }}{{ . }}{{ end }}
{{- else -}}
{{ . }}
{{- end -}}
{{- end -}}

{{/* An object key: bare when it is an identifier, quoted otherwise. */}}
{{- define "alloy.key" -}}
{{- if regexMatch "^[A-Za-z_][A-Za-z0-9_]*$" . }}{{ . }}{{ else }}{{ toJson . }}{{ end -}}
{{- end -}}

{{/* One block's attributes, one per line in name order. Argument: a map. */}}
{{- define "alloy.attributes" -}}
{{- $m := . -}}
{{- range $i, $k := keys $m | sortAlpha }}
{{- if $i }}{{ "\n" }}{{ end }}
{{- $k }} = {{ include "alloy.value" (get $m $k) }}
{{- end -}}
{{- end -}}

{{/* Relabel rules as `rule` blocks (discovery.relabel, loki.relabel). Argument: the YAML of {rules: [...]}. */}}
{{- define "alloy.rules" -}}
{{- range $rule := (fromYaml .).rules }}
rule {
  {{- range $k := list "source_labels" "separator" "regex" "action" "target_label" "replacement" }}
  {{- if hasKey $rule $k }}
  {{ $k }} = {{ include "alloy.value" (get $rule $k) }}
  {{- end }}
  {{- end }}
}
{{- end -}}
{{- end -}}

{{/* The neutral pipeline stages (umbrella templates/_logagent.tpl) as loki.process stage blocks. Argument: the YAML of {stages: [...]}. */}}
{{- define "alloy.stages" -}}
{{- range $stage := (fromYaml .).stages }}
{{- range $kind, $cfg := $stage }}
{{- if has $kind (list "labels" "structured_metadata") }}
{{- $values := dict }}
{{- range $cfg }}{{ $_ := set $values . "" }}{{ end }}
stage.{{ $kind }} {
  values = {{ include "alloy.value" $values }}
}
{{- else if eq $kind "label_drop" }}
stage.label_drop {
  values = {{ include "alloy.value" $cfg }}
}
{{- else if eq $kind "counter" }}
stage.metrics {
  metric.counter {
    {{- include "alloy.attributes" (merge (dict "match_all" true "action" "inc") $cfg) | nindent 4 }}
  }
}
{{- else if $cfg }}
stage.{{ $kind }} {
  {{- include "alloy.attributes" $cfg | nindent 2 }}
}
{{- else }}
stage.{{ $kind }} {}
{{- end }}
{{- end }}
{{- end -}}
{{- end -}}

{{/* The pod pipeline of one job: relabelled discovery, file matching, tailing, processing. */}}
{{- define "alloy.podJob" -}}
{{- $name := .name -}}
// Job {{ .job }}: {{ .doc }}
discovery.relabel {{ $name | quote }} {
  targets = discovery.kubernetes.pods.targets

{{ include "alloy.rules" (include "creativeflow.logs.podRelabelRules" (dict "job" .job "aiModels" .aiModels)) | trim | indent 2 }}
}

local.file_match {{ $name | quote }} {
  path_targets = discovery.relabel.{{ $name }}.output
}

loki.source.file {{ $name | quote }} {
  targets    = local.file_match.{{ $name }}.targets
  forward_to = [loki.process.{{ $name }}.receiver]
}

loki.process {{ $name | quote }} {
  forward_to = [loki.write.loki.receiver]

{{ include "alloy.stages" (include "creativeflow.logs.podStages" (dict "aiModels" .aiModels "outputMessage" .ctx.Values.pipeline.outputMessage)) | trim | indent 2 }}
}
{{- end -}}

{{/* config.alloy: the same pipeline as Promtail's, in Alloy syntax. */}}
{{- define "alloy.config" -}}
{{- $v := .Values -}}
// The CreativeFlow log pipeline (umbrella templates/_logagent.tpl) in Alloy syntax, rendered by
// the alloy subchart; checked offline by cfmon (logs/agent-schema, logs/agent-labels,
// logs/agent-push-url).

logging {
  level  = {{ $v.logLevel | quote }}
  format = "logfmt"
}

// This node's pods only: a field selector on the node name (HOSTNAME is spec.nodeName). Log
// files are read from the node's disk (loki.source.file) rather than streamed through the API
// server (loki.source.kubernetes): no load on the API server, no pods/log permission, and the
// read offsets survive restarts in the positions under --storage.path.
discovery.kubernetes "pods" {
  role = "pod"

  selectors {
    role  = "pod"
    field = "spec.nodeName=" + sys.env("HOSTNAME")
  }
}

{{ include "alloy.podJob" (dict "ctx" . "name" "pods" "job" "kubernetes-pods" "aiModels" false "doc" "every pod but the AI models.") }}

{{ include "alloy.podJob" (dict "ctx" . "name" "ai_models" "job" "ai-models" "aiModels" true "doc" "AI model pods (app.kubernetes.io/component=ai-model), with model_name and model_version.") }}
{{- if $v.journal.enabled }}

// Job node-journal: the node's systemd journal, a unit label per systemd unit.
loki.relabel "journal" {
  forward_to = []

{{ include "alloy.rules" (include "creativeflow.logs.journalRelabelRules" .) | trim | indent 2 }}
}

loki.source.journal "node" {
  path           = {{ $v.journal.path | quote }}
  max_age        = {{ $v.journal.maxAge | quote }}
  format_as_json = false
  labels         = { job = "node-journal" }
  relabel_rules  = loki.relabel.journal.rules
  forward_to     = [loki.process.journal.receiver]
}

loki.process "journal" {
  forward_to = [loki.write.loki.receiver]

  // The journal source names its job after the component; the pipeline's name wins.
  stage.static_labels {
    values = { job = "node-journal" }
  }

{{ include "alloy.stages" (include "creativeflow.logs.journalStages" .) | trim | indent 2 }}
}
{{- end }}

loki.write "loki" {
  external_labels = {{ include "alloy.value" (dict "cluster" .Values.global.cluster "environment" .Values.global.environment) }}

  endpoint {
    url                 = {{ include "creativeflow.logs.pushUrl" (dict "ctx" . "url" $v.loki.url) | quote }}
    {{- with $v.loki.tenantId }}
    tenant_id           = {{ . | quote }}
    {{- end }}
    batch_wait          = "1s"
    batch_size          = "1MiB"
    remote_timeout      = "10s"
    min_backoff_period  = "500ms"
    max_backoff_period  = "5m"
    max_backoff_retries = 10
  }
}
{{- end -}}
