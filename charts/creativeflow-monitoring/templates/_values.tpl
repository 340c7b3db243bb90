{{/*
The umbrella's own values: its top-level keys (one per subchart, and global) and global. Each
subchart's values.schema.json checks that subchart's keys (global included, as it is handed to
every subchart). These few are checked here rather than by a values.schema.json of the umbrella:
helm validates a chart's schema against every value of the chart and its subcharts, serialised
once more for it, which cost 2 % of a render's CPU for ten keys. Each failure names the key, what
it must be and what it holds.
*/}}
{{- define "creativeflow.validateValues" -}}
{{- include "creativeflow.onlyKeys" (list "" .Values (list "global" "prometheus" "alertmanager" "grafana" "node-exporter" "kube-state-metrics" "loki" "promtail" "alloy" "victoria-metrics")) -}}
{{- $g := .Values.global -}}
{{- include "creativeflow.onlyKeys" (list "global" $g (list "environment" "cluster" "grafanaUrl" "networkPolicy" "logs" "longTerm")) -}}
{{- include "creativeflow.oneOf" (list "global.environment" $g.environment (list "dev" "staging" "prod")) -}}
{{- if not (and (eq (typeOf $g.cluster) "string") $g.cluster) -}}
{{- fail (printf "global.cluster: the cluster's name, a non-empty string (holds %s)" (toJson $g.cluster)) -}}
{{- end -}}
{{- if hasKey $g "grafanaUrl" -}}
{{- $url := $g.grafanaUrl -}}
{{- if not (and (eq (typeOf $url) "string") (regexMatch "^(https?://[^\\s/]+(/\\S*[^\\s/])?)?$" $url)) -}}
{{- fail (printf "global.grafanaUrl: an http(s) URL without spaces or a trailing slash (holds %s)" (toJson $url)) -}}
{{- end -}}
{{- end -}}
{{- if hasKey $g "networkPolicy" -}}
{{- include "creativeflow.onlyKeys" (list "global.networkPolicy" $g.networkPolicy (list "enabled" "dnsPodLabels")) -}}
{{- with $g.networkPolicy -}}
{{- include "creativeflow.isBool" (list "global.networkPolicy.enabled" .enabled) -}}
{{- if hasKey . "dnsPodLabels" -}}
{{- $labels := .dnsPodLabels -}}
{{- $strings := true -}}
{{- range $_, $v := (kindIs "map" $labels | ternary $labels dict) }}{{ $strings = and $strings (eq (typeOf $v) "string") }}{{ end -}}
{{- if not (and (kindIs "map" $labels) $labels $strings) -}}
{{- fail (printf "global.networkPolicy.dnsPodLabels: the DNS pods' labels, a map of at least one label to its value (holds %s)" (toJson $labels)) -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- if hasKey $g "logs" -}}
{{- include "creativeflow.onlyKeys" (list "global.logs" $g.logs (list "agent" "runAsUser" "supplementalGroups")) -}}
{{- with $g.logs -}}
{{- if hasKey . "agent" }}{{ include "creativeflow.oneOf" (list "global.logs.agent" .agent (list "alloy" "promtail" "none")) }}{{ end -}}
{{- if hasKey . "runAsUser" }}{{ include "creativeflow.isInt" (list "global.logs.runAsUser" .runAsUser 1) }}{{ end -}}
{{- if hasKey . "supplementalGroups" -}}
{{- if not (kindIs "slice" .supplementalGroups) -}}
{{- fail (printf "global.logs.supplementalGroups: a list of group ids (holds %s)" (toJson .supplementalGroups)) -}}
{{- end -}}
{{- range .supplementalGroups }}{{ include "creativeflow.isInt" (list "global.logs.supplementalGroups" . 0) }}{{ end -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- if hasKey $g "longTerm" -}}
{{- include "creativeflow.onlyKeys" (list "global.longTerm" $g.longTerm (list "enabled" "topology")) -}}
{{- with $g.longTerm -}}
{{- include "creativeflow.isBool" (list "global.longTerm.enabled" .enabled) -}}
{{- if hasKey . "topology" }}{{ include "creativeflow.oneOf" (list "global.longTerm.topology" .topology (list "single" "cluster")) }}{{ end -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* A map holds only the given keys. Argument: list (the map's key path, "" at the top) (the map) (the keys). */}}
{{- define "creativeflow.onlyKeys" -}}
{{- $path := index . 0 -}}
{{- $allowed := index . 2 -}}
{{- if not (kindIs "map" (index . 1)) -}}
{{- fail (printf "%s: a map of %s (holds %s)" $path (join ", " $allowed) (toJson (index . 1))) -}}
{{- end -}}
{{- range $key, $_ := index . 1 -}}
{{- if not (has $key $allowed) -}}
{{- fail (printf "%s: no such key (%s takes %s)" (ternary $key (printf "%s.%s" $path $key) (eq $path "")) (ternary "the chart" $path (eq $path "")) (join ", " $allowed)) -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* A value is one of a list of strings. Argument: list (key path) (value) (the strings). */}}
{{- define "creativeflow.oneOf" -}}
{{- if not (and (eq (typeOf (index . 1)) "string") (has (index . 1) (index . 2))) -}}
{{- fail (printf "%s: one of %s (holds %s)" (index . 0) (join ", " (index . 2)) (toJson (index . 1))) -}}
{{- end -}}
{{- end -}}

{{/* A value, when set, is true or false. Argument: list (key path) (value). */}}
{{- define "creativeflow.isBool" -}}
{{- if not (or (kindIs "invalid" (index . 1)) (kindIs "bool" (index . 1))) -}}
{{- fail (printf "%s: true or false (holds %s)" (index . 0) (toJson (index . 1))) -}}
{{- end -}}
{{- end -}}

{{/*
A value is a whole number at least some minimum. Helm reads numbers in values files as
json.Number (text), and --set gives int64. Argument: list (key path) (value) (minimum).
*/}}
{{- define "creativeflow.isInt" -}}
{{- $v := index . 1 -}}
{{- $number := has (typeOf $v) (list "json.Number" "int" "int64" "float64") -}}
{{- if not (and $number (regexMatch "^[0-9]+$" (toString $v)) (ge (float64 (toString $v)) (float64 (index . 2)))) -}}
{{- fail (printf "%s: a whole number, at least %d (holds %s)" (index . 0) (index . 2) (toJson $v)) -}}
{{- end -}}
{{- end -}}
