{{/*
Helpers shared by every component. Named templates are global in a Helm render, so the subcharts
(always rendered through this umbrella, never on their own) include these instead of repeating
them. One helper per concern.
*/}}

{{/*
The text a template prints, built once per render and kept in the chart's root map (helm hands
one root map to every template of a chart): a ConfigMap that a pod template renders again for its
checksum annotation is built once, not twice. Prints nothing; read the text with `get $ <key>`.
Argument: list (the chart's root context) (the key) (the template's name).
*/}}
{{- define "creativeflow.renderOnce" -}}
{{- $root := index . 0 -}}
{{- if not (hasKey $root (index . 1)) -}}
{{- $_ := set $root (index . 1) (include (index . 2) $root) -}}
{{- end -}}
{{- end -}}

{{/*
The YAML a template prints, parsed once per render and kept in the chart's root map (helm hands
one root map to every template of a chart, and .Subcharts.<name> is that subchart's): templates
that read the same structure share one build instead of each printing and parsing it again.
Prints nothing; read the result with `get $ <key>`, and never change it. Argument: list (the
chart's root context) (the key) (the template's name).
*/}}
{{- define "creativeflow.parseOnce" -}}
{{- $root := index . 0 -}}
{{- if not (hasKey $root (index . 1)) -}}
{{- $_ := set $root (index . 1) (include (index . 2) $root | fromYaml) -}}
{{- end -}}
{{- end -}}

{{/* Pod security context: non-root with the given uid/gid, RuntimeDefault seccomp. Argument: the uid (int). */}}
{{- define "creativeflow.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: {{ . }}
runAsGroup: {{ . }}
fsGroup: {{ . }}
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{/* Container security context: read-only root filesystem, no privilege escalation, every capability dropped. */}}
{{- define "creativeflow.containerSecurityContext" -}}
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
capabilities:
  drop: [ALL]
{{- end -}}

{{/*
Pod anti-affinity that spreads the replicas of one component over nodes.
Argument: dict "selectorLabels" (the component's selector labels, a YAML string) "mode" ("soft" | "hard" | "").
Renders nothing for "" (so a single-node dev cluster schedules everything).
*/}}
{{- define "creativeflow.podAntiAffinity" -}}
{{- $term := dict "topologyKey" "kubernetes.io/hostname" "labelSelector" (dict "matchLabels" (fromYaml .selectorLabels)) -}}
{{- if eq .mode "hard" -}}
podAntiAffinity:
  requiredDuringSchedulingIgnoredDuringExecution:
    {{- toYaml (list $term) | nindent 4 }}
{{- else if eq .mode "soft" -}}
podAntiAffinity:
  preferredDuringSchedulingIgnoredDuringExecution:
    - weight: 100
      podAffinityTerm:
        {{- toYaml $term | nindent 8 }}
{{- end -}}
{{- end -}}

{{/*
A PodDisruptionBudget for one component.
Argument: dict "name" "namespace" "labels" (YAML string) "selectorLabels" (YAML string) "pdb" (the
component's podDisruptionBudget values: enabled, minAvailable or maxUnavailable).
*/}}
{{- define "creativeflow.podDisruptionBudget" -}}
{{- if .pdb.enabled }}
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: {{ .name }}
  namespace: {{ .namespace }}
  labels:
    {{- .labels | nindent 4 }}
spec:
  {{- if hasKey .pdb "maxUnavailable" }}
  maxUnavailable: {{ .pdb.maxUnavailable }}
  {{- else }}
  minAvailable: {{ .pdb.minAvailable | default 1 }}
  {{- end }}
  selector:
    matchLabels:
      {{- .selectorLabels | nindent 6 }}
{{- end }}
{{- end -}}

{{/*
The long-term store (victoria-metrics subchart, switched by global.longTerm): where Prometheus
remote-writes the aggregate tiers and where Grafana reads them. One definition for both sides,
so the URL always names a Service the store renders. Argument: the root context.
*/}}
{{- define "creativeflow.longTermFullname" -}}
{{- printf "%s-victoria-metrics" .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "creativeflow.longTermWriteUrl" -}}
{{- $lt := dig "longTerm" dict (.Values.global | default dict) -}}
{{- $name := include "creativeflow.longTermFullname" . -}}
{{- if eq (toString $lt.topology) "cluster" -}}
{{- printf "http://%s-vminsert.%s.svc:8480/insert/0/prometheus/api/v1/write" $name .Release.Namespace -}}
{{- else -}}
{{- printf "http://%s.%s.svc:8428/api/v1/write" $name .Release.Namespace -}}
{{- end -}}
{{- end -}}

{{- define "creativeflow.longTermReadUrl" -}}
{{- $lt := dig "longTerm" dict (.Values.global | default dict) -}}
{{- $name := include "creativeflow.longTermFullname" . -}}
{{- if eq (toString $lt.topology) "cluster" -}}
{{- printf "http://%s-vmselect.%s.svc:8481/select/0/prometheus" $name .Release.Namespace -}}
{{- else -}}
{{- printf "http://%s.%s.svc:8428" $name .Release.Namespace -}}
{{- end -}}
{{- end -}}
