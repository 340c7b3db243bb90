{{/* Name of the objects of this component. */}}
{{- define "node-exporter.fullname" -}}
{{- printf "%s-node-exporter" .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Labels on every object. */}}
{{- define "node-exporter.labels" -}}
{{ include "node-exporter.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/part-of: creativeflow-monitoring
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{/* Labels that select the pods; never change them after the first release. */}}
{{- define "node-exporter.selectorLabels" -}}
app.kubernetes.io/name: node-exporter
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}
