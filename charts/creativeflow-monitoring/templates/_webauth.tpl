{{/*
Authenticated web endpoints: the exporter-toolkit web config (--web.config.file) that Prometheus and
Alertmanager share, and the client side every component of this release uses to reach them.

The server side is split in two because exporter-toolkit reads one file and has no include:
- what is not secret (TLS files, security headers) is rendered into a ConfigMap here, so the render
  shows it and tests start the real servers with it;
- the bcrypt hashes (`basic_auth_users:`) come from an existing Secret, never from values.
An init container checks the hashes and joins the two into an emptyDir the server reads.

Paths, per component (`prometheus` or `alertmanager`):
  /etc/<c>/web-template/web-config.yml  the rendered part (ConfigMap <fullname>-web-config)
  /etc/<c>/web-auth/                    the Secret webConfig.existingSecret (hashes, client passwords)
  /etc/<c>/web-tls/{tls.crt,tls.key,ca.crt}  the Secret webConfig.tls.existingSecret
  /etc/<c>/web-config/web-config.yml    the joined file (--web.config.file)
*/}}

{{/* Base directory of a component's web files. Argument: the component name. */}}
{{- define "creativeflow.webDir" -}}/etc/{{ . }}{{- end -}}

{{/*
The rendered part of the web config. Argument: dict "component" "web" (the component's webConfig values).
*/}}
{{- define "creativeflow.webConfigTemplate" -}}
{{- $dir := include "creativeflow.webDir" .component -}}
# Rendered by the creativeflow-monitoring chart. The init container appends `basic_auth_users`
# (bcrypt hashes) from the Secret {{ .web.existingSecret }}, key {{ .web.usersKey }}.
{{- if .web.tls.enabled }}
tls_server_config:
  cert_file: {{ $dir }}/web-tls/tls.crt
  key_file: {{ $dir }}/web-tls/tls.key
  min_version: TLS12
{{- end }}
http_server_config:
  headers:
    X-Content-Type-Options: nosniff
    X-Frame-Options: deny
    {{- if .web.tls.enabled }}
    Strict-Transport-Security: max-age=31536000
    {{- end }}
{{- end -}}

{{/*
The init container that refuses a users file holding anything but bcrypt hashes (a plain-text
password there would lock every client out, silently) and writes the joined web config.
Argument: dict "component" "web" "image" (the component's image values) "secretName".
*/}}
{{- define "creativeflow.webConfigInit" -}}
{{- $dir := include "creativeflow.webDir" .component -}}
- name: web-config
  image: "{{ .image.repository }}:{{ .image.tag }}"
  imagePullPolicy: {{ .image.pullPolicy }}
  command: [/bin/sh, -c]
  args:
    - |
      set -eu
      users={{ $dir }}/web-auth/{{ .web.usersKey }}
      # Allowed lines: `basic_auth_users:`, blank or comment lines, `  name: <bcrypt hash>`.
      hash='["'"'"']?[$]2[aby]?[$][0-9][0-9][$][./A-Za-z0-9]{53}["'"'"']?'
      if grep -Evq "^(basic_auth_users:[[:space:]]*|[[:space:]]*(#.*)?|[[:space:]]+[^:#[:space:]]+:[[:space:]]*$hash[[:space:]]*)$" "$users"; then
        echo "Secret {{ .web.existingSecret }}, key {{ .web.usersKey }} ({{ .component }}.webConfig.usersKey): every basic_auth_users entry must be a bcrypt hash (htpasswd -nBC 10 USER); found another line" >&2
        exit 1
      fi
      grep -q '^basic_auth_users:' "$users" || { echo "Secret {{ .web.existingSecret }}, key {{ .web.usersKey }}: no basic_auth_users: line" >&2; exit 1; }
      cat {{ $dir }}/web-template/web-config.yml "$users" > {{ $dir }}/web-config/web-config.yml
  resources:
    requests: {cpu: 10m, memory: 16Mi}
    limits: {memory: 32Mi}
  securityContext:
    {{- include "creativeflow.containerSecurityContext" . | nindent 4 }}
  volumeMounts:
    - name: web-template
      mountPath: {{ $dir }}/web-template
      readOnly: true
    - name: web-auth
      mountPath: {{ $dir }}/web-auth
      readOnly: true
    - name: web-config
      mountPath: {{ $dir }}/web-config
{{- end -}}

{{/* The server's volume mounts for its web files. Argument: dict "component" "web". */}}
{{- define "creativeflow.webVolumeMounts" -}}
{{- $dir := include "creativeflow.webDir" .component -}}
- name: web-config
  mountPath: {{ $dir }}/web-config
  readOnly: true
- name: web-auth
  mountPath: {{ $dir }}/web-auth
  readOnly: true
{{- if .web.tls.enabled }}
- name: web-tls
  mountPath: {{ $dir }}/web-tls
  readOnly: true
{{- end }}
{{- end -}}

{{/* The server's volumes for its web files. Argument: dict "component" "web" "fullname". */}}
{{- define "creativeflow.webVolumes" -}}
- name: web-template
  configMap:
    name: {{ .fullname }}-web-config
- name: web-auth
  secret:
    secretName: {{ required (printf "%s.webConfig.existingSecret: name the Secret with basic_auth_users (bcrypt hashes); webConfig.enabled is true" .component) .web.existingSecret }}
    defaultMode: 288  # 0440: owner and the fsGroup may read
- name: web-config
  emptyDir:
    medium: Memory
    sizeLimit: 1Mi
{{- if .web.tls.enabled }}
- name: web-tls
  secret:
    secretName: {{ required (printf "%s.webConfig.tls.existingSecret: name the certificate Secret (tls.crt, tls.key, ca.crt); webConfig.tls.enabled is true" .component) .web.tls.existingSecret }}
    defaultMode: 288  # 0440: owner and the fsGroup may read
    items:
      - {key: tls.crt, path: tls.crt}
      - {key: tls.key, path: tls.key}
      - {key: ca.crt, path: ca.crt}
{{- end }}
{{- end -}}

{{/*
Probes of a server behind the web config. Every path needs the password (the kubelet has none, and
an Authorization header in the pod spec would put the credential in the manifest), so they check
the TCP port: the listener is up, not that Prometheus finished replaying its WAL.
Argument: dict "enabled" (webConfig.enabled) "ready" "healthy" (paths) "liveness" (extra liveness fields, dict).
*/}}
{{- define "creativeflow.webProbes" -}}
{{- if .enabled }}
readinessProbe:
  tcpSocket:
    port: http
  periodSeconds: 10
livenessProbe:
  tcpSocket:
    port: http
  periodSeconds: 30
  failureThreshold: 6
{{- else }}
readinessProbe:
  httpGet:
    path: {{ .ready }}
    port: http
  periodSeconds: 10
livenessProbe:
  httpGet:
    path: {{ .healthy }}
    port: http
  periodSeconds: 30
  failureThreshold: 6
{{- end }}
{{- end -}}

{{/*
A Prometheus-format HTTP client block (basic_auth, tls_config) for a client of this release's
authenticated servers. Argument: dict "auth" (basicAuth values: enabled, username, passwordKey)
"tls" (tls values: enabled, caKey, serverName) "dir" (where its Secret is mounted) "serverName" (default).
*/}}
{{- define "creativeflow.httpClientConfig" -}}
{{- if .auth.enabled }}
basic_auth:
  username: {{ .auth.username | quote }}
  password_file: {{ .dir }}/{{ .auth.passwordKey }}
{{- end }}
{{- if .tls.enabled }}
tls_config:
  ca_file: {{ .dir }}-ca/{{ .tls.caKey }}
  server_name: {{ .tls.serverName | default .serverName }}
{{- end }}
{{- end -}}

{{/*
Clients and servers agree: auth or TLS on at a server and off at one of its clients in this release
(or the other way round) is refused here, naming both values keys. Argument: the umbrella's root context.
*/}}
{{- define "creativeflow.validateWebAuth" -}}
{{- $v := .Values -}}
{{- $pairs := list -}}
{{- if and $v.prometheus.enabled $v.grafana.enabled -}}
{{- $pairs = append $pairs (list "prometheus" $v.prometheus.webConfig "grafana.datasources.prometheus" $v.grafana.datasources.prometheus) -}}
{{- end -}}
{{- if and $v.alertmanager.enabled $v.grafana.enabled $v.grafana.datasources.alertmanager.enabled -}}
{{- $pairs = append $pairs (list "alertmanager" $v.alertmanager.webConfig "grafana.datasources.alertmanager" $v.grafana.datasources.alertmanager) -}}
{{- end -}}
{{- if and $v.alertmanager.enabled $v.prometheus.enabled $v.prometheus.alerting.enabled -}}
{{- $pairs = append $pairs (list "alertmanager" $v.alertmanager.webConfig "prometheus.alerting" $v.prometheus.alerting) -}}
{{- end -}}
{{- range $pairs -}}
{{- $server := index . 0 -}}{{- $web := index . 1 -}}{{- $client := index . 2 -}}{{- $c := index . 3 -}}
{{- if ne (toString $web.enabled) (toString $c.basicAuth.enabled) -}}
{{- fail (printf "%s.basicAuth.enabled is %v but %s.webConfig.enabled is %v: set both (the client must send exactly what the server asks for)" $client $c.basicAuth.enabled $server $web.enabled) -}}
{{- end -}}
{{- if ne (toString (and $web.enabled $web.tls.enabled)) (toString $c.tls.enabled) -}}
{{- fail (printf "%s.tls.enabled is %v but %s.webConfig.tls.enabled is %v: set both (https on one side and http on the other fails every request)" $client $c.tls.enabled $server (and $web.enabled $web.tls.enabled)) -}}
{{- end -}}
{{- if and $c.tls.enabled (eq $c.tls.caSecret $web.tls.existingSecret) (ne $c.tls.caKey "ca.crt") -}}
{{- fail (printf "%s.tls.caKey: %q is not a key of the certificate Secret %s as %s.webConfig.tls uses it (tls.crt, tls.key, ca.crt): use ca.crt" $client $c.tls.caKey $web.tls.existingSecret $server) -}}
{{- end -}}
{{- end -}}
{{- end -}}
