{{/* Names, labels, and the checks that fail a render with a message naming what to set. */}}

{{- define "kiln.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "kiln.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/* The three services, in the order the chart renders them. */}}
{{- define "kiln.components" -}}
registry builder inference
{{- end }}

{{- define "kiln.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
app.kubernetes.io/name: {{ include "kiln.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: kiln
{{- end }}

{{/* Selector labels of one service's pods: (dict "root" $ "component" "registry"). */}}
{{- define "kiln.selectorLabels" -}}
app.kubernetes.io/name: {{ include "kiln.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{- define "kiln.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "kiln.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "kiln.secretName" -}}
{{- default (include "kiln.fullname" .) .Values.secrets.name }}
{{- end }}

{{- define "kiln.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}
{{- end }}

{{/* The DNS name of one service: (dict "root" $ "component" "builder"). */}}
{{- define "kiln.host" -}}
{{- printf "%s-%s.%s.svc.%s" (include "kiln.fullname" .root) .component .root.Release.Namespace .root.Values.clusterDomain }}
{{- end }}

{{/* One service's environment variables from Secrets, as a list: (dict "root" $ "component" "registry"). A
setting whose key is empty is left out. Each is a secretKeyRef: no secret value is ever written into a pod spec. */}}
{{- define "kiln.secretEnv" -}}
{{- $v := .root.Values }}
{{- $refs := list (list "KILN_SERVICE_TOKEN" $v.auth.serviceToken) }}
{{- if eq .component "registry" }}
{{- $refs = append $refs (list "KILN_ADMIN_TOKEN" $v.auth.adminToken) }}
{{- $refs = append $refs (list "DATABASE_URL" $v.database.url) }}
{{- end }}
{{- $refs = append $refs (list "KILN_S3_ACCESS_KEY_ID" $v.s3.accessKeyId) }}
{{- $refs = append $refs (list "KILN_S3_SECRET_ACCESS_KEY" $v.s3.secretAccessKey) }}
{{- if eq .component "builder" }}
{{- $refs = append $refs (list "KILN_IMAGE_REGISTRY_PASSWORD" $v.images.password) }}
{{- end }}
{{- range $v.extraSecretEnv }}
{{- $refs = append $refs (list .name .) }}
{{- end }}
{{- $root := .root }}
{{- range $refs }}
{{- $ref := index . 1 }}
{{- if $ref.key }}
- name: {{ index . 0 }}
  valueFrom:
    secretKeyRef:
      name: {{ default (include "kiln.secretName" $root) $ref.secretName }}
      key: {{ $ref.key }}
{{- end }}
{{- end }}
{{- end }}

{{/* Fails the render when the values would give pods that cannot start, or an open server nobody asked for. */}}
{{- define "kiln.validate" -}}
{{- $v := .Values }}
{{- if not (has $v.auth.mode (list "auto" "on" "none")) }}
{{- fail (printf "auth.mode must be auto, on or none (it is %q)" $v.auth.mode) }}
{{- end }}
{{- if ne $v.auth.mode "none" }}
{{- $mtlsServices := and $v.tls.enabled $v.tls.clientCA (gt (len $v.tls.serviceNames) 0) }}
{{- if not (or $v.auth.serviceToken.key $mtlsServices) }}
{{- fail "no authentication between the services: set auth.serviceToken.key (KILN_SERVICE_TOKEN from a Secret), or tls.enabled, tls.clientCA and tls.serviceNames (mTLS) - or auth.mode=none for servers any pod may call" }}
{{- end }}
{{- $oidc := and $v.auth.oidc.issuer $v.auth.oidc.audience $v.auth.oidc.jwksUrl }}
{{- if not (or $v.auth.adminToken.key $oidc (eq $v.auth.mode "on")) }}
{{- fail "no way for users to authenticate: set auth.adminToken.key (KILN_ADMIN_TOKEN from a Secret) or auth.oidc (issuer, audience, jwksUrl), or auth.mode=on when API tokens are already in the database - or auth.mode=none for servers any pod may call" }}
{{- end }}
{{- end }}
{{- $oidcSet := list $v.auth.oidc.issuer $v.auth.oidc.audience $v.auth.oidc.jwksUrl | compact | len }}
{{- if and (gt $oidcSet 0) (lt $oidcSet 3) }}
{{- fail "auth.oidc needs issuer, audience and jwksUrl together" }}
{{- end }}
{{- if and $v.tls.enabled (not $v.tls.secretName) }}
{{- fail "tls.enabled needs tls.secretName (a kubernetes.io/tls Secret with the certificate and key)" }}
{{- end }}
{{- if and $v.tls.clientCA (not $v.tls.caKey) }}
{{- fail "tls.clientCA needs tls.caKey (the Secret's CA certificate key)" }}
{{- end }}
{{- if and (not $v.database.url.key) (gt (int $v.registry.replicas) 1) }}
{{- fail "registry.replicas > 1 needs database.url.key (DATABASE_URL from a Secret): the embedded database lives in one pod" }}
{{- end }}
{{- if not $v.s3.bucket }}
{{- fail "s3.bucket is required: the builder and inference read a version's files from the blob store the registry writes" }}
{{- end }}
{{- if and $v.secrets.create (not $v.secrets.data) }}
{{- fail "secrets.create needs secrets.data (or create the Secret yourself and leave secrets.create false)" }}
{{- end }}
{{- end }}
