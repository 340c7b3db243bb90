{{/*
Prometheus as a client of authenticated endpoints: Alertmanager (alerting and its scrape) and the
remote write receivers. Credentials and CAs come from existing Secrets mounted read-only under
/etc/prometheus/secrets/; the configs only name the files.
*/}}

{{/* Where the Alertmanager client Secret (password) and its CA are mounted. */}}
{{- define "prometheus.alertmanagerClientDir" -}}/etc/prometheus/secrets/alertmanager{{- end -}}

{{/* The name Alertmanager's certificate must carry (the Service of this release's Alertmanager). */}}
{{- define "prometheus.alertmanagerServerName" -}}
{{- printf "%s-alertmanager.%s.svc" .Release.Name .Release.Namespace -}}
{{- end -}}

{{/* scheme, basic_auth and tls_config towards this release's Alertmanager (alerting and scrape). */}}
{{- define "prometheus.alertmanagerClient" -}}
{{- $a := .Values.alerting -}}
{{- if $a.tls.enabled }}
scheme: https
{{- end }}
{{- include "creativeflow.httpClientConfig" (dict "auth" $a.basicAuth "tls" $a.tls "dir" (include "prometheus.alertmanagerClientDir" .) "serverName" (include "prometheus.alertmanagerServerName" .)) }}
{{- end -}}

{{/*
tls_config from a `tls` values block (remote write, exporter jobs): files of an existing Secret
mounted at `dir`; certKey/keyKey add a client certificate (mutual TLS). Argument: dict "dir" "tls".
*/}}
{{- define "prometheus.tlsFiles" -}}
tls_config:
  {{- if .tls.caKey }}
  ca_file: {{ .dir }}/{{ .tls.caKey }}
  {{- end }}
  {{- if .tls.certKey }}
  cert_file: {{ .dir }}/{{ .tls.certKey }}
  key_file: {{ .dir }}/{{ .tls.keyKey | default "tls.key" }}
  {{- end }}
  {{- with .tls.serverName }}
  server_name: {{ . }}
  {{- end }}
  insecure_skip_verify: {{ .tls.insecureSkipVerify | default false }}
{{- end -}}

{{/* tls_config of one remote write endpoint (its `tls` values). Argument: dict "name" "tls". */}}
{{- define "prometheus.remoteWriteTls" -}}
{{- include "prometheus.tlsFiles" (dict "dir" (printf "/etc/prometheus/secrets/remote-write-%s-tls" .name) "tls" .tls) -}}
{{- end -}}

{{/*
Exporter jobs scraped over (mutual) TLS: job name -> its `tls` values, for the jobs whose values
set tls.existingSecret (postgres, redis and RabbitMQ exporters; each supports a TLS web config).
*/}}
{{- define "prometheus.exporterTlsJobs" -}}
{{- $s := .Values.scrapeConfigs -}}
{{- $jobs := dict -}}
{{- if $s.databases.enabled -}}
{{- $_ := set $jobs "postgres-exporter" $s.databases.postgres -}}
{{- $_ := set $jobs "redis-exporter" $s.databases.redis -}}
{{- end -}}
{{- if $s.messageQueue.enabled -}}
{{- $_ := set $jobs "rabbitmq-exporter" $s.messageQueue.rabbitmq -}}
{{- end -}}
{{- $out := dict -}}
{{- range $job, $cfg := $jobs -}}
{{- if and $cfg.targetGroups $cfg.tls $cfg.tls.existingSecret -}}
{{- $_ := set $out $job $cfg.tls -}}
{{- end -}}
{{- end -}}
{{- toYaml $out -}}
{{- end -}}

{{/* Volume mounts of the client Secrets. Argument: the root context. */}}
{{- define "prometheus.clientSecretMounts" -}}
{{- $a := .Values.alerting -}}
{{- if and $a.enabled $a.basicAuth.enabled }}
- name: alertmanager-client
  mountPath: {{ include "prometheus.alertmanagerClientDir" . }}
  readOnly: true
{{- end }}
{{- if and $a.enabled $a.tls.enabled }}
- name: alertmanager-ca
  mountPath: {{ include "prometheus.alertmanagerClientDir" . }}-ca
  readOnly: true
{{- end }}
{{- range $name, $rw := .Values.remoteWrite }}
{{- if and $rw.tls $rw.tls.existingSecret }}
- name: remote-write-{{ $name }}-tls
  mountPath: /etc/prometheus/secrets/remote-write-{{ $name }}-tls
  readOnly: true
{{- end }}
{{- end }}
{{- include "creativeflow.parseOnce" (list $ "prometheusExporterTlsJobs" "prometheus.exporterTlsJobs") }}
{{- range $job, $_ := get $ "prometheusExporterTlsJobs" }}
- name: scrape-{{ $job }}-tls
  mountPath: /etc/prometheus/secrets/scrape-{{ $job }}-tls
  readOnly: true
{{- end }}
{{- end -}}

{{/* Volumes of the client Secrets. Argument: the root context. */}}
{{- define "prometheus.clientSecretVolumes" -}}
{{- $a := .Values.alerting -}}
{{- if and $a.enabled $a.basicAuth.enabled }}
- name: alertmanager-client
  secret:
    secretName: {{ required "prometheus.alerting.basicAuth.existingSecret: name the Secret with Prometheus' Alertmanager password (alerting.basicAuth.enabled is true)" $a.basicAuth.existingSecret }}
    defaultMode: 288  # 0440: owner and the fsGroup may read
    items:
      - {key: {{ $a.basicAuth.passwordKey }}, path: {{ $a.basicAuth.passwordKey }}}
{{- end }}
{{- if and $a.enabled $a.tls.enabled }}
- name: alertmanager-ca
  secret:
    secretName: {{ required "prometheus.alerting.tls.caSecret: name the Secret with the CA of Alertmanager's certificate (alerting.tls.enabled is true)" $a.tls.caSecret }}
    defaultMode: 288  # 0440: owner and the fsGroup may read
    items:
      - {key: {{ $a.tls.caKey }}, path: {{ $a.tls.caKey }}}
{{- end }}
{{- range $name, $rw := .Values.remoteWrite }}
{{- if and $rw.tls $rw.tls.existingSecret }}
- name: remote-write-{{ $name }}-tls
  secret:
    secretName: {{ $rw.tls.existingSecret }}
    # A missing Secret stops this remote write, not the whole Prometheus.
    optional: true
    defaultMode: 288  # 0440: owner and the fsGroup may read
{{- end }}
{{- end }}
{{- include "creativeflow.parseOnce" (list $ "prometheusExporterTlsJobs" "prometheus.exporterTlsJobs") }}
{{- range $job, $tls := get $ "prometheusExporterTlsJobs" }}
- name: scrape-{{ $job }}-tls
  secret:
    secretName: {{ $tls.existingSecret }}
    # A missing Secret fails this one job (its targets go down), not the whole Prometheus.
    optional: true
    defaultMode: 288  # 0440: owner and the fsGroup may read
{{- end }}
{{- end -}}
