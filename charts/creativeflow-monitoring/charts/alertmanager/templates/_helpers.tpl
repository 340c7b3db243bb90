{{/* Name of the objects of this component. */}}
{{- define "alertmanager.fullname" -}}
{{- printf "%s-alertmanager" .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Labels on every object. */}}
{{- define "alertmanager.labels" -}}
{{ include "alertmanager.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/part-of: creativeflow-monitoring
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{/* Labels that select the pods; never change them after the first release. */}}
{{- define "alertmanager.selectorLabels" -}}
app.kubernetes.io/name: alertmanager
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{/*
alertmanager.yml built from values. Routes, receivers and inhibition rules are maps in values
(so an overlay adds one without restating a list) and become lists here, in a stable order.
*/}}
{{- define "alertmanager.config" -}}
{{- $routes := list -}}
{{- range $name, $r := .Values.routes -}}
{{- $routes = append $routes (printf "%06d/%s" (int ($r.order | default 1000)) $name) -}}
{{- end -}}
{{- $routeList := list -}}
{{- range $key := sortAlpha $routes -}}
{{- $name := index (splitList "/" $key) 1 -}}
{{- $r := omit (get $.Values.routes $name) "order" -}}
{{- if not (hasKey $.Values.receivers $r.receiver) -}}
{{- fail (printf "alertmanager.routes.%s.receiver: no receiver %q in alertmanager.receivers" $name $r.receiver) -}}
{{- end -}}
{{- $routeList = append $routeList $r -}}
{{- end -}}
{{- if not (hasKey .Values.receivers .Values.route.receiver) -}}
{{- fail (printf "alertmanager.route.receiver: no receiver %q in alertmanager.receivers" .Values.route.receiver) -}}
{{- end -}}
{{- $receivers := list -}}
{{- range $name := keys .Values.receivers | sortAlpha -}}
{{- $receivers = append $receivers (merge (dict "name" $name) (get $.Values.receivers $name)) -}}
{{- end -}}
{{- $inhibit := list -}}
{{- range $name := keys .Values.inhibitRules | sortAlpha -}}
{{- $inhibit = append $inhibit (get $.Values.inhibitRules $name) -}}
{{- end -}}
{{- $cfg := dict "global" .Values.globalConfig "route" (merge (dict "routes" $routeList) .Values.route) "receivers" $receivers "inhibit_rules" $inhibit "templates" (list "/etc/alertmanager/templates/*.tmpl") -}}
{{- toYaml $cfg -}}
{{- end -}}
