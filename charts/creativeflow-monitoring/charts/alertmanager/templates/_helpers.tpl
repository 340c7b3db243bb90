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

{{/* Where users reach Alertmanager: .Values.externalUrl, else the in-cluster Service. */}}
{{- define "alertmanager.externalUrl" -}}
{{- .Values.externalUrl | default (printf "http://%s.%s.svc:9093" (include "alertmanager.fullname" .) .Release.Namespace) -}}
{{- end -}}

{{/* Whether an entry of a keyed map (route, receiver, inhibition rule) is on: `enabled` defaults to true. */}}
{{- define "alertmanager.on" -}}
{{- if ne (toString (dig "enabled" true (. | default dict))) "false" }}true{{ end -}}
{{- end -}}

{{/*
One level of the route tree as a YAML list: the enabled routes of a keyed map sorted by `order`
then name, `order`/`enabled` dropped, each receiver checked (a route without one inherits its
parent's), nested `routes` maps recursed.
Argument: dict "routes" (the map) "path" (its values path, for messages) "receivers" (enabled receiver names).
*/}}
{{- define "alertmanager.routeList" -}}
{{- $keys := list -}}
{{- range $name, $r := .routes -}}
{{- if include "alertmanager.on" $r -}}
{{- $keys = append $keys (printf "%06d/%s" (int (dig "order" 1000 $r)) $name) -}}
{{- end -}}
{{- end -}}
{{- $out := list -}}
{{- range $key := sortAlpha $keys -}}
{{- $name := index (splitList "/" $key) 1 -}}
{{- $path := printf "%s.%s" $.path $name -}}
{{- $r := omit (get $.routes $name) "order" "enabled" "routes" -}}
{{- if and (hasKey $r "receiver") (not (has $r.receiver $.receivers)) -}}
{{- fail (printf "%s.receiver: no receiver %q in alertmanager.receivers (or it is disabled)" $path $r.receiver) -}}
{{- end -}}
{{- $children := include "alertmanager.routeList" (dict "routes" (get (get $.routes $name) "routes" | default dict) "path" (printf "%s.routes" $path) "receivers" $.receivers) | fromYamlArray -}}
{{- if $children -}}
{{- $_ := set $r "routes" $children -}}
{{- end -}}
{{- $out = append $out $r -}}
{{- end -}}
{{- toYaml $out -}}
{{- end -}}

{{/*
alertmanager.yml built from values. Routes, receivers, inhibition rules and time intervals are maps
in values (so an overlay adds one without restating a list) and become lists here, in a stable order.
*/}}
{{- define "alertmanager.config" -}}
{{- $receivers := list -}}
{{- $names := list -}}
{{- range $name := keys .Values.receivers | sortAlpha -}}
{{- $rcv := get $.Values.receivers $name -}}
{{- if include "alertmanager.on" $rcv -}}
{{- $receivers = append $receivers (merge (dict "name" $name) (omit $rcv "enabled")) -}}
{{- $names = append $names $name -}}
{{- end -}}
{{- end -}}
{{- if not (has .Values.route.receiver $names) -}}
{{- fail (printf "alertmanager.route.receiver: no receiver %q in alertmanager.receivers (or it is disabled)" .Values.route.receiver) -}}
{{- end -}}
{{- $routes := include "alertmanager.routeList" (dict "routes" .Values.routes "path" "alertmanager.routes" "receivers" $names) | fromYamlArray -}}
{{- $inhibit := list -}}
{{- range $name := keys .Values.inhibitRules | sortAlpha -}}
{{- $rule := get $.Values.inhibitRules $name -}}
{{- if include "alertmanager.on" $rule -}}
{{- $inhibit = append $inhibit (omit $rule "enabled") -}}
{{- end -}}
{{- end -}}
{{- $intervals := list -}}
{{- range $name := keys .Values.timeIntervals | sortAlpha -}}
{{- $intervals = append $intervals (dict "name" $name "time_intervals" (get $.Values.timeIntervals $name)) -}}
{{- end -}}
{{- $cfg := dict "global" .Values.globalConfig "route" (merge (dict "routes" $routes) .Values.route) "receivers" $receivers "inhibit_rules" $inhibit "templates" (list "/etc/alertmanager/templates/*.tmpl") -}}
{{- if $intervals -}}
{{- $_ := set $cfg "time_intervals" $intervals -}}
{{- end -}}
{{- toYaml $cfg -}}
{{- end -}}

{{/* "true" when the peers gossip over mutual TLS (web TLS on, cluster on, 2+ replicas). */}}
{{- define "alertmanager.clusterTls" -}}
{{- $w := .Values.webConfig -}}
{{- if and $w.enabled $w.tls.enabled $w.tls.cluster (gt (int .Values.replicas) 1) }}true{{ end -}}
{{- end -}}
