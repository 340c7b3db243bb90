{{/* Name of the objects of this component. */}}
{{- define "kube-state-metrics.fullname" -}}
{{- printf "%s-kube-state-metrics" .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Labels on every object. */}}
{{- define "kube-state-metrics.labels" -}}
{{ include "kube-state-metrics.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/part-of: creativeflow-monitoring
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{/* Labels that select the pods; never change them after the first release. */}}
{{- define "kube-state-metrics.selectorLabels" -}}
app.kubernetes.io/name: kube-state-metrics
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{/* The API group of every resource kube-state-metrics can export (the schema lists the same names). */}}
{{- define "kube-state-metrics.apiGroups" -}}
certificatesigningrequests: certificates.k8s.io
clusterrolebindings: rbac.authorization.k8s.io
clusterroles: rbac.authorization.k8s.io
configmaps: ""
cronjobs: batch
daemonsets: apps
deployments: apps
endpoints: ""
endpointslices: discovery.k8s.io
horizontalpodautoscalers: autoscaling
ingressclasses: networking.k8s.io
ingresses: networking.k8s.io
jobs: batch
leases: coordination.k8s.io
limitranges: ""
mutatingwebhookconfigurations: admissionregistration.k8s.io
namespaces: ""
networkpolicies: networking.k8s.io
nodes: ""
persistentvolumeclaims: ""
persistentvolumes: ""
poddisruptionbudgets: policy
pods: ""
replicasets: apps
replicationcontrollers: ""
resourcequotas: ""
rolebindings: rbac.authorization.k8s.io
roles: rbac.authorization.k8s.io
secrets: ""
serviceaccounts: ""
services: ""
statefulsets: apps
storageclasses: storage.k8s.io
validatingwebhookconfigurations: admissionregistration.k8s.io
volumeattachments: storage.k8s.io
{{- end -}}

{{/*
The ClusterRole rules: list and watch on exactly the exported resources, one rule per API group,
groups and resources sorted (a stable render). Returns a YAML list.
*/}}
{{- define "kube-state-metrics.rbacRules" -}}
{{- $groups := include "kube-state-metrics.apiGroups" . | fromYaml -}}
{{- $byGroup := dict -}}
{{- range $r := .Values.collectors -}}
{{- if not (hasKey $groups $r) -}}
{{- fail (printf "kube-state-metrics.collectors: unknown resource %q (see the list in the chart's values.schema.json)" $r) -}}
{{- end -}}
{{- $g := get $groups $r -}}
{{- $_ := set $byGroup $g (append (get $byGroup $g | default list) $r) -}}
{{- end -}}
{{- $rules := list -}}
{{- range $g := keys $byGroup | sortAlpha -}}
{{- $rules = append $rules (dict "apiGroups" (list $g) "resources" (get $byGroup $g | sortAlpha) "verbs" (list "list" "watch")) -}}
{{- end -}}
{{- toYaml $rules -}}
{{- end -}}

{{/*
One allowlist flag value: kind=[name,...] per kind, kinds sorted. Every kind must be exported.
Argument: dict "key" (values key, for errors) "allowlist" (map kind -> names) "collectors" (list).
*/}}
{{- define "kube-state-metrics.allowlist" -}}
{{- $parts := list -}}
{{- range $kind := keys .allowlist | sortAlpha -}}
{{- if not (has $kind $.collectors) -}}
{{- fail (printf "kube-state-metrics.%s.%s: %s is not in kube-state-metrics.collectors, so nothing would be exported" $.key $kind $kind) -}}
{{- end -}}
{{- $parts = append $parts (printf "%s=[%s]" $kind (join "," (get $.allowlist $kind))) -}}
{{- end -}}
{{- join "," $parts -}}
{{- end -}}
