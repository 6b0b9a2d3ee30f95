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

{{- define "tk.resourceName" -}}
{{- printf "%s-%s" .root.Release.Name .name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "tk.image" -}}
{{- printf "%s/%s:%s" .root.Values.image.registry .name (.root.Values.image.tag | default .root.Chart.AppVersion) -}}
{{- end -}}

{{- define "tk.secretName" -}}
{{- if .Values.secrets.create -}}
{{- printf "%s-secrets" .Release.Name -}}
{{- else -}}
{{- required "secrets.existingSecret is required when secrets.create is false" .Values.secrets.existingSecret -}}
{{- end -}}
{{- end -}}

{{/*
Environment of one app: (dict "root" $ "name" $name "app" $app). The names are exactly those the
app's config class reads (apps/<app>/.env.example); nothing else.
*/}}
{{- define "tk.env" -}}
{{- $root := .root -}}
{{- $cfg := $root.Values.config -}}
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
      key: {{ printf "database-url-%s" .name }}
- name: NATS_URL
  value: {{ $cfg.natsUrl | quote }}
- name: NATS_PREFIX
  value: {{ $cfg.natsPrefix | default "" | quote }}
{{- if $root.Values.nats.credsSecret }}
- name: NATS_CREDS_FILE
  value: {{ printf "/var/run/secrets/nats/%s.creds" .name | quote }}
{{- end }}
{{- if $root.Values.nats.tlsCaSecret }}
- name: NATS_TLS_CA_FILE
  value: /var/run/secrets/nats-ca/ca.crt
{{- end }}
{{- if $cfg.otelExporterOtlpEndpoint }}
- name: OTEL_EXPORTER_OTLP_ENDPOINT
  value: {{ $cfg.otelExporterOtlpEndpoint | quote }}
{{- end }}
{{- if ne .name "webhook-gateway" }}
- name: CORE_API_TOKEN
  valueFrom:
    secretKeyRef:
      name: {{ include "tk.secretName" $root }}
      key: core-api-token
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
      key: token-encryption-keys
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
{{- end -}}

{{/* Volumes every pod mounts: a writable /tmp (the root filesystem is read-only) and NATS secrets. */}}
{{- define "tk.volumes" -}}
- name: tmp
  emptyDir: {}
{{- if .Values.nats.credsSecret }}
- name: nats-creds
  secret:
    secretName: {{ .Values.nats.credsSecret }}
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
{{- end -}}

{{- define "tk.volumeMounts" -}}
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
{{- end -}}
