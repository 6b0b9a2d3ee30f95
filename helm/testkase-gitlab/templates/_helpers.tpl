{{/* Common labels. */}}
{{- define "tk.labels" -}}
app.kubernetes.io/part-of: testkase-gitlab
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{/* Selector labels of one app: (dict "root" $ "name" $name). */}}
{{- define "tk.selector" -}}
app.kubernetes.io/name: {{ .name }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
{{- end -}}

{{/* Labels every pod of the release carries (NetworkPolicy peers). */}}
{{- define "tk.releaseSelector" -}}
app.kubernetes.io/part-of: testkase-gitlab
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "tk.resourceName" -}}
{{- printf "%s-%s" .root.Release.Name .name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/*
One image for all apps (deploy/Dockerfile); the chart picks the app with the container's command.
*/}}
{{- define "tk.image" -}}
{{- /* One image for every app (deploy/Dockerfile): the container command picks the app. */ -}}
{{- printf "%s:%s" .root.Values.image.repository (.root.Values.image.tag | default .root.Chart.AppVersion) -}}
{{- end -}}

{{- define "tk.secretName" -}}
{{- if .Values.secrets.create -}}
{{- printf "%s-secrets" .Release.Name -}}
{{- else -}}
{{- required "secrets.existingSecret is required when secrets.create is false" .Values.secrets.existingSecret -}}
{{- end -}}
{{- end -}}

{{/* The Secret key of an app's DATABASE_URL: (dict "root" $ "name" $name). */}}
{{- define "tk.databaseUrlKey" -}}
{{- $keys := .root.Values.secrets.keys | default dict -}}
{{- index ($keys.databaseUrlKeys | default dict) .name | default (printf ($keys.databaseUrl | default "database-url-%s") .name) -}}
{{- end -}}

{{/* ServiceAccount of one app: (dict "root" $ "name" $name). */}}
{{- define "tk.serviceAccountName" -}}
{{- if .root.Values.serviceAccount.create -}}
{{- include "tk.resourceName" . -}}
{{- else -}}
default
{{- end -}}
{{- end -}}

{{/* "true" when an autoscaler (HPA or KEDA) sets the app's replicas: (dict "root" $ "name" $name). */}}
{{- define "tk.autoscaled" -}}
{{- $as := .root.Values.autoscaling -}}
{{- if and (eq .name "webhook-gateway") $as.gateway.enabled -}}
true
{{- else if and $as.keda.enabled (index ($as.keda.consumers | default dict) .name) -}}
true
{{- end -}}
{{- end -}}

{{/*
NATS connection and JETSTREAM_* settings: (dict "root" $ "name" $name "manage" bool "credsKey" key).
*/}}
{{- define "tk.natsEnv" -}}
{{- $root := .root -}}
{{- $cfg := $root.Values.config -}}
{{- $js := $root.Values.jetstream -}}
- name: NATS_URL
  value: {{ $cfg.natsUrl | quote }}
- name: NATS_PREFIX
  value: {{ $cfg.natsPrefix | default "" | quote }}
{{- if $root.Values.nats.credsSecret }}
- name: NATS_CREDS_FILE
  value: {{ printf "/var/run/secrets/nats/%s" (.credsKey | default (printf "%s.creds" .name)) | quote }}
{{- end }}
{{- if $root.Values.nats.tlsCaSecret }}
- name: NATS_TLS_CA_FILE
  value: /var/run/secrets/nats-ca/ca.crt
{{- end }}
- name: JETSTREAM_REPLICAS
  value: {{ $js.replicas | quote }}
- name: JETSTREAM_MAX_BYTES
  value: {{ $js.maxBytes | int64 | quote }}
{{- if $js.maxAge }}
- name: JETSTREAM_MAX_AGE
  value: {{ $js.maxAge | quote }}
{{- end }}
- name: JETSTREAM_MANAGE
  value: {{ .manage | quote }}
{{- end -}}

{{/* extraEnv of the chart and of the app, after the chart's own: (dict "root" $ "app" $app). */}}
{{- define "tk.extraEnv" -}}
{{- with .root.Values.extraEnv }}
{{ toYaml . }}
{{- end }}
{{- with (.app).extraEnv }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/* envFrom of the chart and of the app, when any: (dict "root" $ "app" $app). */}}
{{- define "tk.envFrom" -}}
{{- $all := concat (.root.Values.envFrom | default list) ((.app).envFrom | default list) -}}
{{- if $all -}}
envFrom:
  {{- toYaml $all | nindent 2 }}
{{- end -}}
{{- end -}}

{{/* Scheduling of one app's pods: (dict "root" $ "name" $name). */}}
{{- define "tk.placement" -}}
{{- $root := .root -}}
{{- $ctx := . -}}
{{- with $root.Values.topologySpreadConstraints }}
topologySpreadConstraints:
  {{- range . }}
  - {{- toYaml (omit . "labelSelector") | nindent 4 }}
    labelSelector:
      {{- if .labelSelector }}
      {{- toYaml .labelSelector | nindent 6 }}
      {{- else }}
      matchLabels:
        {{- include "tk.selector" $ctx | nindent 8 }}
      {{- end }}
  {{- end }}
{{- end }}
{{- with $root.Values.affinity }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with $root.Values.nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with $root.Values.tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with $root.Values.priorityClassName }}
priorityClassName: {{ . }}
{{- end }}
{{- end -}}

{{/*
Environment of one app: (dict "root" $ "name" $name "app" $app). The names are exactly those the
app's config class reads (apps/<app>/.env.example); nothing else.
*/}}
{{- define "tk.env" -}}
{{- $root := .root -}}
{{- $cfg := $root.Values.config -}}
{{- $keys := $root.Values.secrets.keys | default dict -}}
- name: PORT
  value: {{ .app.port | quote }}
- name: HOST
  value: "0.0.0.0"
{{- if .app.grpcPort }}
- name: GRPC_PORT
  value: {{ .app.grpcPort | quote }}
{{- if ($root.Values.grpc).tlsSecret }}
- name: GRPC_TLS_CERT_FILE
  value: /var/run/secrets/grpc-tls/tls.crt
- name: GRPC_TLS_KEY_FILE
  value: /var/run/secrets/grpc-tls/tls.key
{{- end }}
{{- end }}
- name: LOG_LEVEL
  value: {{ $cfg.logLevel | quote }}
- name: API_DOCS
  value: {{ $cfg.apiDocs | default false | quote }}
- name: TRUST_PROXY
  value: {{ if kindIs "slice" $cfg.trustProxy }}{{ join "," $cfg.trustProxy | quote }}{{ else }}{{ $cfg.trustProxy | default false | quote }}{{ end }}
- name: DATABASE_URL
  valueFrom:
    secretKeyRef:
      name: {{ include "tk.secretName" $root }}
      key: {{ include "tk.databaseUrlKey" . }}
{{ include "tk.natsEnv" (dict "root" $root "name" .name "manage" (ne ($root.Values.jetstream).manage "job")) }}
{{- if $cfg.otelExporterOtlpEndpoint }}
- name: OTEL_EXPORTER_OTLP_ENDPOINT
  value: {{ $cfg.otelExporterOtlpEndpoint | quote }}
{{- end }}
# The admin API (docs/ADMIN-API.md): off (404) while the Secret has no such key.
- name: ADMIN_API_TOKEN
  valueFrom:
    secretKeyRef:
      name: {{ include "tk.secretName" $root }}
      key: {{ $keys.adminApiToken | default "admin-api-token" }}
      optional: true
{{- if ne .name "webhook-gateway" }}
- name: CORE_API_TOKEN
  valueFrom:
    secretKeyRef:
      name: {{ include "tk.secretName" $root }}
      key: {{ $keys.coreApiToken | default "core-api-token" }}
- name: GITLAB_ALLOWED_HOSTS
  value: {{ join "," ($cfg.gitlabAllowedHosts | default list) | quote }}
- name: GITLAB_ALLOW_PRIVATE_NETWORK
  value: {{ $cfg.gitlabAllowPrivateNetwork | default false | quote }}
{{- end }}
{{- if eq .name "connection-service" }}
- name: TOKEN_ENCRYPTION_KEYS
  valueFrom:
    secretKeyRef:
      name: {{ include "tk.secretName" $root }}
      key: {{ $keys.tokenEncryptionKeys | default "token-encryption-keys" }}
- name: PUBLIC_WEBHOOK_BASE_URL
  value: {{ $cfg.publicWebhookBaseUrl | quote }}
{{- end }}
{{- if eq .name "requirement-sync" }}
- name: RECONCILE_INTERVAL
  value: {{ $cfg.reconcileInterval | default "5m" | quote }}
{{- end }}
{{- range $key, $value := .app.env }}
- name: {{ $key }}
  value: {{ $value | quote }}
{{- end }}
{{- include "tk.extraEnv" . }}
{{- end -}}

{{/*
Volumes every pod mounts: a writable /tmp (the root filesystem is read-only) and NATS secrets, of
which only the pod's own credentials file: (dict "root" $ "name" $name "credsKey" key).
*/}}
{{- define "tk.volumes" -}}
{{- $credsKey := .credsKey | default (printf "%s.creds" .name) -}}
{{- with .root -}}
- name: tmp
  emptyDir: {}
{{- if .Values.nats.credsSecret }}
- name: nats-creds
  secret:
    secretName: {{ .Values.nats.credsSecret }}
    items:
      - key: {{ $credsKey }}
        path: {{ $credsKey }}
{{- end }}
{{- if .Values.nats.tlsCaSecret }}
- name: nats-ca
  secret:
    secretName: {{ .Values.nats.tlsCaSecret }}
{{- end }}
{{- if (.Values.grpc).tlsSecret }}
- name: grpc-tls
  secret:
    secretName: {{ .Values.grpc.tlsSecret }}
{{- end }}
{{- end }}
{{- end -}}

{{/* (dict "root" $ …) as tk.volumes. */}}
{{- define "tk.volumeMounts" -}}
{{- with .root -}}
- name: tmp
  mountPath: /tmp
{{- if .Values.nats.credsSecret }}
- name: nats-creds
  mountPath: /var/run/secrets/nats
  readOnly: true
{{- end }}
{{- if .Values.nats.tlsCaSecret }}
- name: nats-ca
  mountPath: /var/run/secrets/nats-ca
  readOnly: true
{{- end }}
{{- if (.Values.grpc).tlsSecret }}
- name: grpc-tls
  mountPath: /var/run/secrets/grpc-tls
  readOnly: true
{{- end }}
{{- end }}
{{- end -}}
