{{/*
Scrape configuration: one file per category (<category>_targets.yml, so a job is easy to find),
each a list of jobs built by a `prometheus.scrape.<category>` template below.
`prometheus.scrapeFiles` assembles them and adds the labels every job must have, so no job can
miss them.
*/}}

{{/* Category templates, in a fixed order so the rendered files are stable (file name = <category>_targets.yml). */}}
{{- define "prometheus.scrapeCategories" -}}
[node_exporter, application_service, database, message_queue, kubernetes, gpu, custom_ai_model, stack, minio, edge, extra]
{{- end -}}

{{/*
Every scrape file: file name -> list of jobs, kept in the chart's root map as
"prometheusScrapeFiles" (a template returns only text, and printing the files to parse them
again was a YAML round trip of every job on every render). Each job's relabel_configs ends with
prometheus.commonRelabelConfigs (applied last, so no discovery label can override them); empty
metric_relabel_configs are dropped. A category without jobs has no file. Argument: the root
context.
*/}}
{{- define "prometheus.scrapeFiles" -}}
{{- $files := dict -}}
{{- $common := include "prometheus.commonRelabelConfigs" . | fromYamlArray -}}
{{- range $category := include "prometheus.scrapeCategories" . | fromYamlArray -}}
{{- $text := include (printf "prometheus.scrape.%s" $category) $ | trim -}}
{{- if $text -}}
{{- $doc := printf "jobs:\n%s" ($text | indent 2) | fromYaml -}}
{{- if hasKey $doc "Error" -}}
{{- fail (printf "prometheus: scrape template %s renders invalid YAML: %s" $category $doc.Error) -}}
{{- end -}}
{{- $jobs := list -}}
{{- range $job := $doc.jobs -}}
{{- $_ := set $job "relabel_configs" (concat ($job.relabel_configs | default list) $common) -}}
{{- if not $job.metric_relabel_configs -}}
{{- $_ := unset $job "metric_relabel_configs" -}}
{{- end -}}
{{- $jobs = append $jobs $job -}}
{{- end -}}
{{- $_ := set $files (printf "%s_targets.yml" $category) $jobs -}}
{{- end -}}
{{- end -}}
{{- $_ := set . "prometheusScrapeFiles" $files -}}
{{- end -}}

{{/*
The labels the rules aggregate by and the alerts print ({{ $labels.cluster }}). external_labels
only apply to data leaving Prometheus (alerts, remote write, federation); local series need
these target labels. Argument: the root context.
*/}}
{{- define "prometheus.commonRelabelConfigs" -}}
{{- $g := .Values.global | default dict -}}
- target_label: cluster
  replacement: {{ $g.cluster | default "unknown" | quote }}
- target_label: environment
  replacement: {{ $g.environment | default "unknown" | quote }}
{{- end -}}

{{/* Per-job settings every category takes. Argument: the category's values. */}}
{{- define "prometheus.jobSettings" -}}
{{- with .interval }}
scrape_interval: {{ . }}
{{- end }}
{{- with .timeout }}
scrape_timeout: {{ . }}
{{- end }}
{{- with .sampleLimit }}
sample_limit: {{ . }}
{{- end }}
{{- with .labelLimit }}
label_limit: {{ . }}
{{- end }}
{{- end -}}

{{/* HTTPS with the pod's service-account CA and token (API server, kubelets). Argument: dict "insecureSkipVerify". */}}
{{- define "prometheus.serviceAccountAuth" -}}
scheme: https
tls_config:
  ca_file: /var/run/secrets/kubernetes.io/serviceaccount/ca.crt
  {{- if .insecureSkipVerify }}
  insecure_skip_verify: true
  {{- end }}
authorization:
  credentials_file: /var/run/secrets/kubernetes.io/serviceaccount/token
{{- end -}}

{{/* kubernetes_sd_configs limited to some namespaces. Argument: dict "role" "namespaces". */}}
{{- define "prometheus.kubernetesSD" -}}
kubernetes_sd_configs:
  - role: {{ .role }}
    namespaces:
      names:
        {{- toYaml .namespaces | nindent 8 }}
{{- end -}}

{{/* Keep only the pods carrying every label of a map. Argument: the map (pod label -> value). */}}
{{- define "prometheus.keepPodLabels" -}}
{{- range $k, $v := . }}
- source_labels: [__meta_kubernetes_pod_label_{{ regexReplaceAll "[^a-zA-Z0-9_]" $k "_" }}]
  action: keep
  regex: {{ $v | quote }}
{{- end }}
{{- end -}}

{{/*
The usual prometheus.io/* annotation relabelling for pod targets (what the services already
annotate): opt in with scrape="true";
path, port and scheme (http|https) from the annotations; finished pods dropped.
*/}}
{{- define "prometheus.podAnnotationRelabel" -}}
- source_labels: [__meta_kubernetes_pod_annotation_prometheus_io_scrape]
  action: keep
  regex: "true"
- source_labels: [__meta_kubernetes_pod_phase]
  action: drop
  regex: Succeeded|Failed
- source_labels: [__meta_kubernetes_pod_annotation_prometheus_io_scheme]
  regex: (https?)
  target_label: __scheme__
- source_labels: [__meta_kubernetes_pod_annotation_prometheus_io_path]
  regex: (.+)
  target_label: __metrics_path__
- source_labels: [__address__, __meta_kubernetes_pod_annotation_prometheus_io_port]
  regex: ([^:]+)(?::\d+)?;(\d+)
  replacement: $1:$2
  target_label: __address__
{{- end -}}

{{/* service (app.kubernetes.io/name), namespace and pod labels of a pod target. */}}
{{- define "prometheus.podTargetLabels" -}}
- source_labels: [__meta_kubernetes_pod_label_app_kubernetes_io_name]
  target_label: service
- source_labels: [__meta_kubernetes_namespace]
  target_label: namespace
- source_labels: [__meta_kubernetes_pod_name]
  target_label: pod
{{- end -}}

{{/*
Path normalisation, to keep label cardinality bounded ("/users/{user_id}" -> "/users/:id"). Relabelling
replaces a whole value, so one rule rewrites one segment (the last numeric or UUID one left):
it is repeated for up to three ID segments per path; query strings are cut first.
Argument: the list of label names holding paths.
*/}}
{{- define "prometheus.pathNormalisation" -}}
{{- $id := "([0-9]+|[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})" -}}
{{- range $label := . }}
- source_labels: [{{ $label }}]
  regex: '([^?]*)\?.*'
  target_label: {{ $label }}
  replacement: $1
{{- range $_ := until 3 }}
- source_labels: [{{ $label }}]
  regex: '(.*)/{{ $id }}(/.*)?'
  target_label: {{ $label }}
  replacement: $1/:id$3
{{- end }}
{{- end }}
{{- end -}}

{{/* Drop the Go runtime series of a target nobody debugs from here (~40 series per target). */}}
{{- define "prometheus.dropGoRuntime" -}}
- source_labels: [__name__]
  action: drop
  regex: go_.*
{{- end -}}

{{/*
A job over exporter endpoints listed in values: static_configs, or file SD from the
<release>-prometheus-file-sd ConfigMap (changes picked up without a restart). No target group,
no job. Argument: dict "root" "job" "cfg" and optional "extra" (more job keys, YAML).
*/}}
{{- define "prometheus.exporterJob" -}}
{{- $cfg := .cfg -}}
{{- if $cfg.targetGroups }}
- job_name: {{ .job }}
  {{- include "prometheus.jobSettings" $cfg | indent 2 }}
  {{- with .extra }}
  {{- . | nindent 2 }}
  {{- end }}
  {{- if and $cfg.tls $cfg.tls.existingSecret }}
  scheme: https
  {{- include "prometheus.tlsFiles" (dict "dir" (printf "/etc/prometheus/secrets/scrape-%s-tls" .job) "tls" $cfg.tls) | nindent 2 }}
  {{- end }}
  {{- if eq ($cfg.discovery | default "static") "file" }}
  file_sd_configs:
    - files:
        - /etc/prometheus/file_sd/{{ .job }}.yml
      refresh_interval: 5m
  {{- else }}
  static_configs:
    {{- toYaml $cfg.targetGroups | nindent 4 }}
  {{- end }}
  metric_relabel_configs:
    {{- with $cfg.extraMetricRelabelConfigs }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
{{- end }}
{{- end -}}

{{/* The exporters whose targets come from file SD: job name -> target groups. */}}
{{- define "prometheus.fileSDTargets" -}}
{{- $s := .Values.scrapeConfigs -}}
{{- $jobs := dict -}}
{{- if $s.databases.enabled -}}
{{- $_ := set $jobs "postgres-exporter" $s.databases.postgres -}}
{{- $_ := set $jobs "redis-exporter" $s.databases.redis -}}
{{- end -}}
{{- if $s.messageQueue.enabled -}}
{{- $_ := set $jobs "rabbitmq" $s.messageQueue.rabbitmq -}}
{{- if $s.messageQueue.rabbitmq.queues.enabled -}}
{{- $_ := set $jobs "rabbitmq-queues" $s.messageQueue.rabbitmq -}}
{{- end -}}
{{- end -}}
{{- if $s.minio.enabled -}}
{{- $_ := set $jobs "minio" $s.minio -}}
{{- end -}}
{{- if $s.edge.nginx.enabled -}}
{{- $_ := set $jobs "nginx-exporter" $s.edge.nginx -}}
{{- end -}}
{{- $out := dict -}}
{{- range $job, $cfg := $jobs -}}
{{- if and $cfg.targetGroups (eq ($cfg.discovery | default "static") "file") -}}
{{- $_ := set $out $job $cfg.targetGroups -}}
{{- end -}}
{{- end -}}
{{- toYaml $out -}}
{{- end -}}

{{/* ---- node_exporter_targets.yml ------------------------------------------------------------ */}}
{{- define "prometheus.scrape.node_exporter" -}}
{{- with .Values.scrapeConfigs.nodeExporter }}
{{- if .enabled }}
# The node-exporter DaemonSet of this release, through its Service's EndpointSlices.
- job_name: node-exporter
  {{- include "prometheus.jobSettings" . | indent 2 }}
  {{- include "prometheus.kubernetesSD" (dict "role" "endpointslice" "namespaces" (list $.Release.Namespace)) | nindent 2 }}
  relabel_configs:
    - source_labels: [__meta_kubernetes_service_name, __meta_kubernetes_endpointslice_port_name]
      action: keep
      regex: {{ printf "%s-node-exporter;http-metrics" $.Release.Name }}
    # One target per node: name it after the node, not the pod IP.
    - source_labels: [__meta_kubernetes_endpointslice_endpoint_node_name]
      target_label: instance
    - source_labels: [__meta_kubernetes_endpointslice_endpoint_node_name]
      target_label: node
  metric_relabel_configs:
    # Per-pod virtual interfaces (veth/cali/cni...) come and go with every pod: unbounded churn.
    # Node traffic is read from the physical interfaces; pod traffic from cAdvisor.
    - source_labels: [__name__, device]
      action: drop
      regex: node_network_.+;(veth|cali|cilium_|lxc|cni|flannel|vxlan|tunl|tap|docker|br-).*
    # One overlay/squashfs/nsfs mount per container or snap: same churn, no capacity to watch.
    - source_labels: [__name__, fstype]
      action: drop
      regex: node_filesystem_.+;(overlay|squashfs|nsfs|tracefs|fuse\..*)
    # Collector self-timing, one series per collector per node; `up` says the exporter works.
    - source_labels: [__name__]
      action: drop
      regex: node_scrape_collector_.+
    {{- include "prometheus.dropGoRuntime" . | nindent 4 }}
    {{- with .extraMetricRelabelConfigs }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
{{- end }}
{{- end }}
{{- end -}}

{{/* ---- application_service_targets.yml ------------------------------------------------------ */}}
{{- define "prometheus.scrape.application_service" -}}
{{- $models := .Values.scrapeConfigs.customAiModels -}}
{{- with .Values.scrapeConfigs.applicationServices }}
{{- if .enabled }}
# Application pods that opt in with the prometheus.io/* annotations (API gateway, Odoo adapter,
# n8n, auth, billing...); `service` comes from app.kubernetes.io/name.
- job_name: application-services
  {{- include "prometheus.jobSettings" . | indent 2 }}
  {{- include "prometheus.kubernetesSD" (dict "role" "pod" "namespaces" .namespaces) | nindent 2 }}
  relabel_configs:
    {{- include "prometheus.podAnnotationRelabel" . | nindent 4 }}
    {{- if $models.enabled }}
    # Model-serving pods are the custom-ai-models job's (scraped once, with their model labels).
    - source_labels: [__meta_kubernetes_pod_labelpresent_{{ regexReplaceAll "[^a-zA-Z0-9_]" $models.modelNameLabel "_" }}]
      action: drop
      regex: "true"
    {{- end }}
    {{- include "prometheus.podTargetLabels" . | nindent 4 }}
  metric_relabel_configs:
    {{- include "prometheus.pathNormalisation" .pathLabels | nindent 4 }}
    {{- with .extraMetricRelabelConfigs }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
{{- end }}
{{- end }}
{{- end -}}

{{/* ---- database_targets.yml ----------------------------------------------------------------- */}}
{{- define "prometheus.scrape.database" -}}
{{- with .Values.scrapeConfigs.databases }}
{{- if .enabled }}
{{- include "prometheus.exporterJob" (dict "root" $ "job" "postgres-exporter" "cfg" .postgres) }}
{{- include "prometheus.exporterJob" (dict "root" $ "job" "redis-exporter" "cfg" .redis) }}
{{- end }}
{{- end }}
{{- end -}}

{{/* ---- message_queue_targets.yml ------------------------------------------------------------ */}}
{{- define "prometheus.scrape.message_queue" -}}
{{- with .Values.scrapeConfigs.messageQueue }}
{{- if .enabled }}
{{- with .rabbitmq }}
# RabbitMQ's built-in rabbitmq_prometheus plugin, one target per node: node-level series from
# /metrics, per-queue series from /metrics/detailed (only the families asked for).
{{- include "prometheus.exporterJob" (dict "root" $ "job" "rabbitmq" "cfg" . "extra" "metrics_path: /metrics") }}
{{- if .queues.enabled }}
{{- $cfg := merge (dict "discovery" .discovery "targetGroups" .targetGroups) (omit .queues "enabled" "families") }}
{{- $extra := dict "metrics_path" "/metrics/detailed" "params" (dict "family" .queues.families) | toYaml }}
{{- include "prometheus.exporterJob" (dict "root" $ "job" "rabbitmq-queues" "cfg" $cfg "extra" $extra) }}
{{- end }}
{{- end }}
{{- end }}
{{- end }}
{{- end -}}

{{/* ---- kubernetes_targets.yml --------------------------------------------------------------- */}}
{{- define "prometheus.scrape.kubernetes" -}}
{{- with .Values.scrapeConfigs.kubernetes }}
{{- if .enabled }}
{{- with .apiserver }}
{{- if .enabled }}
# The API servers behind Service default/kubernetes.
- job_name: apiserver
  {{- include "prometheus.jobSettings" . | indent 2 }}
  {{- include "prometheus.serviceAccountAuth" (dict) | nindent 2 }}
  {{- include "prometheus.kubernetesSD" (dict "role" "endpointslice" "namespaces" (list "default")) | nindent 2 }}
  relabel_configs:
    - source_labels: [__meta_kubernetes_service_name, __meta_kubernetes_endpointslice_port_name]
      action: keep
      regex: kubernetes;https
  metric_relabel_configs:
    # Request latency histogram: ~40 series per (verb, resource, scope) per bucket. Keep the
    # buckets the SLO thresholds and quantiles read (0.05..60 s, coarse), drop the others.
    - source_labels: [__name__, le]
      action: drop
      regex: apiserver_request_(slo_|sli_)?duration_seconds_bucket;(0\.005|0\.025|0\.15|0\.3|0\.35|0\.45|0\.6|0\.7|0\.8|0\.9|1\.25|1\.5|1\.75|3|3\.5|4|4\.5|6|7|8|9|15|20|25|40|45|50)(\.0)?
    # Per-object-type etcd, admission and body-size histograms: the largest families an API
    # server exposes; not read by any rule or dashboard here.
    - source_labels: [__name__]
      action: drop
      regex: (etcd_request_duration_seconds|apiserver_admission_(controller|step|webhook)_admission_duration_seconds|apiserver_response_sizes|apiserver_watch_events_sizes|apiserver_request_body_size_bytes|apiserver_watch_list_duration_seconds|apiserver_flowcontrol_(request_wait|request_execution|work_estimated_seats|priority_level_seat_utilization|read_vs_write_current_requests)_seconds?)_bucket
    {{- include "prometheus.dropGoRuntime" . | nindent 4 }}
    {{- with .extraMetricRelabelConfigs }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
{{- end }}
{{- end }}
{{- with .kubelet }}
{{- if .enabled }}
# The kubelets' own metrics (one target per node, port 10250; RBAC nodes/metrics).
- job_name: kubelet
  {{- include "prometheus.jobSettings" . | indent 2 }}
  {{- include "prometheus.serviceAccountAuth" . | nindent 2 }}
  kubernetes_sd_configs:
    - role: node
  relabel_configs:
    - source_labels: [__meta_kubernetes_node_name]
      target_label: node
  metric_relabel_configs:
    # Per-operation/per-plugin client and storage histograms (x buckets x nodes); the kubelet
    # health alerts read PLEG, pod start and volume stats, which stay.
    - source_labels: [__name__]
      action: drop
      regex: (kubelet_runtime_operations_duration_seconds|kubelet_http_requests_duration_seconds|storage_operation_duration_seconds|csi_operations_seconds|rest_client_request_duration_seconds|rest_client_rate_limiter_duration_seconds|rest_client_(request|response)_size_bytes)_bucket
    {{- include "prometheus.dropGoRuntime" . | nindent 4 }}
    {{- with .extraMetricRelabelConfigs }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
{{- end }}
{{- end }}
{{- with .cadvisor }}
{{- if .enabled }}
# Container metrics (cAdvisor inside each kubelet).
- job_name: cadvisor
  {{- include "prometheus.jobSettings" . | indent 2 }}
  {{- include "prometheus.serviceAccountAuth" . | nindent 2 }}
  metrics_path: /metrics/cadvisor
  kubernetes_sd_configs:
    - role: node
  relabel_configs:
    - source_labels: [__meta_kubernetes_node_name]
      target_label: node
  metric_relabel_configs:
    # Families nothing reads that multiply by container (tasks per state, per-device blkio,
    # per-protocol socket counts) or carry a timestamp that changes with every restart.
    - source_labels: [__name__]
      action: drop
      regex: container_(tasks_state|memory_failures_total|memory_failcnt|network_(tcp|tcp6|udp|udp6)_usage_total|cpu_load_average_10s|blkio_device_usage_total|file_descriptors|sockets|threads|threads_max|ulimits_soft|last_seen|start_time_seconds|spec_.+)
    # Pause containers (container="POD") and cgroups without a container name (pod and system
    # slices) double-count every container; network stats live only on the pod cgroup, so they stay.
    - source_labels: [__name__, container]
      action: drop
      regex: container_.+;POD
    - source_labels: [__name__, container]
      action: drop
      regex: container_(cpu|memory|fs|blkio|processes|oom)_.+;
    {{- with .extraMetricRelabelConfigs }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
{{- end }}
{{- end }}
{{- with .kubeStateMetrics }}
{{- if .enabled }}
# kube-state-metrics of this release: object state on http-metrics (its own namespace/pod labels
# describe the objects, so they are honoured), its own health on telemetry.
- job_name: kube-state-metrics
  {{- include "prometheus.jobSettings" . | indent 2 }}
  honor_labels: true
  {{- include "prometheus.kubernetesSD" (dict "role" "endpointslice" "namespaces" (list $.Release.Namespace)) | nindent 2 }}
  relabel_configs:
    - source_labels: [__meta_kubernetes_service_name, __meta_kubernetes_endpointslice_port_name]
      action: keep
      regex: {{ printf "%s-kube-state-metrics;http-metrics" $.Release.Name }}
  metric_relabel_configs:
    # One series per toleration / per timestamp of every pod and ReplicaSet revision; not read.
    - source_labels: [__name__]
      action: drop
      regex: kube_(pod_tolerations|pod_status_scheduled_time|pod_created|replicaset_(created|metadata_generation|status_observed_generation))
    {{- with .extraMetricRelabelConfigs }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
- job_name: kube-state-metrics-telemetry
  {{- include "prometheus.jobSettings" . | indent 2 }}
  {{- include "prometheus.kubernetesSD" (dict "role" "endpointslice" "namespaces" (list $.Release.Namespace)) | nindent 2 }}
  relabel_configs:
    - source_labels: [__meta_kubernetes_service_name, __meta_kubernetes_endpointslice_port_name]
      action: keep
      regex: {{ printf "%s-kube-state-metrics;telemetry" $.Release.Name }}
    - source_labels: [__meta_kubernetes_pod_name]
      target_label: pod
{{- end }}
{{- end }}
{{- with .controlPlane }}
{{- if .enabled }}
{{- $cp := . }}
{{- range $job := list (dict "name" "kube-scheduler" "port" .schedulerPort "scheme" "https") (dict "name" "kube-controller-manager" "port" .controllerManagerPort "scheme" "https") (dict "name" "etcd" "port" .etcdPort "scheme" "http") }}
# {{ $job.name }} on the control-plane nodes (self-managed clusters).
- job_name: {{ $job.name }}
  {{- include "prometheus.jobSettings" $cp | indent 2 }}
  {{- if eq $job.scheme "https" }}
  {{- include "prometheus.serviceAccountAuth" $cp | nindent 2 }}
  {{- else }}
  scheme: http
  {{- end }}
  kubernetes_sd_configs:
    - role: node
  relabel_configs:
    - source_labels: [{{ printf "__meta_kubernetes_node_labelpresent_%s" (regexReplaceAll "[^a-zA-Z0-9_]" $cp.nodeLabel "_") }}]
      action: keep
      regex: "true"
    - source_labels: [__meta_kubernetes_node_address_InternalIP]
      target_label: __address__
      replacement: {{ printf "$1:%v" $job.port | quote }}
    - source_labels: [__meta_kubernetes_node_name]
      target_label: node
{{- end }}
{{- end }}
{{- end }}
{{- with .coredns }}
{{- if .enabled }}
# The cluster DNS: CoreDNS pods picked by their labels, on the port of CoreDNS' prometheus plugin.
- job_name: coredns
  {{- include "prometheus.jobSettings" . | indent 2 }}
  {{- include "prometheus.kubernetesSD" (dict "role" "pod" "namespaces" (list .namespace)) | nindent 2 }}
  relabel_configs:
    {{- include "prometheus.keepPodLabels" .podLabels | nindent 4 }}
    - source_labels: [__meta_kubernetes_pod_container_port_number]
      action: keep
      regex: {{ .port | quote }}
    - source_labels: [__meta_kubernetes_pod_name]
      target_label: pod
  {{- with .extraMetricRelabelConfigs }}
  metric_relabel_configs:
    {{- toYaml . | nindent 4 }}
  {{- end }}
{{- end }}
{{- end }}
{{- end }}
{{- end }}
{{- end -}}

{{/* ---- gpu_targets.yml ---------------------------------------------------------------------- */}}
{{- define "prometheus.scrape.gpu" -}}
{{- with .Values.scrapeConfigs.gpu }}
{{- if .enabled }}
# NVIDIA dcgm-exporter (a DaemonSet on GPU nodes), every 10s (GPU utilisation and memory swing
# within seconds). Its series carry the
# namespace/pod/container of the pod using the GPU, so no namespace/pod target labels here.
- job_name: dcgm-exporter
  {{- include "prometheus.jobSettings" . | indent 2 }}
  {{- include "prometheus.kubernetesSD" (dict "role" "pod" "namespaces" .namespaces) | nindent 2 }}
  relabel_configs:
    {{- include "prometheus.keepPodLabels" .podLabels | indent 4 }}
    - source_labels: [__meta_kubernetes_pod_phase]
      action: drop
      regex: Pending|Succeeded|Failed
    - source_labels: [__address__]
      regex: ([^:]+)(?::\d+)?
      replacement: ${1}:{{ .port }}
      target_label: __address__
    - source_labels: [__meta_kubernetes_pod_node_name]
      target_label: instance
    - source_labels: [__meta_kubernetes_pod_node_name]
      target_label: node
  # No drops: dcgm-exporter's counters CSV already chooses its (bounded) metric set, and the
  # gpu mixin reads its own labels (Hostname = the node, gpu, UUID, modelName, pod mapping).
  metric_relabel_configs:
    {{- with .extraMetricRelabelConfigs }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
{{- end }}
{{- end }}
{{- end -}}

{{/* ---- custom_ai_model_targets.yml ---------------------------------------------------------- */}}
{{- define "prometheus.scrape.custom_ai_model" -}}
{{- with .Values.scrapeConfigs.customAiModels }}
{{- if .enabled }}
{{- $name := regexReplaceAll "[^a-zA-Z0-9_]" .modelNameLabel "_" }}
{{- $version := regexReplaceAll "[^a-zA-Z0-9_]" .modelVersionLabel "_" }}
# Custom AI models (INT-007): annotated pods that carry a model label; the model name and
# version pod labels are copied onto every series.
- job_name: custom-ai-models
  {{- include "prometheus.jobSettings" . | indent 2 }}
  {{- include "prometheus.kubernetesSD" (dict "role" "pod" "namespaces" .namespaces) | nindent 2 }}
  relabel_configs:
    - source_labels: [__meta_kubernetes_pod_labelpresent_{{ $name }}]
      action: keep
      regex: "true"
    {{- include "prometheus.podAnnotationRelabel" . | nindent 4 }}
    {{- include "prometheus.podTargetLabels" . | nindent 4 }}
    - source_labels: [__meta_kubernetes_pod_label_{{ $name }}]
      regex: (.+)
      target_label: model_name
    - source_labels: [__meta_kubernetes_pod_label_{{ $version }}]
      regex: (.+)
      target_label: model_version
  metric_relabel_configs:
    # A pod serving several models labels its series itself: its own model_name/model_version
    # (renamed exported_* by the target labels above) win over the pod's, then are removed.
    - source_labels: [exported_model_name]
      regex: (.+)
      target_label: model_name
    - source_labels: [exported_model_version]
      regex: (.+)
      target_label: model_version
    - action: labeldrop
      regex: exported_model_(name|version)
    {{- include "prometheus.pathNormalisation" $.Values.scrapeConfigs.applicationServices.pathLabels | nindent 4 }}
    {{- with .extraMetricRelabelConfigs }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
{{- end }}
{{- end }}
{{- end -}}

{{/* ---- stack_targets.yml -------------------------------------------------------------------- */}}
{{- define "prometheus.scrape.stack" -}}
{{- $root := . -}}
{{- with .Values.scrapeConfigs.stack }}
{{- if .enabled }}
{{- $cfg := . }}
{{- range $component := list "prometheus" "alertmanager" "grafana" "loki" }}
{{- $c := get $cfg.components $component }}
{{- if $c.enabled }}
# {{ $component }} pods of this release, through the EndpointSlices of Service {{ $root.Release.Name }}-{{ $component }}
# (none when the component is not deployed).
- job_name: {{ $component }}
  {{- include "prometheus.jobSettings" $cfg | indent 2 }}
  {{- if and (eq $component "prometheus") $root.Values.webConfig.enabled }}
  {{- include "prometheus.selfScrapeAuth" $root | nindent 2 }}
  {{- end }}
  {{- if and (eq $component "alertmanager") $root.Values.alerting.enabled }}
  {{- include "prometheus.alertmanagerClient" $root | trim | nindent 2 }}
  {{- end }}
  {{- include "prometheus.kubernetesSD" (dict "role" "endpointslice" "namespaces" (list $root.Release.Namespace)) | nindent 2 }}
  relabel_configs:
    - source_labels: [__meta_kubernetes_service_name, __meta_kubernetes_endpointslice_port]
      action: keep
      regex: {{ printf "%s-%s;%d" $root.Release.Name $component (int $c.port) }}
    - source_labels: [__meta_kubernetes_namespace]
      target_label: namespace
    - source_labels: [__meta_kubernetes_pod_name]
      target_label: pod
  metric_relabel_configs:
    {{- with $cfg.extraMetricRelabelConfigs }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
{{- end }}
{{- end }}
{{- with $agent := include "prometheus.logAgent" $root }}
# The log agent ({{ $agent }}, a DaemonSet) of this release, through the EndpointSlices of Service
# {{ $root.Release.Name }}-{{ $agent }}: one target per node, named after the node.
- job_name: log-agent
  {{- include "prometheus.jobSettings" $cfg | indent 2 }}
  {{- include "prometheus.kubernetesSD" (dict "role" "endpointslice" "namespaces" (list $root.Release.Namespace)) | nindent 2 }}
  relabel_configs:
    - source_labels: [__meta_kubernetes_service_name, __meta_kubernetes_endpointslice_port_name]
      action: keep
      regex: {{ printf "%s-%s;http-metrics" $root.Release.Name $agent }}
    - source_labels: [__meta_kubernetes_endpointslice_endpoint_node_name]
      target_label: instance
    - source_labels: [__meta_kubernetes_endpointslice_endpoint_node_name]
      target_label: node
    - source_labels: [__meta_kubernetes_namespace]
      target_label: namespace
    - source_labels: [__meta_kubernetes_pod_name]
      target_label: pod
  metric_relabel_configs:
    # creativeflow_log_lines_total describes the logging pod, not the agent: its namespace, pod and
    # node (renamed exported_* because the target labels above take those names) win, then go. Its
    # log `job` stays `exported_job`: `job` is this scrape job.
    {{- range $label := list "namespace" "pod" "node" }}
    - source_labels: [__name__, exported_{{ $label }}]
      regex: creativeflow_log_lines_total;(.+)
      target_label: {{ $label }}
    {{- end }}
    - action: labeldrop
      regex: exported_(namespace|pod|node)
    {{- include "prometheus.dropGoRuntime" $cfg | nindent 4 }}
    {{- with $cfg.extraMetricRelabelConfigs }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
{{- end }}
{{- end }}
{{- end }}
{{- end -}}

{{/*
The log agent Prometheus scrapes: global.logs.agent (promtail|alloy) when the stack category and
its logAgent job are enabled, else empty (global.logs.agent `none`: no agent, no job). Used by
the scrape job and the NetworkPolicy. Argument: the root context.
*/}}
{{- define "prometheus.logAgent" -}}
{{- $s := .Values.scrapeConfigs.stack -}}
{{- $agent := dig "logs" "agent" "promtail" (.Values.global | default dict) -}}
{{- if and $s.enabled $s.logAgent.enabled (ne $agent "none") -}}
{{- $agent -}}
{{- end -}}
{{- end -}}

{{/* How Prometheus scrapes itself and its peer when the web config requires auth (and TLS). */}}
{{- define "prometheus.selfScrapeAuth" -}}
basic_auth:
  username: {{ .Values.webConfig.scrapeUsername | quote }}
  password_file: /etc/prometheus/web-auth/{{ .Values.webConfig.scrapePasswordKey }}
{{- if .Values.webConfig.tls.enabled }}
scheme: https
tls_config:
  ca_file: /etc/prometheus/web-tls/ca.crt
  server_name: {{ include "prometheus.fullname" . }}.{{ .Release.Namespace }}.svc
{{- end }}
{{- end -}}

{{/* ---- minio_targets.yml -------------------------------------------------------------------- */}}
{{- define "prometheus.scrape.minio" -}}
{{- with .Values.scrapeConfigs.minio }}
{{- if .enabled }}
{{- $auth := printf "scheme: %s\nauthorization:\n  credentials_file: /etc/prometheus/secrets/minio/%s" .scheme .bearerToken.key }}
# MinIO cluster health, metrics v3 (one target: any server reports the whole cluster), bearer
# token from an existing Secret (`mc admin prometheus generate`).
{{- include "prometheus.exporterJob" (dict "root" $ "job" "minio" "cfg" . "extra" (printf "metrics_path: %s\n%s" .metricsPath $auth)) }}
{{- with .api }}
{{- if .enabled }}
# MinIO S3 API metrics v3, every server pod (each counts only the requests it served).
- job_name: minio-api
  {{- include "prometheus.jobSettings" . | indent 2 }}
  metrics_path: /minio/metrics/v3/api/requests
  {{- $auth | nindent 2 }}
  {{- include "prometheus.kubernetesSD" (dict "role" "pod" "namespaces" .namespaces) | nindent 2 }}
  relabel_configs:
    {{- include "prometheus.keepPodLabels" .podLabels | indent 4 }}
    - source_labels: [__meta_kubernetes_pod_phase]
      action: drop
      regex: Pending|Succeeded|Failed
    - source_labels: [__address__]
      regex: ([^:]+)(?::\d+)?
      replacement: ${1}:{{ .port }}
      target_label: __address__
    - source_labels: [__meta_kubernetes_namespace]
      target_label: namespace
    - source_labels: [__meta_kubernetes_pod_name]
      target_label: pod
  metric_relabel_configs:
    # Time-to-first-byte distribution per API call x buckets x servers; not read here.
    - source_labels: [__name__]
      action: drop
      regex: minio_api_requests_ttfb_seconds_distribution
    {{- with .extraMetricRelabelConfigs }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
{{- end }}
{{- end }}
{{- end }}
{{- end }}
{{- end -}}

{{/* ---- edge_targets.yml: one job per edge adapter (the edge mixin reads each by its job) -------- */}}
{{- define "prometheus.scrape.edge" -}}
{{- with .Values.scrapeConfigs.edge }}
{{- with .envoyGateway }}
{{- if .enabled }}
# Envoy Gateway's proxy pods (Envoy's own stats on :{{ .port }}/stats/prometheus).
- job_name: envoy-gateway
  {{- include "prometheus.jobSettings" . | indent 2 }}
  metrics_path: /stats/prometheus
  {{- include "prometheus.kubernetesSD" (dict "role" "pod" "namespaces" .namespaces) | nindent 2 }}
  relabel_configs:
    {{- include "prometheus.keepPodLabels" .podLabels | indent 4 }}
    - source_labels: [__meta_kubernetes_pod_phase]
      action: drop
      regex: Pending|Succeeded|Failed
    - source_labels: [__address__]
      regex: ([^:]+)(?::\d+)?
      replacement: ${1}:{{ .port }}
      target_label: __address__
    - source_labels: [__meta_kubernetes_namespace]
      target_label: namespace
    - source_labels: [__meta_kubernetes_pod_name]
      target_label: pod
  metric_relabel_configs:
    # Per-upstream-cluster request and connection histograms (x buckets x backends); the
    # downstream (client-facing) histogram the latency quantiles read stays.
    - source_labels: [__name__]
      action: drop
      regex: envoy_cluster_(upstream_rq_time|upstream_cx_length_ms|upstream_cx_connect_ms)_bucket
    {{- with .extraMetricRelabelConfigs }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
{{- end }}
{{- end }}
{{- with .nginx }}
{{- if .enabled }}
# nginx-prometheus-exporter beside each plain NGINX (stub_status: connections and requests).
{{- include "prometheus.exporterJob" (dict "root" $ "job" "nginx-exporter" "cfg" .) }}
{{- end }}
{{- end }}
{{- with .ingressNginx }}
{{- if .enabled }}
# ingress-nginx controller pods (legacy adapter; metrics on :{{ .port }}).
- job_name: ingress-nginx
  {{- include "prometheus.jobSettings" . | indent 2 }}
  {{- include "prometheus.kubernetesSD" (dict "role" "pod" "namespaces" .namespaces) | nindent 2 }}
  relabel_configs:
    {{- include "prometheus.keepPodLabels" .podLabels | indent 4 }}
    - source_labels: [__meta_kubernetes_pod_phase]
      action: drop
      regex: Pending|Succeeded|Failed
    - source_labels: [__address__]
      regex: ([^:]+)(?::\d+)?
      replacement: ${1}:{{ .port }}
      target_label: __address__
    - source_labels: [__meta_kubernetes_namespace]
      target_label: namespace
    - source_labels: [__meta_kubernetes_pod_name]
      target_label: pod
  metric_relabel_configs:
    # Size and phase histograms per (ingress, path, method, status) x buckets; the request
    # duration histogram (latency quantiles) and the counters stay.
    - source_labels: [__name__]
      action: drop
      regex: nginx_ingress_controller_(request_size|response_size|bytes_sent|response_duration_seconds|header_duration_seconds|connect_duration_seconds)_bucket
    # Per-upstream summaries (deprecated by the histograms above).
    - source_labels: [__name__]
      action: drop
      regex: nginx_ingress_controller_ingress_upstream_latency_seconds.*
    {{- include "prometheus.dropGoRuntime" . | nindent 4 }}
    {{- with .extraMetricRelabelConfigs }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
{{- end }}
{{- end }}
{{- end }}
{{- end -}}

{{/* ---- extra_targets.yml: team jobs from values ---------------------------------------------- */}}
{{- define "prometheus.scrape.extra" -}}
{{- range $name, $job := .Values.scrapeConfigs.extraJobs }}
- {{ toYaml (merge (dict "job_name" $name) (deepCopy $job)) | indent 2 | trim }}
{{- end }}
{{- end -}}
