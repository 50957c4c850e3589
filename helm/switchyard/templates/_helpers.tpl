{{/* Names and labels. */}}
{{- define "switchyard.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "switchyard.fullname" -}}
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

{{- define "switchyard.selectorLabels" -}}
app.kubernetes.io/name: {{ include "switchyard.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "switchyard.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{ include "switchyard.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{- define "switchyard.gatewaySelector" -}}
{{ include "switchyard.selectorLabels" . }}
app.kubernetes.io/component: gateway
{{- end -}}

{{- define "switchyard.redisSelector" -}}
{{ include "switchyard.selectorLabels" . }}
app.kubernetes.io/component: redis
{{- end -}}

{{- define "switchyard.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "switchyard.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "switchyard.image" -}}
{{- if .Values.image.digest -}}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest -}}
{{- else -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}
{{- end -}}

{{/* "true" when more than one gateway pod can run at once. */}}
{{- define "switchyard.multiReplica" -}}
{{- if or .Values.autoscaling.enabled (gt (int .Values.replicaCount) 1) -}}true{{- end -}}
{{- end -}}

{{/* "true" when the counters live in Redis: several replicas, or redis.enabled. */}}
{{- define "switchyard.useRedis" -}}
{{- if or .Values.redis.enabled (include "switchyard.multiReplica" .) -}}true{{- end -}}
{{- end -}}

{{/* "true" when the chart runs its own Redis StatefulSet. */}}
{{- define "switchyard.inChartRedis" -}}
{{- if and (include "switchyard.useRedis" .) (not .Values.redis.externalURL) (not .Values.policyConfig.existingSecret) -}}true{{- end -}}
{{- end -}}

{{- define "switchyard.redisURL" -}}
{{- if .Values.redis.externalURL -}}
{{- .Values.redis.externalURL -}}
{{- else -}}
{{- printf "redis://%s-redis:6379/0" (include "switchyard.fullname" .) -}}
{{- end -}}
{{- end -}}

{{/* The policy as the user gave it, as YAML: a mapping, the text of a file, or the default. */}}
{{- define "switchyard.sourcePolicy" -}}
{{- $p := dict -}}
{{- if not .Values.policy -}}
{{- $p = fromYaml (.Files.Get "files/default-policy.yaml") -}}
{{- else if kindIs "string" .Values.policy -}}
{{- $p = fromYaml .Values.policy -}}
{{- else -}}
{{- $p = deepCopy .Values.policy -}}
{{- end -}}
{{- if hasKey $p "Error" -}}
{{- fail (printf "policy: not a YAML mapping: %s" (get $p "Error")) -}}
{{- end -}}
{{- toYaml $p -}}
{{- end -}}

{{/*
The policy the pods run: the user's, with the keys the chart owns filled in from the values
(listeners, drain grace, workers, TLS, state store, audit destination).
*/}}
{{- define "switchyard.policy" -}}
{{- $p := include "switchyard.sourcePolicy" . | fromYaml -}}
{{- $v := .Values -}}
{{- $server := get $p "server" | default dict -}}
{{- $_ := set $server "listen" (printf "%s:%d" $v.server.bindAddress (int $v.server.port)) -}}
{{- $_ := set $server "shutdown_grace" (printf "%ds" (int $v.server.shutdownGraceSeconds)) -}}
{{- if not (hasKey $server "workers") -}}
{{- $_ := set $server "workers" (int $v.server.workers) -}}
{{- end -}}
{{- if $v.tls.enabled -}}
{{- $_ := set $server "tls" (dict "cert" "/etc/switchyard/tls/tls.crt" "key" "/etc/switchyard/tls/tls.key") -}}
{{- else -}}
{{- $_ := unset $server "tls" -}}
{{- end -}}
{{- $_ := set $p "server" $server -}}
{{- $admin := get $p "admin" | default dict -}}
{{- $_ := set $admin "listen" (printf "%s:%d" $v.server.bindAddress (int $v.server.adminPort)) -}}
{{- $_ := set $p "admin" $admin -}}
{{- $state := get $p "state" | default dict -}}
{{- if include "switchyard.useRedis" . -}}
{{- $redis := dict "url" (include "switchyard.redisURL" .) "timeout" $v.state.redisTimeout "fail" $v.state.redisFail -}}
{{- if $v.state.redisSync -}}
{{- $_ := set $redis "sync" $v.state.redisSync -}}
{{- end -}}
{{- $_ := set $p "state" (dict "store" "redis" "redis" $redis) -}}
{{- else if ne (get $state "store" | default "sqlite") "redis" -}}
{{- $_ := set $p "state" (dict "store" "sqlite" "sqlite" (dict "path" $v.state.sqlitePath)) -}}
{{- end -}}
{{- $audit := get $p "audit" | default dict -}}
{{- $_ := unset $audit "path" -}}
{{- $_ := unset $audit "stdout" -}}
{{- $_ := unset $audit "hmac_key_env" -}}
{{- if eq $v.audit.mode "none" -}}
{{- $_ := unset $p "audit" -}}
{{- else -}}
{{- if eq $v.audit.mode "stdout" -}}
{{- $_ := set $audit "stdout" true -}}
{{- else -}}
{{- $_ := set $audit "path" "/var/lib/switchyard/audit.jsonl" -}}
{{- end -}}
{{- if $v.audit.hmacKey.secretName -}}
{{- $_ := set $audit "hmac_key_env" "SWITCHYARD_AUDIT_KEY" -}}
{{- end -}}
{{- $_ := set $p "audit" $audit -}}
{{- end -}}
{{- toYaml $p -}}
{{- end -}}

{{/*
Consistency of the values with the policy and with each other: fails rendering with the reason.
*/}}
{{- define "switchyard.checkValues" -}}
{{- if not .Values.policyConfig.existingSecret -}}
{{- $p := include "switchyard.sourcePolicy" . | fromYaml -}}
{{- $used := dict -}}
{{- range $i, $b := (get $p "backends" | default list) -}}
{{- if $b.api_key_env -}}
{{- $_ := set $used $b.api_key_env $b.name -}}
{{- if not (hasKey $.Values.secrets.upstreamKeys $b.api_key_env) -}}
{{- fail (printf "backend '%s' reads its key from %s: add secrets.upstreamKeys.%s: {secretName, key}" $b.name $b.api_key_env $b.api_key_env) -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- range $env, $ref := .Values.secrets.upstreamKeys -}}
{{- if not (hasKey $used $env) -}}
{{- fail (printf "secrets.upstreamKeys.%s: no backend of the policy has api_key_env: %s" $env $env) -}}
{{- end -}}
{{- end -}}
{{- $pepper := (get $p "auth" | default dict).pepper_env -}}
{{- if and $pepper (not .Values.secrets.keyPepper.secretName) -}}
{{- fail (printf "the policy's auth.pepper_env is %s: set secrets.keyPepper.secretName (the Secret holding the pepper)" $pepper) -}}
{{- end -}}
{{- if and .Values.secrets.keyPepper.secretName (not $pepper) -}}
{{- fail "secrets.keyPepper is set but the policy has no auth.pepper_env naming the variable" -}}
{{- end -}}
{{- else if and .Values.secrets.keyPepper.secretName (not .Values.secrets.keyPepper.env) -}}
{{- fail "with policyConfig.existingSecret the chart cannot read auth.pepper_env: set secrets.keyPepper.env" -}}
{{- end -}}
{{- if and .Values.tls.enabled (not .Values.tls.secretName) -}}
{{- fail "tls.enabled needs tls.secretName (an existing kubernetes.io/tls Secret)" -}}
{{- end -}}
{{- if and (eq .Values.audit.mode "file") (not .Values.persistence.enabled) -}}
{{- fail "audit.mode: file needs persistence.enabled (on an emptyDir the audit log would die with the pod); or use audit.mode: stdout" -}}
{{- end -}}
{{- if and .Values.persistence.enabled (include "switchyard.multiReplica" .) (not .Values.persistence.existingClaim) (not (has "ReadWriteMany" .Values.persistence.accessModes)) -}}
{{- fail "persistence with more than one replica needs persistence.accessModes: [ReadWriteMany] (every pod mounts the claim, each in its own directory)" -}}
{{- end -}}
{{- end -}}

{{/* The variable the pepper is exported as: secrets.keyPepper.env, else the policy's auth.pepper_env. */}}
{{- define "switchyard.pepperEnv" -}}
{{- if .Values.secrets.keyPepper.env -}}
{{- .Values.secrets.keyPepper.env -}}
{{- else -}}
{{- (get (include "switchyard.sourcePolicy" . | fromYaml) "auth" | default dict).pepper_env -}}
{{- end -}}
{{- end -}}

{{/* The port of a URL: explicit, else 443 for https/rediss and 80 for http, 6379 for redis. */}}
{{- define "switchyard.urlPort" -}}
{{- $u := urlParse . -}}
{{- $hostport := $u.host -}}
{{- $host := regexReplaceAll ":[0-9]+$" $hostport "" -}}
{{- if ne $host $hostport -}}
{{- trimPrefix ":" (trimPrefix $host $hostport) -}}
{{- else if or (eq $u.scheme "https") (eq $u.scheme "rediss") -}}
{{- if eq $u.scheme "rediss" -}}6379{{- else -}}443{{- end -}}
{{- else if eq $u.scheme "redis" -}}6379
{{- else -}}80
{{- end -}}
{{- end -}}

{{/* The host of a URL, without port or IPv6 brackets. */}}
{{- define "switchyard.urlHost" -}}
{{- $u := urlParse . -}}
{{- regexReplaceAll ":[0-9]+$" $u.host "" | trimPrefix "[" | trimSuffix "]" -}}
{{- end -}}
