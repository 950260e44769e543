{{/* Name of the chart's objects: the release name, or fullnameOverride. */}}
{{- define "keyless.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else if contains "keyless" .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-keyless" .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "keyless.selectorLabels" -}}
app.kubernetes.io/name: keyless
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "keyless.labels" -}}
{{ include "keyless.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: keyless
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{- define "keyless.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "keyless.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- required "serviceAccount.name is required when serviceAccount.create is false" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/* Leader election: forced on whenever more than one replica runs. */}}
{{- define "keyless.leaderElect" -}}
{{- if or (gt (int .Values.replicaCount) 1) .Values.leaderElection.enabled -}}true{{- end -}}
{{- end -}}

{{- define "keyless.leaseName" -}}
{{- default (printf "%s-controller" (include "keyless.fullname" .)) .Values.leaderElection.leaseName | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* A map without its null and "" values (keyless' defaults apply to absent keys). */}}
{{- define "keyless.compact" -}}
{{- $out := dict -}}
{{- range $k, $v := . -}}
{{- if not (or (kindIs "invalid" $v) (and (kindIs "string" $v) (eq $v ""))) -}}
{{- $_ := set $out $k $v -}}
{{- end -}}
{{- end -}}
{{- toYaml $out -}}
{{- end -}}

{{/* The operator settings file (controller/identity/settings.h), from .Values.settings. */}}
{{- define "keyless.settings" -}}
{{- $s := fromYaml (include "keyless.compact" .Values.settings) -}}
{{- $_ := required "settings.clusterName is required (the EKS cluster name; part of every role name)" $s.clusterName -}}
{{- if and (not $s.permissionsBoundaryArn) (not $s.permissionsBoundaryWaived) -}}
{{- fail "settings.permissionsBoundaryArn is required: every role keyless creates gets this permissions boundary (set settings.permissionsBoundaryWaived: true to run without one, not recommended)" -}}
{{- end -}}
{{- if and (eq (toString $s.defaultRestart) "DeletePods") (not .Values.rbac.evictPods) -}}
{{- fail "settings.defaultRestart: DeletePods needs rbac.evictPods: true (the create permission on pods/eviction)" -}}
{{- end -}}
{{- if $s.guardrails -}}
{{- $_ := set $s "guardrails" (fromYaml (include "keyless.compact" $s.guardrails)) -}}
{{- if not $s.guardrails -}}{{- $_ := unset $s "guardrails" -}}{{- end -}}
{{- end -}}
{{- toYaml $s -}}
{{- end -}}

{{- define "keyless.image" -}}
{{- $tag := default .Chart.AppVersion .Values.image.tag -}}
{{- if .Values.image.digest -}}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest -}}
{{- else -}}
{{- printf "%s:%s" .Values.image.repository $tag -}}
{{- end -}}
{{- end -}}
