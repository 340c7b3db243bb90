{{/* Name of the objects (the umbrella's creativeflow.longTermFullname: Prometheus and Grafana use it too). */}}
{{- define "vm.fullname" -}}
{{- include "creativeflow.longTermFullname" . -}}
{{- end -}}

{{- define "vm.labels" -}}
{{ include "vm.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/part-of: creativeflow-monitoring
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{- define "vm.selectorLabels" -}}
app.kubernetes.io/name: victoria-metrics
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{/* Argument: dict "root" "component". Never change selector labels after the first release. */}}
{{- define "vm.componentSelectorLabels" -}}
{{ include "vm.selectorLabels" .root }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "vm.componentLabels" -}}
{{ include "vm.labels" .root }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{/* single | cluster (global.longTerm.topology). */}}
{{- define "vm.topology" -}}
{{- dig "longTerm" "topology" "single" (.Values.global | default dict) -}}
{{- end -}}

{{/* A retention (-retentionPeriod syntax: h, d, w, M, y; no suffix = months) in hours, or fail. Argument: dict "value" "key". */}}
{{- define "vm.retentionHours" -}}
{{- $v := toString .value -}}
{{- if not (regexMatch "^[0-9]+(h|d|w|M|y)?$" $v) -}}
{{- fail (printf "victoria-metrics.%s: %q is not a retention; write a number with h, d, w, M (months) or y, e.g. 3y" .key $v) -}}
{{- end -}}
{{- $n := int (regexFind "^[0-9]+" $v) -}}
{{- $unit := trimPrefix (toString $n) $v -}}
{{- $hours := dict "h" 1 "d" 24 "w" 168 "M" 744 "y" 8784 "" 744 -}}
{{- mul $n (get $hours $unit) -}}
{{- end -}}

{{/* Values that cannot work together; each failure names the key and the fix. */}}
{{- define "vm.validate" -}}
{{- $v := .Values -}}
{{- $topology := include "vm.topology" . -}}
{{- if not (has $topology (list "single" "cluster")) -}}
{{- fail (printf "global.longTerm.topology: %q is neither single nor cluster" $topology) -}}
{{- end -}}
{{- $have := int (include "vm.retentionHours" (dict "value" $v.retentionPeriod "key" "retentionPeriod")) -}}
{{- $tiers := (.Files.Get "files/longterm-tiers.yaml" | fromYaml).tiers -}}
{{- range $tier := keys $tiers | sortAlpha -}}
{{- $need := (get $tiers $tier).retention -}}
{{- if gt (int (include "vm.retentionHours" (dict "value" $need "key" "files/longterm-tiers.yaml"))) $have -}}
{{- fail (printf "victoria-metrics.retentionPeriod: %s is shorter than the %s aggregate tier's retention (%s, files/longterm-tiers.yaml); one retention holds every tier, so set retentionPeriod to at least %s" (toString $v.retentionPeriod) $tier (toString $need) (toString $need)) -}}
{{- end -}}
{{- end -}}
{{- if eq $topology "cluster" -}}
{{- $c := $v.cluster -}}
{{- if gt (int $c.replicationFactor) (int $c.vmstorage.replicas) -}}
{{- fail (printf "victoria-metrics.cluster.replicationFactor: %d is more than the %d vmstorage replicas (cluster.vmstorage.replicas); lower it or add vmstorage replicas" (int $c.replicationFactor) (int $c.vmstorage.replicas)) -}}
{{- end -}}
{{- if and $c.vmstorage.podDisruptionBudget.enabled (ge (int $c.vmstorage.podDisruptionBudget.maxUnavailable) (int $c.replicationFactor)) -}}
{{- fail (printf "victoria-metrics.cluster.vmstorage.podDisruptionBudget.maxUnavailable: %d would let every copy of a sample go down at once; keep it below cluster.replicationFactor (%d)" (int $c.vmstorage.podDisruptionBudget.maxUnavailable) (int $c.replicationFactor)) -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* The vmstorage pods, one per ordinal, at a port. Argument: dict "root" "port". */}}
{{- define "vm.storageNodes" -}}
{{- $name := printf "%s-vmstorage" (include "vm.fullname" .root) -}}
{{- $out := list -}}
{{- range $i := until (int .root.Values.cluster.vmstorage.replicas) -}}
{{- $out = append $out (printf "%s-%d.%s-headless.%s.svc:%d" $name $i $name $.root.Release.Namespace (int $.port)) -}}
{{- end -}}
{{- join "," $out -}}
{{- end -}}

{{/*
The processes of the topology, as YAML {workloads: [...]}: name, component, kind, replicas, port,
resources, args (flag name -> value, extraArgs merged last), persistent, pdb.
*/}}
{{- define "vm.workloads" -}}
{{- $v := .Values -}}
{{- $fullname := include "vm.fullname" . -}}
{{- $retention := toString $v.retentionPeriod -}}
{{- $dedup := toString $v.dedupMinScrapeInterval -}}
{{- $out := list -}}
{{- if eq (include "vm.topology" .) "cluster" -}}
{{- $c := $v.cluster -}}
{{- $rf := toString (int $c.replicationFactor) -}}
{{- $storageArgs := dict "storageDataPath" "/storage" "retentionPeriod" $retention "dedup.minScrapeInterval" $dedup "httpListenAddr" ":8482" "vminsertAddr" ":8400" "vmselectAddr" ":8401" "loggerFormat" "json" -}}
{{- $insertArgs := dict "storageNode" (include "vm.storageNodes" (dict "root" . "port" 8400)) "replicationFactor" $rf "httpListenAddr" ":8480" "loggerFormat" "json" -}}
{{- $selectArgs := dict "storageNode" (include "vm.storageNodes" (dict "root" . "port" 8401)) "replicationFactor" $rf "dedup.minScrapeInterval" $dedup "cacheDataPath" "/cache" "httpListenAddr" ":8481" "loggerFormat" "json" -}}
{{- $out = append $out (dict "name" (printf "%s-vmstorage" $fullname) "component" "vmstorage" "kind" "StatefulSet" "replicas" (int $c.vmstorage.replicas) "port" 8482 "resources" $c.vmstorage.resources "persistence" $c.vmstorage.persistence "args" (merge (deepCopy $v.extraArgs.vmstorage) $storageArgs) "pdb" $c.vmstorage.podDisruptionBudget "extraPorts" (list (dict "name" "vminsert" "port" 8400) (dict "name" "vmselect" "port" 8401))) -}}
{{- $out = append $out (dict "name" (printf "%s-vminsert" $fullname) "component" "vminsert" "kind" "Deployment" "replicas" (int $c.vminsert.replicas) "port" 8480 "resources" $c.vminsert.resources "args" (merge (deepCopy $v.extraArgs.vminsert) $insertArgs) "pdb" $c.vminsert.podDisruptionBudget "extraPorts" list) -}}
{{- $out = append $out (dict "name" (printf "%s-vmselect" $fullname) "component" "vmselect" "kind" "Deployment" "replicas" (int $c.vmselect.replicas) "port" 8481 "resources" $c.vmselect.resources "args" (merge (deepCopy $v.extraArgs.vmselect) $selectArgs) "pdb" $c.vmselect.podDisruptionBudget "extraPorts" list) -}}
{{- else -}}
{{- $args := dict "storageDataPath" "/storage" "retentionPeriod" $retention "dedup.minScrapeInterval" $dedup "httpListenAddr" ":8428" "loggerFormat" "json" -}}
{{- $out = append $out (dict "name" $fullname "component" "single" "kind" "StatefulSet" "replicas" 1 "port" 8428 "resources" $v.single.resources "persistence" $v.single.persistence "args" (merge (deepCopy $v.extraArgs.single) $args) "pdb" (dict "enabled" false) "extraPorts" list) -}}
{{- end -}}
{{- toYaml (dict "workloads" $out) -}}
{{- end -}}
