{{/* Names, labels and the shared pieces of every s8 workload. */}}

{{- define "s8.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "s8.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "s8.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Labels common to every object of the release. */}}
{{- define "s8.labels" -}}
helm.sh/chart: {{ include "s8.chart" . }}
app.kubernetes.io/name: {{ include "s8.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: s8
{{- end -}}

{{/* Selector labels of one component: (dict "root" $ "component" "intake"). */}}
{{- define "s8.selectorLabels" -}}
app.kubernetes.io/name: {{ include "s8.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "s8.componentLabels" -}}
{{ include "s8.labels" .root }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{/*
The five services: values key, resource/component name, Python module.
Templates range over this list so a service is declared once.
*/}}
{{- define "s8.services" -}}
- {key: intake, name: intake, module: s8_intake}
- {key: router, name: router, module: s8_router}
- {key: slaMonitor, name: sla-monitor, module: s8_sla_monitor}
- {key: survey, name: survey, module: s8_survey}
- {key: analytics, name: analytics, module: s8_analytics}
{{- end -}}

{{- define "s8.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "s8.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/* <repository>-<service>:<tag>: (dict "root" $ "name" "intake"). */}}
{{- define "s8.image" -}}
{{- $img := .root.Values.image -}}
{{- printf "%s-%s:%s" $img.repository .name (default .root.Chart.AppVersion $img.tag) -}}
{{- end -}}

{{- define "s8.devSecretName" -}}
{{- printf "%s-dev" (include "s8.fullname" .) -}}
{{- end -}}

{{/*
A secretKeyRef for one of .Values.secrets: (dict "root" $ "ref" "mongoUri").
The development Secret, when created, replaces every reference; its keys are the value names.
*/}}
{{- define "s8.secretKeyRef" -}}
{{- if .root.Values.devSecret.create -}}
secretKeyRef:
  name: {{ include "s8.devSecretName" .root }}
  key: {{ .ref }}
{{- else -}}
{{- $ref := index .root.Values.secrets .ref -}}
secretKeyRef:
  name: {{ required (printf "secrets.%s.name is required (or devSecret.create for development)" .ref) $ref.name }}
  key: {{ required (printf "secrets.%s.key is required" .ref) $ref.key }}
{{- end -}}
{{- end -}}

{{- define "s8.sasl" -}}
{{- if hasPrefix "SASL_" .Values.kafka.securityProtocol -}}true{{- end -}}
{{- end -}}

{{- define "s8.kafkaCaDir" -}}/etc/s8/kafka-ca{{- end -}}

{{/*
A setting's value as an environment string: lists and maps as JSON (pydantic-settings
parses them), whole numbers without the float notation YAML numbers get in Helm.
*/}}
{{- define "s8.envValue" -}}
{{- $v := . -}}
{{- if or (kindIs "slice" $v) (kindIs "map" $v) -}}
{{- toJson $v -}}
{{- else if and (kindIs "float64" $v) (eq $v (floor $v)) -}}
{{- printf "%d" (int64 $v) -}}
{{- else -}}
{{- toString $v -}}
{{- end -}}
{{- end -}}

{{/* Non-secret settings every process shares (services and the provisioning Job). */}}
{{- define "s8.commonSettings" -}}
S8_ENVIRONMENT: {{ .Values.environment | quote }}
S8_LOG_LEVEL: {{ .Values.logLevel | quote }}
S8_LOG_FORMAT: {{ .Values.logFormat | quote }}
S8_KAFKA_BOOTSTRAP_SERVERS: {{ .Values.kafka.bootstrapServers | quote }}
S8_KAFKA_SECURITY_PROTOCOL: {{ .Values.kafka.securityProtocol | quote }}
{{- if include "s8.sasl" . }}
S8_KAFKA_SASL_MECHANISM: {{ required "kafka.saslMechanism is required with a SASL_* securityProtocol" .Values.kafka.saslMechanism | quote }}
{{- end }}
{{- if .Values.kafka.tls.caSecret }}
S8_KAFKA_SSL_CAFILE: {{ printf "%s/%s" (include "s8.kafkaCaDir" .) .Values.kafka.tls.caKey | quote }}
{{- end }}
S8_KAFKA_REPLICATION_FACTOR: {{ .Values.kafka.replicationFactor | int | quote }}
S8_TOPIC_NAMESPACE: {{ .Values.kafka.topicNamespace | quote }}
S8_CONSUMER_GROUP_PREFIX: {{ .Values.kafka.consumerGroupPrefix | quote }}
{{- with .Values.observability.otlpEndpoint }}
S8_OTEL_EXPORTER_OTLP_ENDPOINT: {{ . | quote }}
{{- end }}
{{- end -}}

{{/* Secret-backed env of the Kafka SASL credentials (empty without SASL). */}}
{{- define "s8.kafkaSecretEnv" -}}
{{- if include "s8.sasl" . }}
- name: S8_KAFKA_SASL_USERNAME
  valueFrom:
    {{- include "s8.secretKeyRef" (dict "root" . "ref" "kafkaSaslUsername") | nindent 4 }}
- name: S8_KAFKA_SASL_PASSWORD
  valueFrom:
    {{- include "s8.secretKeyRef" (dict "root" . "ref" "kafkaSaslPassword") | nindent 4 }}
{{- end }}
{{- end -}}

{{/* The Kafka CA volume and its mount (empty without kafka.tls.caSecret). */}}
{{- define "s8.kafkaCaVolume" -}}
{{- if .Values.kafka.tls.caSecret }}
- name: kafka-ca
  secret:
    secretName: {{ .Values.kafka.tls.caSecret }}
    items:
      - key: {{ .Values.kafka.tls.caKey }}
        path: {{ .Values.kafka.tls.caKey }}
{{- end }}
{{- end -}}

{{- define "s8.kafkaCaMount" -}}
{{- if .Values.kafka.tls.caSecret }}
- name: kafka-ca
  mountPath: {{ include "s8.kafkaCaDir" . }}
  readOnly: true
{{- end }}
{{- end -}}

{{/* The public URL of the survey pages: the setting, else the Ingress host. */}}
{{- define "s8.surveyPublicBaseUrl" -}}
{{- $settings := .Values.services.survey.settings -}}
{{- if hasKey $settings "public_base_url" -}}
{{- $settings.public_base_url -}}
{{- else if .Values.ingress.enabled -}}
{{- $host := .Values.ingress.survey.host -}}
{{- $tls := false -}}
{{- range .Values.ingress.tls }}{{ if has $host .hosts }}{{ $tls = true }}{{ end }}{{ end -}}
{{- printf "%s://%s" (ternary "https" "http" $tls) $host -}}
{{- end -}}
{{- end -}}

{{/*
One service's ConfigMap data: (dict "root" $ "svc" <entry of s8.services>). Built as a map so a
per-service setting (say log_level) replaces the release-wide one instead of repeating the key.
*/}}
{{- define "s8.serviceConfig" -}}
{{- $root := .root -}}
{{- $values := index $root.Values.services .svc.key -}}
{{- $data := include "s8.commonSettings" $root | fromYaml -}}
{{- $_ := set $data "S8_HTTP_HOST" "0.0.0.0" -}}
{{- $_ = set $data "S8_HTTP_PORT" (toString (int $root.Values.http.port)) -}}
{{- /* With the provisioning Job on, the services do not create topics at start. */ -}}
{{- $_ = set $data "S8_PROVISION_TOPICS" (toString (not $root.Values.provisioning.enabled)) -}}
{{- if eq .svc.key "survey" -}}
{{- with include "s8.surveyPublicBaseUrl" $root -}}
{{- $_ = set $data "S8_PUBLIC_BASE_URL" . -}}
{{- end -}}
{{- end -}}
{{- range $name, $value := $values.settings -}}
{{- $_ = set $data (printf "S8_%s" (upper $name)) (include "s8.envValue" $value) -}}
{{- end -}}
{{- toYaml $data -}}
{{- end -}}
