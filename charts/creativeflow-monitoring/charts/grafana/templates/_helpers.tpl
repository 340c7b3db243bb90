{{/* Name of the objects of this component. */}}
{{- define "grafana.fullname" -}}
{{- printf "%s-grafana" .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Labels on every object. */}}
{{- define "grafana.labels" -}}
{{ include "grafana.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/part-of: creativeflow-monitoring
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{/* Labels that select the pods; never change them after the first release. */}}
{{- define "grafana.selectorLabels" -}}
app.kubernetes.io/name: grafana
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{/* Where the mounted Secrets' files are; grafana.ini reads them with $__file{}. */}}
{{- define "grafana.secretsDir" -}}/etc/grafana/secrets{{- end -}}

{{/*
URL of a sibling component's Service in this release. Argument: dict "ctx" (root context)
"name" (component) "port" (int) "url" (override from values; used as is when not empty) and optionally "scheme" (default http).
*/}}
{{- define "grafana.componentUrl" -}}
{{- if .url -}}
{{- .url -}}
{{- else -}}
{{- printf "%s://%s-%s.%s.svc:%d" (.scheme | default "http") .ctx.Release.Name .name .ctx.Release.Namespace (int .port) -}}
{{- end -}}
{{- end -}}

{{/* The URL users reach Grafana at: rootUrl, else global.grafanaUrl (where alert links point). */}}
{{- define "grafana.rootUrl" -}}
{{- .Values.rootUrl | default (dig "grafanaUrl" "" (.Values.global | default dict)) -}}
{{- end -}}

{{/*
Values that cannot be combined; each failure names the key to change.
*/}}
{{- define "grafana.validate" -}}
{{- $v := .Values -}}
{{- if not (include "grafana.rootUrl" .) -}}
{{- fail "global.grafanaUrl: set the URL users reach Grafana at (per environment, e.g. https://grafana.dev.creativeflow.ai); grafana.rootUrl overrides it for Grafana alone" -}}
{{- end -}}
{{- if and (gt (int $v.replicas) 1) (ne $v.database.type "postgres") -}}
{{- fail "grafana.replicas: more than one replica needs database.type postgres (each replica would keep its own sqlite database)" -}}
{{- end -}}
{{- if and $v.persistence.enabled (gt (int $v.replicas) 1) -}}
{{- fail "grafana.persistence.enabled: a ReadWriteOnce volume cannot be shared by several replicas; use database.type postgres without persistence" -}}
{{- end -}}
{{- if and $v.alerting.executeRules (gt (int $v.replicas) 1) -}}
{{- fail "grafana.alerting.executeRules: evaluating Grafana-managed rules on several replicas would notify once per replica; keep it false (Prometheus evaluates the rules)" -}}
{{- end -}}
{{- if eq $v.database.type "postgres" -}}
{{- if not $v.database.host -}}
{{- fail "grafana.database.host: name the PostgreSQL host when database.type is postgres" -}}
{{- end -}}
{{- if and .Values.global.networkPolicy.enabled (not $v.database.networkPolicyPeers) -}}
{{- fail "grafana.database.networkPolicyPeers: say where the database runs (NetworkPolicyPeer list) so the NetworkPolicy lets Grafana reach it" -}}
{{- end -}}
{{- end -}}
{{- if $v.oauth.enabled -}}
{{- range $key := list "clientId" "authUrl" "tokenUrl" "apiUrl" -}}
{{- if not (get $v.oauth $key) -}}
{{- fail (printf "grafana.oauth.%s: required when oauth.enabled is true" $key) -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- if $v.datasources.tracing.enabled -}}
{{- if not $v.datasources.tracing.url -}}
{{- fail "grafana.datasources.tracing.url: the query URL of the tracing backend is required when tracing is enabled" -}}
{{- end -}}
{{- if and .Values.global.networkPolicy.enabled (not $v.datasources.tracing.networkPolicyPeers) -}}
{{- fail "grafana.datasources.tracing.networkPolicyPeers: say where the tracing backend runs so the NetworkPolicy lets Grafana reach it" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/*
grafana.ini as {section: {key: value}}: the chart's settings, then extraIni over them.
*/}}
{{- define "grafana.iniSections" -}}
{{- $v := .Values -}}
{{- $s := include "grafana.secretsDir" . -}}
{{- $ini := dict -}}
{{- $_ := set $ini "paths" (dict "data" "/var/lib/grafana" "logs" "/var/lib/grafana/log" "plugins" "/var/lib/grafana/plugins" "provisioning" "/etc/grafana/provisioning" "temp_data_lifetime" "24h") -}}
{{- $_ := set $ini "server" (dict "protocol" "http" "http_port" 3000 "root_url" (include "grafana.rootUrl" .) "enable_gzip" true) -}}
{{- $_ := set $ini "log" (dict "mode" "console" "level" "info") -}}
{{- /* /metrics for this release's Prometheus (the NetworkPolicy admits it on 3000). */ -}}
{{- $_ := set $ini "metrics" (dict "enabled" true) -}}
{{- $security := dict
    "admin_user" (printf "$__file{%s/admin-user}" $s)
    "admin_password" (printf "$__file{%s/admin-password}" $s)
    "cookie_secure" $v.security.cookieSecure
    "cookie_samesite" $v.security.cookieSameSite
    "disable_gravatar" true
    "allow_embedding" false
    "strict_transport_security" $v.security.cookieSecure
    "content_type_protection" true
    "x_xss_protection" true
-}}
{{- if $v.security.secretKeyKey -}}
{{- $_ := set $security "secret_key" (printf "$__file{%s/secret-key}" $s) -}}
{{- end -}}
{{- $_ := set $ini "security" $security -}}
{{- $_ := set $ini "users" (dict "allow_sign_up" false "allow_org_create" false "auto_assign_org" true "auto_assign_org_role" "Viewer") -}}
{{- $_ := set $ini "auth" (dict "disable_login_form" false "oauth_auto_login" (and $v.oauth.enabled $v.oauth.autoLogin)) -}}
{{- $_ := set $ini "auth.anonymous" (dict "enabled" false) -}}
{{- $_ := set $ini "auth.basic" (dict "enabled" true) -}}
{{- $_ := set $ini "analytics" (dict "reporting_enabled" false "check_for_updates" false "check_for_plugin_updates" false "feedback_links_enabled" false) -}}
{{- $_ := set $ini "news" (dict "news_feed_enabled" false) -}}
{{- $_ := set $ini "snapshots" (dict "external_enabled" false) -}}
{{- /* No egress to grafana.com: plugins come with the image, none is downloaded at start. */ -}}
{{- $_ := set $ini "plugins" (dict "preinstall_disabled" true "plugin_admin_enabled" false) -}}
{{- $_ := set $ini "unified_alerting" (dict "enabled" $v.alerting.ui "execute_alerts" $v.alerting.executeRules) -}}
{{- if eq $v.database.type "postgres" -}}
{{- $_ := set $ini "database" (dict
    "type" "postgres"
    "host" (printf "%s:%d" $v.database.host (int $v.database.port))
    "name" $v.database.name
    "user" $v.database.user
    "password" (printf "$__file{%s/database-password}" $s)
    "ssl_mode" $v.database.sslMode
) -}}
{{- else -}}
{{- $_ := set $ini "database" (dict "type" "sqlite3" "path" "grafana.db" "wal" true) -}}
{{- end -}}
{{- if $v.oauth.enabled -}}
{{- $_ := set $ini "auth.generic_oauth" (dict
    "enabled" true
    "name" $v.oauth.name
    "client_id" $v.oauth.clientId
    "client_secret" (printf "$__file{%s/oauth-client-secret}" $s)
    "auth_url" $v.oauth.authUrl
    "token_url" $v.oauth.tokenUrl
    "api_url" $v.oauth.apiUrl
    "scopes" $v.oauth.scopes
    "allowed_domains" $v.oauth.allowedDomains
    "role_attribute_path" $v.oauth.roleAttributePath
    "allow_sign_up" $v.oauth.allowSignUp
    "use_pkce" true
) -}}
{{- end -}}
{{- range $section, $keys := $v.extraIni -}}
{{- $_ := set $ini $section (merge (deepCopy $keys) (get $ini $section | default dict)) -}}
{{- end -}}
{{- toYaml $ini -}}
{{- end -}}

{{/* grafana.ini text: sections and keys in name order, so the same values give the same bytes. */}}
{{- define "grafana.ini" -}}
{{- $ini := include "grafana.iniSections" . | fromYaml -}}
{{- range $section := keys $ini | sortAlpha }}
[{{ $section }}]
{{- $keys := get $ini $section }}
{{- range $key := keys $keys | sortAlpha }}
{{ $key }} = {{ get $keys $key }}
{{- end }}
{{ end -}}
{{- end -}}

{{/*
The dashboard files generated into files/dashboards/<folder>/<uid>.json (files directly under
files/dashboards/ go to Grafana's General folder), each with the name of its ConfigMap. Returns
YAML {files: [{path, folder, file, name}]} in path order.
*/}}
{{- define "grafana.dashboardFiles" -}}
{{- $fullname := include "grafana.fullname" . -}}
{{- $seen := dict -}}
{{- $out := list -}}
{{- range $path, $_ := .Files.Glob "files/dashboards/**.json" -}}
{{- $parts := splitList "/" (trimPrefix "files/dashboards/" $path) -}}
{{- if gt (len $parts) 2 -}}
{{- fail (printf "%s: dashboards go one folder deep (files/dashboards/<folder>/<uid>.json)" $path) -}}
{{- end -}}
{{- $file := last $parts -}}
{{- $folder := ternary (first $parts) "" (eq (len $parts) 2) -}}
{{- if not (regexMatch "^[-._a-zA-Z0-9]+$" $file) -}}
{{- fail (printf "%s: a dashboard file name may hold only letters, digits, '-', '_' and '.'" $path) -}}
{{- end -}}
{{- $slug := regexReplaceAll "[^a-z0-9]+" (lower (join "-" (compact (list $folder (trimSuffix ".json" $file))))) "-" | trimAll "-" -}}
{{- $name := printf "%s-dashboard-%s" $fullname $slug | trunc 253 | trimSuffix "-" -}}
{{- if hasKey $seen $name -}}
{{- fail (printf "%s: its ConfigMap name %s is already taken by %s; rename one of the files" $path $name (get $seen $name)) -}}
{{- end -}}
{{- $_ := set $seen $name $path -}}
{{- $out = append $out (dict "path" $path "folder" $folder "file" $file "name" $name) -}}
{{- end -}}
{{- toYaml (dict "files" $out) -}}
{{- end -}}

{{/*
Basic auth and TLS of a datasource towards this release's Prometheus or Alertmanager: credentials
read from the mounted Secrets with $__file{} (Grafana expands it in provisioning files), never
values. Argument: dict "ds" (the datasource dict, changed in place) "name" (prometheus|alertmanager)
"values" (its datasources.<name> values) "ctx" (root context).
*/}}
{{- define "grafana.datasourceAuth" -}}
{{- $dir := include "grafana.secretsDir" .ctx -}}
{{- $secure := dict -}}
{{- with .values.basicAuth -}}
{{- if .enabled -}}
{{- $_ := set $.ds "basicAuth" true -}}
{{- $_ := set $.ds "basicAuthUser" .username -}}
{{- $_ := set $secure "basicAuthPassword" (printf "$__file{%s/datasource-%s-password}" $dir $.name) -}}
{{- end -}}
{{- end -}}
{{- with .values.tls -}}
{{- if .enabled -}}
{{- $_ := set $.ds.jsonData "tlsAuthWithCACert" true -}}
{{- $_ := set $.ds.jsonData "serverName" (.serverName | default (printf "%s-%s.%s.svc" $.ctx.Release.Name $.name $.ctx.Release.Namespace)) -}}
{{- $_ := set $secure "tlsCACert" (printf "$__file{%s/datasource-%s-ca.crt}" $dir $.name) -}}
{{- end -}}
{{- end -}}
{{- if $secure -}}
{{- $_ := set .ds "secureJsonData" $secure -}}
{{- end -}}
{{- end -}}

{{/* Projected sources of the datasource credentials. Argument: the root context. */}}
{{- define "grafana.datasourceSecretSources" -}}
{{- range $name := list "prometheus" "alertmanager" -}}
{{- $v := get $.Values.datasources $name -}}
{{- if or (eq $name "prometheus") $v.enabled -}}
{{- if $v.basicAuth.enabled }}
- secret:
    name: {{ $v.basicAuth.existingSecret }}
    items:
      - key: {{ $v.basicAuth.passwordKey }}
        path: datasource-{{ $name }}-password
{{- end }}
{{- if $v.tls.enabled }}
- secret:
    name: {{ $v.tls.caSecret }}
    items:
      - key: {{ $v.tls.caKey }}
        path: datasource-{{ $name }}-ca.crt
{{- end }}
{{- end -}}
{{- end -}}
{{- end -}}
