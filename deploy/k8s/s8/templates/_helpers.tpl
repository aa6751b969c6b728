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
The seven services: values key, resource/component name, Python module.
Templates range over this list so a service is declared once.
*/}}
{{- define "s8.services" -}}
- {key: intake, name: intake, module: s8_intake}
- {key: router, name: router, module: s8_router}
- {key: slaMonitor, name: sla-monitor, module: s8_sla_monitor}
- {key: survey, name: survey, module: s8_survey}
- {key: analytics, name: analytics, module: s8_analytics}
- {key: desk, name: desk, module: s8_desk}
- {key: channels, name: channels, module: s8_channels}
{{- end -}}

{{/*
Which services call which over HTTP (values keys): the desk passes the agents' writes to intake
and the router, as the signed-in agent. The desk's S8_INTAKE_URL and S8_ROUTER_URL and the
NetworkPolicies (ingress of the called, egress of the caller) all read this map.
*/}}
{{- define "s8.calls" -}}
desk: [intake, router]
{{- end -}}

{{/*
The services the Ingress routes to (values keys; ingress.<key> holds host and paths, the desk's
and the channels' also the annotations of their own Ingress), while ingress.enabled. The router
is one only for ingress.channels.routerPaths (Stringee asks it for agents), on the channels'
host and only with the channels service. The Ingress and the NetworkPolicies both read this
list, so what the outside reaches and what the ingress controller may connect to stay the same.
*/}}
{{- define "s8.publicServices" -}}
{{- if .Values.ingress.enabled -}}
{{- range $key := list "survey" "intake" "desk" "channels" -}}
{{- if (index $.Values.services $key).enabled }}
- {{ $key }}
{{- end -}}
{{- end -}}
{{- if and .Values.services.channels.enabled .Values.services.router.enabled .Values.ingress.channels.routerPaths }}
- router
{{- end -}}
{{- end -}}
{{- end -}}

{{/* The services with an Ingress of their own (annotations apply to a whole Ingress). */}}
{{- define "s8.ownIngress" -}}
- desk
- channels
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
A secretKeyRef for one of .Values.secrets: (dict "root" $ "ref" "mongoUri"); a dotted ref reaches
a nested one ("kafka.intake.username"). The development Secret, when created, replaces every
reference; its keys are the value names (devKey when given, else ref).
*/}}
{{- define "s8.secretKeyRef" -}}
{{- if .root.Values.devSecret.create -}}
secretKeyRef:
  name: {{ include "s8.devSecretName" .root }}
  key: {{ default .ref .devKey }}
{{- else -}}
{{- $ref := .root.Values.secrets -}}
{{- range splitList "." .ref }}{{ $ref = index (default dict $ref) . }}{{ end -}}
{{- $ref = default dict $ref -}}
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
S8_ALLOW_PLAINTEXT_KAFKA: {{ .Values.kafka.allowPlaintext | toString | quote }}
{{- with .Values.observability.otlpEndpoint }}
S8_OTEL_EXPORTER_OTLP_ENDPOINT: {{ . | quote }}
{{- end }}
S8_OIDC_ISSUER: {{ required "oidc.issuer is required: the OpenID Connect issuer of the access tokens" .Values.oidc.issuer | quote }}
S8_OIDC_AUDIENCE: {{ .Values.oidc.audience | quote }}
S8_OIDC_ROLES_CLAIM: {{ .Values.oidc.rolesClaim | quote }}
S8_OIDC_ACTOR_CLAIM: {{ .Values.oidc.actorClaim | quote }}
{{- with .Values.oidc.algorithms }}
S8_OIDC_ALGORITHMS: {{ toJson . | quote }}
{{- end }}
{{- end -}}

{{/*
The resource/component name of a service from its values key (another key as it is):
(dict "root" $ "key" "slaMonitor").
*/}}
{{- define "s8.serviceName" -}}
{{- $name := .key -}}
{{- range $svc := include "s8.services" .root | fromYamlArray -}}
{{- if eq $svc.key $.key }}{{ $name = $svc.name }}{{ end -}}
{{- end -}}
{{- $name -}}
{{- end -}}

{{/*
The Kafka user name of one process with kafka.acls.strimzi (its KafkaUser's name): s8-<service>,
s8-provisioning for the topic Job. (dict "root" $ "process" "slaMonitor").
*/}}
{{- define "s8.kafkaUserName" -}}
{{- printf "s8-%s" (include "s8.serviceName" (dict "root" .root "key" .process)) -}}
{{- end -}}

{{/*
Secret-backed env of one process's Kafka SASL user (empty without SASL):
(dict "root" $ "process" "intake"), the process being a key of secrets.kafka. With the chart's
Strimzi KafkaUsers the user name is the KafkaUser's (Strimzi's Secret holds the password only).
*/}}
{{- define "s8.kafkaSecretEnv" -}}
{{- if include "s8.sasl" .root }}
- name: S8_KAFKA_SASL_USERNAME
  {{- if and .root.Values.kafka.acls.strimzi.enabled (not .root.Values.devSecret.create) }}
  value: {{ include "s8.kafkaUserName" . | quote }}
  {{- else }}
  valueFrom:
    {{- include "s8.secretKeyRef" (dict "root" .root "ref" (printf "kafka.%s.username" .process) "devKey" "kafkaSaslUsername") | nindent 4 }}
  {{- end }}
- name: S8_KAFKA_SASL_PASSWORD
  valueFrom:
    {{- include "s8.secretKeyRef" (dict "root" .root "ref" (printf "kafka.%s.password" .process) "devKey" "kafkaSaslPassword") | nindent 4 }}
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

{{/* https://<host> when an ingress.tls entry names the host, else http://<host>: (dict "root" $ "host" h). */}}
{{- define "s8.ingressBaseUrl" -}}
{{- $host := .host -}}
{{- $tls := false -}}
{{- range .root.Values.ingress.tls }}{{ if has $host .hosts }}{{ $tls = true }}{{ end }}{{ end -}}
{{- printf "%s://%s" (ternary "https" "http" $tls) $host -}}
{{- end -}}

{{/*
A service's S8_PUBLIC_BASE_URL (the survey's pages; the channels' webhooks, whose URL Twilio
signs): its public_base_url setting, else its Ingress host. (dict "root" $ "key" "survey")
*/}}
{{- define "s8.publicBaseUrl" -}}
{{- $settings := (index .root.Values.services .key).settings -}}
{{- if hasKey $settings "public_base_url" -}}
{{- $settings.public_base_url -}}
{{- else if .root.Values.ingress.enabled -}}
{{- include "s8.ingressBaseUrl" (dict "root" .root "host" (index .root.Values.ingress .key).host) -}}
{{- end -}}
{{- end -}}

{{/*
Which process reads which of secrets.channels.keys, by env name: the channels service the
platforms' accounts and its mail passwords, the router the token of its Stringee route.
*/}}
{{- define "s8.channelsSecrets" -}}
channels:
  S8_META: meta
  S8_ZALO_ACCOUNTS: zaloAccounts
  S8_TWILIO_ACCOUNTS: twilioAccounts
  S8_STRINGEE_ACCOUNTS: stringeeAccounts
  S8_SMTP_RELAY_PASSWORD: smtpRelayPassword
  S8_IMAP_PASSWORD: imapPassword
router:
  S8_STRINGEE_URL_TOKEN: routerStringeeUrlToken
{{- end -}}

{{/*
The platforms' secrets (secrets.channels) of one process, as env (empty without an
existingSecret): (dict "root" $ "env" (dict "S8_META" "meta" ...)), env name → key of
secrets.channels.keys. Every reference is optional: a platform not connected is a key left out of
the Secret. Never from devSecret: the development Secret holds no platform accounts.
*/}}
{{- define "s8.channelsSecretEnv" -}}
{{- $secret := .root.Values.secrets.channels -}}
{{- if $secret.existingSecret }}
{{- range $name := keys .env | sortAlpha }}
- name: {{ $name }}
  valueFrom:
    secretKeyRef:
      name: {{ $secret.existingSecret }}
      key: {{ index $secret.keys (index $.env $name) }}
      optional: true
{{- end }}
{{- end }}
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
{{- if has .svc.key (list "survey" "channels") -}}
{{- with include "s8.publicBaseUrl" (dict "root" $root "key" .svc.key) -}}
{{- $_ = set $data "S8_PUBLIC_BASE_URL" . -}}
{{- end -}}
{{- end -}}
{{- /* The SMTP receiver listens on every interface of the pod, or not at all (port 0). */ -}}
{{- if eq .svc.key "channels" -}}
{{- $_ = set $data "S8_SMTP_RECEIVER_HOST" "0.0.0.0" -}}
{{- $_ = set $data "S8_SMTP_RECEIVER_PORT" (toString (ternary (int $values.smtp.port) 0 $values.smtp.enabled)) -}}
{{- end -}}
{{- /* The desk's S8_INTAKE_URL, S8_ROUTER_URL: the release's Services unless set. */ -}}
{{- range $callee := index (include "s8.calls" $root | fromYaml) .svc.key | default list -}}
{{- $setting := printf "%s_url" (snakecase $callee) -}}
{{- if not (hasKey $values.settings $setting) -}}
{{- $svc := include "s8.serviceName" (dict "root" $root "key" $callee) -}}
{{- if not (index $root.Values.services $callee).enabled -}}
{{- fail (printf "services.%s calls %s: enable services.%s or set services.%s.settings.%s" $.svc.key $callee $callee $.svc.key $setting) -}}
{{- end -}}
{{- $_ = set $data (printf "S8_%s" (upper $setting)) (printf "http://%s-%s:%d" (include "s8.fullname" $root) $svc (int $root.Values.http.servicePort)) -}}
{{- end -}}
{{- end -}}
{{- range $name, $value := $values.settings -}}
{{- $_ = set $data (printf "S8_%s" (upper $name)) (include "s8.envValue" $value) -}}
{{- end -}}
{{- toYaml $data -}}
{{- end -}}


{{/* The ports (numbers) of a host:port list, each once. */}}
{{- define "s8.hostPorts" -}}
{{- $ports := list -}}
{{- range splitList "," . -}}
{{- $ports = append $ports (regexFind "[0-9]+$" (trim .) | int) -}}
{{- end -}}
{{- toJson (uniq $ports) -}}
{{- end -}}

{{/* The port of a URL: the explicit one, else 443 for https and 80 for http. */}}
{{- define "s8.urlPort" -}}
{{- $url := urlParse . -}}
{{- $port := regexFind ":[0-9]+$" $url.host | trimPrefix ":" -}}
{{- default (ternary "443" "80" (eq $url.scheme "https")) $port -}}
{{- end -}}

{{/*
The egress rules named in .names from networkPolicy.egress.rules (or .group: "channels" for
networkPolicy.egress.channels), as a YAML list (dict "root" $ "names" (list "dns" "kafka")). A
rule without ports takes the derived ones (see values.yaml); otlp is left out while no endpoint
is set, smtpRelay and imap while the channels have no smtp_relay_host, imap_host. A rule never
comes out port-less: with no `to` as well it would let everything out.
*/}}
{{- define "s8.egressRules" -}}
{{- $root := .root -}}
{{- $group := default "rules" .group -}}
{{- $channels := $root.Values.services.channels.settings -}}
{{- $needed := dict "otlp" $root.Values.observability.otlpEndpoint "smtpRelay" $channels.smtp_relay_host "imap" $channels.imap_host -}}
{{- $rules := list -}}
{{- range $name := .names -}}
{{- $rule := index (index $root.Values.networkPolicy.egress $group) $name -}}
{{- if and $rule (or (not (hasKey $needed $name)) (index $needed $name)) -}}
{{- $ports := default list $rule.ports -}}
{{- if not $ports -}}
{{- $numbers := list -}}
{{- if eq $name "kafka" -}}
{{- $numbers = include "s8.hostPorts" $root.Values.kafka.bootstrapServers | fromJsonArray -}}
{{- else if eq $name "oidc" -}}
{{- $numbers = list (include "s8.urlPort" $root.Values.oidc.issuer | int) -}}
{{- else if eq $name "otlp" -}}
{{- $numbers = list (include "s8.urlPort" $root.Values.observability.otlpEndpoint | int) -}}
{{- else if eq $name "smtpRelay" -}}
{{- $numbers = list (default 587 $channels.smtp_relay_port | int) -}}
{{- else if eq $name "imap" -}}
{{- $numbers = list (default 993 $channels.imap_port | int) -}}
{{- end -}}
{{- range $numbers -}}
{{- $ports = append $ports (dict "port" (int .) "protocol" "TCP") -}}
{{- end -}}
{{- end -}}
{{- if not $ports -}}
{{- fail (printf "networkPolicy.egress.%s.%s needs ports" $group $name) -}}
{{- end -}}
{{- $entry := dict "ports" $ports -}}
{{- with $rule.to -}}{{- $_ := set $entry "to" . -}}{{- end -}}
{{- $rules = append $rules $entry -}}
{{- end -}}
{{- end -}}
{{- toYaml $rules -}}
{{- end -}}
