{{/* Name of the objects of this component (Grafana's datasource and Prometheus's `loki` job use it). */}}
{{- define "loki.fullname" -}}
{{- printf "%s-loki" .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Labels on every object. */}}
{{- define "loki.labels" -}}
{{ include "loki.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/part-of: creativeflow-monitoring
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{/* Labels every Loki pod carries (NetworkPolicies and the memberlist Service select on them). */}}
{{- define "loki.selectorLabels" -}}
app.kubernetes.io/name: loki
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{/* Selector labels of one workload; never change them after the first release. Argument: dict "root" "component". */}}
{{- define "loki.componentSelectorLabels" -}}
{{ include "loki.selectorLabels" .root }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{/* Labels of one workload's objects. Argument: dict "root" "component". */}}
{{- define "loki.componentLabels" -}}
{{ include "loki.labels" .root }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{/* "true" when the pods form a memberlist ring (several monolithic replicas or simple-scalable). */}}
{{- define "loki.clustered" -}}
{{- if or (eq .Values.deploymentMode "simple-scalable") (gt (int .Values.replicas) 1) }}true{{ end -}}
{{- end -}}

{{/* The object store's TCP port: the endpoint's, else 80 (insecure) or 443. */}}
{{- define "loki.s3Port" -}}
{{- $s3 := .Values.storage.s3 -}}
{{- $port := regexFind "[0-9]+$" (regexFind ":[0-9]+$" $s3.endpoint) -}}
{{- $port | default (ternary "80" "443" $s3.insecure) -}}
{{- end -}}

{{/*
The workloads of the deployment mode, as YAML {workloads: [...]}: each with its name, component
(pod label), Loki target, replicas, resources, kind and whether it keeps a volume per pod.
*/}}
{{- define "loki.workloads" -}}
{{- $v := .Values -}}
{{- $fullname := include "loki.fullname" . -}}
{{- $out := list -}}
{{- if eq $v.deploymentMode "simple-scalable" -}}
{{- $s := $v.simpleScalable -}}
{{- $out = append $out (dict "name" (printf "%s-read" $fullname) "component" "read" "target" "read" "replicas" (int $s.read.replicas) "resources" $s.read.resources "kind" "Deployment" "persistent" false) -}}
{{- $out = append $out (dict "name" (printf "%s-write" $fullname) "component" "write" "target" "write" "replicas" (int $s.write.replicas) "resources" $s.write.resources "kind" "StatefulSet" "persistent" true) -}}
{{- $out = append $out (dict "name" (printf "%s-backend" $fullname) "component" "backend" "target" "backend" "replicas" (int $s.backend.replicas) "resources" $s.backend.resources "kind" "StatefulSet" "persistent" true) -}}
{{- else -}}
{{- $out = append $out (dict "name" $fullname "component" "single-binary" "target" "all" "replicas" (int $v.replicas) "resources" $v.resources "kind" "StatefulSet" "persistent" true) -}}
{{- end -}}
{{- toYaml (dict "workloads" $out) -}}
{{- end -}}

{{/*
Values that cannot work together; each failure names the key to change.
*/}}
{{- define "loki.validate" -}}
{{- $v := .Values -}}
{{- $s3 := $v.storage.s3 -}}
{{- if eq $v.storage.type "filesystem" -}}
{{- if eq $v.deploymentMode "simple-scalable" -}}
{{- fail "loki.deploymentMode: simple-scalable needs object storage (each pod would keep its own filesystem); set loki.storage.type to s3" -}}
{{- end -}}
{{- if gt (int $v.replicas) 1 -}}
{{- fail "loki.replicas: more than one monolithic replica needs object storage (each replica would keep its own filesystem); set loki.storage.type to s3 or replicas to 1" -}}
{{- end -}}
{{- else -}}
{{- range $key := list "endpoint" "bucket" "existingSecret" -}}
{{- if not (get $s3 $key) -}}
{{- fail (printf "loki.storage.s3.%s: required when loki.storage.type is s3" $key) -}}
{{- end -}}
{{- end -}}
{{- if and (dig "networkPolicy" "enabled" false ($.Values.global | default dict)) (not $s3.networkPolicyPeers) -}}
{{- fail "loki.storage.s3.networkPolicyPeers: say where the object store runs (NetworkPolicyPeer list) so the NetworkPolicy lets Loki reach it" -}}
{{- end -}}
{{- end -}}
{{- if include "loki.clustered" . -}}
{{- $ingesters := ternary (int $v.simpleScalable.write.replicas) (int $v.replicas) (eq $v.deploymentMode "simple-scalable") -}}
{{- if gt (int $v.replicationFactor) $ingesters -}}
{{- fail (printf "loki.replicationFactor: %d is more than the %d replicas that ingest logs; writes would never reach a quorum" (int $v.replicationFactor) $ingesters) -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* The retention classes as limits_config.retention_stream entries: enabled ones, sorted by name. */}}
{{- define "loki.retentionStreams" -}}
{{- $out := list -}}
{{- range $name := keys .Values.retention.streams | sortAlpha -}}
{{- $s := get $.Values.retention.streams $name -}}
{{- if ne (toString (dig "enabled" true $s)) "false" -}}
{{- $out = append $out (dict "selector" $s.selector "period" $s.period "priority" (int (dig "priority" 1 $s))) -}}
{{- end -}}
{{- end -}}
{{- toYaml (dict "streams" $out) -}}
{{- end -}}

{{/*
loki.yaml built from values (one config for every target; the target is a flag). Credentials are
${VAR} references that Loki expands from the environment (-config.expand-env=true).
*/}}
{{- define "loki.config" -}}
{{- include "loki.validate" . -}}
{{- $v := .Values -}}
{{- $ns := .Release.Namespace -}}
{{- $fullname := include "loki.fullname" . -}}
{{- $clustered := include "loki.clustered" . -}}
{{- $scalable := eq $v.deploymentMode "simple-scalable" -}}
{{- $store := $v.storage.type -}}
{{- $common := dict "path_prefix" "/var/loki" -}}
{{- if $clustered -}}
{{- $_ := set $common "replication_factor" (int $v.replicationFactor) -}}
{{- $_ := set $common "ring" (dict "kvstore" (dict "store" "memberlist")) -}}
{{- else -}}
{{- /* One process: the ring lives in memory and the components talk over loopback. */ -}}
{{- $_ := set $common "replication_factor" 1 -}}
{{- $_ := set $common "ring" (dict "instance_addr" "127.0.0.1" "kvstore" (dict "store" "inmemory")) -}}
{{- end -}}
{{- if eq $store "s3" -}}
{{- $s3 := $v.storage.s3 -}}
{{- $_ := set $common "storage" (dict "s3" (dict
    "endpoint" $s3.endpoint
    "bucketnames" $s3.bucket
    "region" $s3.region
    "s3forcepathstyle" $s3.forcePathStyle
    "insecure" $s3.insecure
    "access_key_id" "${LOKI_S3_ACCESS_KEY_ID}"
    "secret_access_key" "${LOKI_S3_SECRET_ACCESS_KEY}"
)) -}}
{{- else -}}
{{- $_ := set $common "storage" (dict "filesystem" (dict "chunks_directory" "/var/loki/chunks" "rules_directory" "/var/loki/rules")) -}}
{{- end -}}
{{- if $scalable -}}
{{- /* Delete requests reach the compactor, which runs in the backend target. */ -}}
{{- $_ := set $common "compactor_address" (printf "http://%s-backend.%s.svc:3100" $fullname $ns) -}}
{{- end -}}
{{- $tsdb := dict "active_index_directory" "/var/loki/tsdb-index" "cache_location" "/var/loki/tsdb-cache" -}}
{{- $cfg := dict
    "auth_enabled" false
    "analytics" (dict "reporting_enabled" false)
    "server" (dict "http_listen_port" 3100 "grpc_listen_port" 9095 "log_level" $v.logLevel)
    "common" $common
    "schema_config" (dict "configs" (list (dict
        "from" (required "loki.schemaConfig.from: the first day (YYYY-MM-DD) of the TSDB v13 index period is required" $v.schemaConfig.from)
        "store" "tsdb"
        "object_store" $store
        "schema" "v13"
        "index" (dict "prefix" "index_" "period" "24h")
    )))
    "storage_config" (dict "tsdb_shipper" $tsdb)
    "ingester" (dict "wal" (dict "enabled" true "dir" "/var/loki/wal" "flush_on_shutdown" true))
    "compactor" (dict
        "working_directory" "/var/loki/compactor"
        "compaction_interval" $v.retention.compactionInterval
        "retention_enabled" true
        "retention_delete_delay" $v.retention.deleteDelay
        "delete_request_store" $store
    )
    "limits_config" (dict
        "retention_period" $v.retention.defaultPeriod
        "retention_stream" (include "loki.retentionStreams" . | fromYaml).streams
        "ingestion_rate_mb" $v.limits.ingestionRateMb
        "ingestion_burst_size_mb" $v.limits.ingestionBurstSizeMb
        "max_global_streams_per_user" (int $v.limits.maxGlobalStreamsPerUser)
        "max_query_length" $v.limits.maxQueryLength
        "max_query_parallelism" (int $v.limits.maxQueryParallelism)
        "reject_old_samples" true
        "reject_old_samples_max_age" $v.limits.rejectOldSamplesMaxAge
        "allow_structured_metadata" true
    )
-}}
{{- if $clustered -}}
{{- $_ := set $cfg "memberlist" (dict
    "join_members" (list (printf "%s-memberlist.%s.svc:7946" $fullname $ns))
    "cluster_label" (printf "%s.%s" $fullname $ns)
) -}}
{{- end -}}
{{- if $scalable -}}
{{- /* The query scheduler and the index gateway run in the backend target; read pods find every backend pod through its headless Service. */ -}}
{{- $backend := printf "%s-backend-headless.%s.svc:9095" $fullname $ns -}}
{{- $_ := set $cfg "frontend" (dict "scheduler_address" $backend) -}}
{{- $_ := set $cfg "frontend_worker" (dict "scheduler_address" $backend) -}}
{{- $_ := set $tsdb "index_gateway_client" (dict "server_address" (printf "dns+%s" $backend)) -}}
{{- end -}}
{{- toYaml $cfg -}}
{{- end -}}

{{/*
The pod template of one workload. Argument: dict "root" "workload" (an entry of loki.workloads).
*/}}
{{- define "loki.podTemplate" -}}
{{- $root := .root -}}
{{- $w := .workload -}}
{{- $v := $root.Values -}}
{{- $selector := include "loki.componentSelectorLabels" (dict "root" $root "component" $w.component) -}}
metadata:
  labels:
    {{- include "loki.componentLabels" (dict "root" $root "component" $w.component) | nindent 4 }}
  annotations:
    # A config change rolls the pods (Loki reads its config only at start).
    checksum/config: {{ include (print $root.Template.BasePath "/configmap.yaml") $root | sha256sum }}
spec:
  serviceAccountName: {{ include "loki.fullname" $root }}
  # Loki never talks to the Kubernetes API.
  automountServiceAccountToken: false
  enableServiceLinks: false
  terminationGracePeriodSeconds: {{ $v.terminationGracePeriodSeconds }}
  securityContext:
    {{- include "creativeflow.podSecurityContext" 10001 | nindent 4 }}
  {{- with include "creativeflow.podAntiAffinity" (dict "selectorLabels" $selector "mode" $v.podAntiAffinity) }}
  affinity:
    {{- . | nindent 4 }}
  {{- end }}
  containers:
    - name: loki
      image: "{{ $v.image.repository }}:{{ $v.image.tag }}"
      imagePullPolicy: {{ $v.image.pullPolicy }}
      args:
        - -config.file=/etc/loki/config/loki.yaml
        - -config.expand-env=true
        - -target={{ $w.target }}
      {{- if eq $v.storage.type "s3" }}
      # Referenced as ${LOKI_S3_*} in loki.yaml; the keys never leave the Secret.
      env:
        - name: LOKI_S3_ACCESS_KEY_ID
          valueFrom:
            secretKeyRef:
              name: {{ $v.storage.s3.existingSecret }}
              key: {{ $v.storage.s3.accessKeyIdKey }}
        - name: LOKI_S3_SECRET_ACCESS_KEY
          valueFrom:
            secretKeyRef:
              name: {{ $v.storage.s3.existingSecret }}
              key: {{ $v.storage.s3.secretAccessKeyKey }}
      {{- end }}
      ports:
        - name: http-metrics
          containerPort: 3100
        - name: grpc
          containerPort: 9095
        {{- if include "loki.clustered" $root }}
        - name: memberlist
          containerPort: 7946
        {{- end }}
      readinessProbe:
        httpGet:
          path: /ready
          port: http-metrics
        initialDelaySeconds: 15
        periodSeconds: 10
      # The port only: /ready stays false while the WAL replays or the ring settles, which is
      # no reason to restart the pod.
      livenessProbe:
        tcpSocket:
          port: http-metrics
        initialDelaySeconds: 30
        periodSeconds: 30
        failureThreshold: 6
      resources:
        {{- toYaml $w.resources | nindent 8 }}
      securityContext:
        {{- include "creativeflow.containerSecurityContext" . | nindent 8 }}
      volumeMounts:
        - name: config
          mountPath: /etc/loki/config
          readOnly: true
        - name: data
          mountPath: /var/loki
        - name: tmp
          mountPath: /tmp
  volumes:
    - name: config
      configMap:
        name: {{ include "loki.fullname" $root }}-config
    - name: tmp
      emptyDir: {}
    {{- if not $w.persistent }}
    # Read pods keep only a cache of downloaded index files.
    - name: data
      emptyDir: {}
    {{- end }}
{{- end -}}
