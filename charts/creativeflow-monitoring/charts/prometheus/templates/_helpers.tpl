{{/* Name of the objects of this component. */}}
{{- define "prometheus.fullname" -}}
{{- printf "%s-prometheus" .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Labels on every object. */}}
{{- define "prometheus.labels" -}}
{{ include "prometheus.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/part-of: creativeflow-monitoring
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{/* Labels that select the pods; never change them after the first release. */}}
{{- define "prometheus.selectorLabels" -}}
app.kubernetes.io/name: prometheus
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{/* Headless Service of the Alertmanager pods of this release (the alertmanager subchart's name). */}}
{{- define "prometheus.alertmanagerHeadless" -}}
{{- printf "%s-alertmanager-headless.%s.svc" .Release.Name .Release.Namespace -}}
{{- end -}}

{{/* An override in .Values.alerts names an alert that exists. Argument: dict "root" "defaults". */}}
{{- define "prometheus.checkAlertOverrides" -}}
{{- range $name, $_ := .root.Values.alerts -}}
{{- if not (hasKey $.defaults $name) -}}
{{- fail (printf "prometheus.alerts.%s: no such alert (the alerts are listed in files/alert-params.yaml)" $name) -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/*
One rule file as shipped (YAML): the generated file with the per-alert overrides of .Values.alerts
applied to the parsed objects (never by text substitution over YAML, never tpl). Threshold
tokens ${name} declared by Jsonnet are filled from the alert's params (values over defaults);
the reserved token ${grafanaUrl} (the start of every dashboard_url) from global.grafanaUrl.
Argument: dict "root" (the chart's context), "defaults" (files/alert-params.yaml parsed),
"grafanaUrl" (prometheus.grafanaUrl) and "file" (a base name from prometheus.shippedRuleFiles). The file is parsed afresh on each call, so its objects are
changed in place: nothing else holds them.
*/}}
{{- define "prometheus.ruleFile" -}}
{{- $root := .root -}}
{{- $defaults := .defaults -}}
{{- $grafanaUrl := .grafanaUrl -}}
{{- $doc := $root.Files.Get (printf "files/rules/%s" .file) | fromYaml -}}
{{- $groups := list -}}
{{- range $group := $doc.groups -}}
{{- $rules := list -}}
{{- range $rule := $group.rules -}}
{{- if $rule.alert -}}
{{- $o := get $root.Values.alerts $rule.alert | default dict -}}
{{- if ne (toString (dig "enabled" true $o)) "false" -}}
{{- $params := merge (deepCopy ($o.params | default dict)) (get $defaults $rule.alert | default dict) -}}
{{- if contains "${" $rule.expr -}}
{{- $_ := set $rule "expr" (include "prometheus.fillParams" (dict "alert" $rule.alert "text" $rule.expr "params" $params)) -}}
{{- end -}}
{{- with $o.for }}{{ $_ := set $rule "for" . }}{{ end -}}
{{- $labels := merge (deepCopy ($o.labels | default dict)) ($rule.labels | default dict) -}}
{{- with $o.severity }}{{ $_ := set $labels "severity" . }}{{ end -}}
{{- with $o.priority }}{{ $_ := set $labels "priority" . }}{{ end -}}
{{- $_ := set $rule "labels" $labels -}}
{{- $annotations := merge (deepCopy ($o.annotations | default dict)) ($rule.annotations | default dict) -}}
{{- range $k, $v := $annotations -}}
{{- $v = replace "${grafanaUrl}" $grafanaUrl (toString $v) -}}
{{- /* Most texts have no parameter: filling them would only copy them. */ -}}
{{- if contains "${" $v -}}
{{- $v = include "prometheus.fillParams" (dict "alert" $rule.alert "text" $v "params" $params) -}}
{{- end -}}
{{- $_ := set $annotations $k $v -}}
{{- end -}}
{{- $_ := set $rule "annotations" $annotations -}}
{{- $rules = append $rules $rule -}}
{{- end -}}
{{- else -}}
{{- $rules = append $rules $rule -}}
{{- end -}}
{{- end -}}
{{- if $rules -}}
{{- $groups = append $groups (set $group "rules" $rules) -}}
{{- end -}}
{{- end -}}
{{- toYaml (dict "groups" $groups) -}}
{{- end -}}

{{/*
The rule ConfigMaps, one per shipped rule file (what rules-configmap.yaml renders). Argument: the
chart's root context.
*/}}
{{- define "prometheus.rulesConfigMaps" -}}
{{- $defaults := .Files.Get "files/alert-params.yaml" | fromYaml }}
{{- $rules := dict "root" . "defaults" $defaults "grafanaUrl" (include "prometheus.grafanaUrl" .) }}
{{- include "prometheus.checkAlertOverrides" $rules }}
{{- range $file := include "prometheus.shippedRuleFiles" . | fromJsonArray }}
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ include "prometheus.rulesConfigMap" (dict "root" $ "file" $file) }}
  namespace: {{ $.Release.Namespace }}
  labels:
    {{- include "prometheus.labels" $ | nindent 4 }}
data:
  {{ $file }}: |
    {{- include "prometheus.ruleFile" (set $rules "file" $file) | nindent 4 }}
{{- end }}
{{- end -}}

{{/*
The generated rule files this release ships (base names, sorted, as JSON): every file under
files/rules, but a file for components only some clusters expose ships with the switch of their
scrape jobs. The StatefulSet mounts exactly these; prometheus.ruleFiles fills them.
*/}}
{{- define "prometheus.shippedRuleFiles" -}}
{{- $gated := dict "kubernetes-control-plane.yaml" (dig "kubernetes" "controlPlane" "enabled" false .Values.scrapeConfigs) -}}
{{- $names := list -}}
{{- range $path, $_ := .Files.Glob "files/rules/*.yaml" -}}
{{- if or (not (hasKey $gated (base $path))) (get $gated (base $path)) -}}
{{- $names = append $names (base $path) -}}
{{- end -}}
{{- end -}}
{{- toJson $names -}}
{{- end -}}

{{/*
The Grafana external URL (global.grafanaUrl, no trailing slash) that alerts' dashboard_url links
start with. Required: a link to an empty host would reach nobody.
*/}}
{{- define "prometheus.grafanaUrl" -}}
{{- $url := dig "grafanaUrl" "" (.Values.global | default dict) | toString | trimSuffix "/" -}}
{{- if not $url -}}
{{- fail "global.grafanaUrl: set the URL users reach Grafana at (per environment, e.g. https://grafana.dev.creativeflow.ai); every alert's dashboard_url starts with it" -}}
{{- end -}}
{{- $url -}}
{{- end -}}

{{/* Replace the ${name} tokens of one alert's text with its parameter values; none may be left. */}}
{{- define "prometheus.fillParams" -}}
{{- $text := .text -}}
{{- range $k, $v := .params -}}
{{- $text = replace (printf "${%s}" $k) (toString $v) $text -}}
{{- end -}}
{{- if contains "${" $text -}}
{{- fail (printf "prometheus.alerts.%s.params: a parameter has no value in: %s" .alert $text) -}}
{{- end -}}
{{- $text -}}
{{- end -}}

{{/* Name of the ConfigMap holding one rule file. Argument: dict "root" "file" (e.g. ai-models.yaml). */}}
{{- define "prometheus.rulesConfigMap" -}}
{{- $area := .file | trimSuffix ".yaml" | lower | replace "_" "-" -}}
{{- printf "%s-rules-%s" (include "prometheus.fullname" .root) $area | trunc 253 | trimSuffix "-" -}}
{{- end -}}
