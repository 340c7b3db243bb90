{{/*
The log pipeline both agents ship (charts/promtail, charts/alloy), written once in a neutral form:
each agent's _helpers.tpl renders these rules and stages in its own syntax, so the two cannot
drift apart. What it produces, per line:

- labels (bounded only): namespace, pod, container, node, app (`app.kubernetes.io/name`, else
  `app`), job, level, retention, stream (stdout|stderr, from the CRI stage), and for AI model pods
  model_name, model_version (one value per deployed model); unit for journal lines.
- structured metadata (unbounded, never labels): traceID, spanID; inference_id and model_event
  for AI model pods.
- the counter creativeflow_log_lines_total with the stream's labels.

`retention` (Loki's retention_stream selectors read it):
  audit    - the pod's label or annotation `creativeflow.ai/log-retention: audit`, or a JSON line
             with `log_type: audit` (the auth service's audit logger), or a kernel audit record
             in the journal (_TRANSPORT=audit);
  debug    - debug-level lines (journal priority 7), or `creativeflow.ai/log-retention: debug`;
  standard - everything else.

Go templates for the agents' template stages are written with [[ ]] and turned into {{ }} here,
so Helm does not evaluate them.
*/}}

{{/* Whether the agent named by the argument (dict "ctx" . "agent" "promtail") renders: global.logs.agent names it. */}}
{{- define "creativeflow.logs.selected" -}}
{{- $logs := (.ctx.Values.global | default dict).logs | default dict -}}
{{- if eq ($logs.agent | default "alloy") .agent }}true{{ end -}}
{{- end -}}

{{/*
Where the agent pushes: the override (an external Loki), else this release's Loki Service.
Argument: dict "ctx" (root context) "url" (the agent's loki.url value).
*/}}
{{- define "creativeflow.logs.pushUrl" -}}
{{- if .url -}}
{{- .url -}}
{{- else -}}
{{- printf "http://%s-loki.%s.svc:3100/loki/api/v1/push" .ctx.Release.Name .ctx.Release.Namespace -}}
{{- end -}}
{{- end -}}

{{/*
Pod security context of the agents: a non-root uid (global.logs.runAsUser) that reads the node's
logs through group ownership only (global.logs.supplementalGroups): containerd writes
every /var/log/pods log file root:root 0640 (group 0 reads them), and systemd grants the `adm` group
(gid 4 on Debian, Ubuntu and RHEL) read access to the journal through an ACL; a node image whose
journal is only `systemd-journal`-readable needs that group's gid added. Group 0 reaches nothing
else of the host: the container sees only these read-only mounts and its own state directory.

Why not DAC_READ_SEARCH instead: Kubernetes grants added capabilities to a non-root process only
through file capabilities on its binary (it sets no ambient capabilities), and the agents' images
carry none; the capability would need uid 0, which owns these files anyway.
*/}}
{{- define "creativeflow.logs.podSecurityContext" -}}
{{- $logs := (.Values.global | default dict).logs | default dict -}}
{{- $uid := int ($logs.runAsUser | default 10001) -}}
runAsNonRoot: true
runAsUser: {{ $uid }}
runAsGroup: {{ $uid }}
supplementalGroups: {{ toJson ($logs.supplementalGroups | default (list 0 4)) }}
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{/*
An init container that hands the agent's state directory on the node (positions, WAL) to its uid:
kubelet creates a DirectoryOrCreate hostPath root-owned, and a directory a root-running agent of
an earlier release filled is root-owned too. Root with CAP_CHOWN only, for one `chown -R`.
Argument: dict "ctx" (root context) "image" (the agent's image values) "dir" (mount path).
*/}}
{{- define "creativeflow.logs.stateOwnerInit" -}}
{{- $logs := (.ctx.Values.global | default dict).logs | default dict -}}
{{- $uid := int ($logs.runAsUser | default 10001) -}}
- name: state-owner
  image: "{{ .image.repository }}:{{ .image.tag }}"
  imagePullPolicy: {{ .image.pullPolicy }}
  command: [chown, -R, "{{ $uid }}:{{ $uid }}", {{ .dir | quote }}]
  resources:
    requests: {cpu: 10m, memory: 16Mi}
    limits: {memory: 64Mi}
  securityContext:
    runAsUser: 0
    runAsGroup: 0
    runAsNonRoot: false
    allowPrivilegeEscalation: false
    readOnlyRootFilesystem: true
    capabilities:
      drop: [ALL]
      add: [CHOWN]
  volumeMounts:
    - name: {{ .volume }}
      mountPath: {{ .dir }}
{{- end -}}

{{/* Levels normalised to debug|info|warn|error|fatal; anything else leaves the label unset. */}}
{{- define "creativeflow.logs.levelTemplate" -}}
[[ $l := lower (default "" .Value) ]][[ if has $l (list "trace" "debug") ]]debug[[ else if has $l (list "info" "information" "notice") ]]info[[ else if has $l (list "warn" "warning") ]]warn[[ else if has $l (list "error" "err") ]]error[[ else if has $l (list "fatal" "critical" "crit" "panic" "emerg" "emergency" "alert") ]]fatal[[ end ]]
{{- end -}}

{{/* The retention class of a line: .Value is the pod's class (from relabelling), .level the normalised level. */}}
{{- define "creativeflow.logs.retentionTemplate" -}}
[[ if or (eq (default "" .log_type) "audit") (eq (default "" .Value) "audit") ]]audit[[ else if eq (default "" .level) "debug" ]]debug[[ else ]][[ default "standard" .Value ]][[ end ]]
{{- end -}}

{{/*
Relabelling of a discovered pod into its stream labels. Argument: dict "job" (the job label)
"aiModels" (bool: the AI model job, which keeps only AI model pods and adds model_name and
model_version; the other job drops them, so no line is shipped twice).
*/}}
{{- define "creativeflow.logs.podRelabelRules" -}}
{{- $component := "__meta_kubernetes_pod_label_app_kubernetes_io_component" -}}
{{- $rules := list (dict "source_labels" (list $component) "regex" "ai-model" "action" (ternary "keep" "drop" .aiModels)) -}}
{{- $rules = concat $rules (list
    (dict "source_labels" (list "__meta_kubernetes_namespace") "target_label" "namespace")
    (dict "source_labels" (list "__meta_kubernetes_pod_name") "target_label" "pod")
    (dict "source_labels" (list "__meta_kubernetes_pod_container_name") "target_label" "container")
    (dict "source_labels" (list "__meta_kubernetes_pod_node_name") "target_label" "node")
    (dict "source_labels" (list "__meta_kubernetes_pod_label_app") "target_label" "app")
    (dict "source_labels" (list "__meta_kubernetes_pod_label_app_kubernetes_io_name") "regex" "(.+)" "target_label" "app")
    (dict "target_label" "job" "replacement" .job)
    (dict "target_label" "retention" "replacement" "standard")
    (dict "source_labels" (list "__meta_kubernetes_pod_label_creativeflow_ai_log_retention") "regex" "(audit|debug|standard)" "target_label" "retention")
    (dict "source_labels" (list "__meta_kubernetes_pod_annotation_creativeflow_ai_log_retention") "regex" "(audit|debug|standard)" "target_label" "retention")
) -}}
{{- if .aiModels -}}
{{- $rules = concat $rules (list
    (dict "source_labels" (list "__meta_kubernetes_pod_label_ai_model_name") "target_label" "model_name")
    (dict "source_labels" (list "__meta_kubernetes_pod_label_ai_model_version") "target_label" "model_version")
) -}}
{{- end -}}
{{- /* The container's log files on this node: /var/log/pods/<namespace>_<pod>_<uid>/<container>/<restart>.log */ -}}
{{- $rules = append $rules (dict "source_labels" (list "__meta_kubernetes_pod_uid" "__meta_kubernetes_pod_container_name") "separator" "/" "target_label" "__path__" "replacement" "/var/log/pods/*$1/*.log") -}}
{{- toYaml (dict "rules" $rules) -}}
{{- end -}}

{{/* Relabelling of journal entries: unit, node, level from the syslog priority, retention. */}}
{{- define "creativeflow.logs.journalRelabelRules" -}}
{{- $rules := list
    (dict "source_labels" (list "__journal__systemd_unit") "target_label" "unit")
    (dict "source_labels" (list "__journal__hostname") "target_label" "node")
    (dict "source_labels" (list "__journal_priority") "regex" "[0-2]" "target_label" "level" "replacement" "fatal")
    (dict "source_labels" (list "__journal_priority") "regex" "3" "target_label" "level" "replacement" "error")
    (dict "source_labels" (list "__journal_priority") "regex" "4" "target_label" "level" "replacement" "warn")
    (dict "source_labels" (list "__journal_priority") "regex" "[5-6]" "target_label" "level" "replacement" "info")
    (dict "source_labels" (list "__journal_priority") "regex" "7" "target_label" "level" "replacement" "debug")
    (dict "target_label" "retention" "replacement" "standard")
    (dict "source_labels" (list "__journal_priority") "regex" "7" "target_label" "retention" "replacement" "debug")
    (dict "source_labels" (list "__journal__transport") "regex" "audit" "target_label" "retention" "replacement" "audit")
-}}
{{- toYaml (dict "rules" $rules) -}}
{{- end -}}

{{/*
The processing stages of pod lines, neutral form: one single-key mapping per stage. `labels`,
`structured_metadata` and `label_drop` take a list of names; `counter` is the line counter.
Argument: dict "aiModels" (bool) "outputMessage" (bool: replace the line with its JSON message).
*/}}
{{- define "creativeflow.logs.podStages" -}}
{{- $stages := list
    (dict "cri" dict)
    (dict "json" (dict "expressions" (dict
        "level" "level || severity || lvl"
        "message" "message || msg"
        "timestamp" "timestamp || time || ts"
        "traceID" "traceID || trace_id || traceId"
        "spanID" "spanID || span_id || spanId"
        "log_type" "log_type")))
    (dict "template" (dict "source" "level" "template" (include "creativeflow.logs.levelTemplate" . | replace "[[" "{{" | replace "]]" "}}")))
    (dict "labels" (list "level"))
    (dict "timestamp" (dict "source" "timestamp" "format" "RFC3339Nano" "fallback_formats" (list "RFC3339") "action_on_failure" "skip"))
    (dict "structured_metadata" (list "traceID" "spanID"))
    (dict "template" (dict "source" "retention" "template" (include "creativeflow.logs.retentionTemplate" . | replace "[[" "{{" | replace "]]" "}}")))
    (dict "labels" (list "retention"))
    (dict "label_drop" (list "filename"))
-}}
{{- if .aiModels -}}
{{- /* Model-event parsing of the AI model logs; both fields are unbounded or model-defined: metadata, not labels. */ -}}
{{- $stages = concat $stages (list
    (dict "json" (dict "expressions" (dict "model_event" "event_type" "inference_id" "inference_id || id")))
    (dict "structured_metadata" (list "inference_id" "model_event"))
) -}}
{{- end -}}
{{- $stages = append $stages (dict "counter" (include "creativeflow.logs.counter" . | fromYaml)) -}}
{{- if .outputMessage -}}
{{- $stages = append $stages (dict "output" (dict "source" "message")) -}}
{{- end -}}
{{- toYaml (dict "stages" $stages) -}}
{{- end -}}

{{/* Journal lines: labels come from relabelling; only the line counter runs on them. */}}
{{- define "creativeflow.logs.journalStages" -}}
{{- toYaml (dict "stages" (list (dict "counter" (include "creativeflow.logs.counter" . | fromYaml)))) -}}
{{- end -}}

{{/*
The line counter both agents export as creativeflow_log_lines_total (prefix + name), with the
stream's labels. A series idle for an hour goes away (pods come and go).
*/}}
{{- define "creativeflow.logs.counter" -}}
prefix: creativeflow_
name: log_lines_total
description: Log lines shipped to Loki, by stream labels.
max_idle_duration: 1h
{{- end -}}

{{/*
The agents' NetworkPolicy, on top of the stack's default deny (templates/networkpolicy.yaml, which
also allows DNS): scrapes of the metrics port from this release's Prometheus; pushes to this
release's Loki pods on 3100 (or, with loki.url set, to networkPolicy.lokiEgress); the Kubernetes
API server for pod discovery. CNIs that enforce policy on the API server by identity rather than
IP (Cilium's kube-apiserver entity) need their own rule for that egress.
Argument: dict "ctx" (the subchart's context) "name" "labels" "selectorLabels" (YAML strings) "port" (int).
*/}}
{{- define "creativeflow.logs.networkPolicy" -}}
{{- $v := .ctx.Values -}}
{{- $release := .ctx.Release.Name -}}
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: {{ .name }}
  namespace: {{ .ctx.Release.Namespace }}
  labels:
    {{- .labels | nindent 4 }}
spec:
  podSelector:
    matchLabels:
      {{- .selectorLabels | nindent 6 }}
  policyTypes: [Ingress, Egress]
  ingress:
    - from:
        - podSelector:
            matchLabels:
              app.kubernetes.io/name: prometheus
              app.kubernetes.io/instance: {{ $release }}
      ports:
        - {port: {{ .port }}, protocol: TCP}
  egress:
    {{- if $v.loki.url }}
    {{- toYaml $v.networkPolicy.lokiEgress | nindent 4 }}
    {{- else }}
    - to:
        - podSelector:
            matchLabels:
              app.kubernetes.io/name: loki
              app.kubernetes.io/instance: {{ $release }}
      ports:
        - {port: 3100, protocol: TCP}
    {{- end }}
    - ports:
        {{- range $v.networkPolicy.apiServerPorts }}
        - {port: {{ . }}, protocol: TCP}
        {{- end }}
      {{- with $v.networkPolicy.apiServerCIDRs }}
      to:
        {{- range . }}
        - ipBlock:
            cidr: {{ . }}
        {{- end }}
      {{- end }}
{{- end -}}
