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

{{/* tls_config of one remote write endpoint (its `tls` values). Argument: dict "name" "tls". */}}
{{- define "prometheus.remoteWriteTls" -}}
{{- $dir := printf "/etc/prometheus/secrets/remote-write-%s-tls" .name -}}
tls_config:
  {{- with .tls.existingSecret }}
  {{- if $.tls.caKey }}
  ca_file: {{ $dir }}/{{ $.tls.caKey }}
  {{- end }}
  {{- if $.tls.certKey }}
  cert_file: {{ $dir }}/{{ $.tls.certKey }}
  key_file: {{ $dir }}/{{ $.tls.keyKey | default "tls.key" }}
  {{- end }}
  {{- end }}
  {{- with .tls.serverName }}
  server_name: {{ . }}
  {{- end }}
  insecure_skip_verify: {{ .tls.insecureSkipVerify | default false }}
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
{{- end -}}
