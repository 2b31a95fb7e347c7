{{/* The labels every object carries; the selector's are the first and the instance. */}}
{{- define "holdfast.selector" -}}
app.kubernetes.io/name: holdfast
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "holdfast.labels" -}}
{{ include "holdfast.selector" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{- define "holdfast.tlsSecret" -}}
{{ .Values.tls.secretName | default (printf "%s-tls" .Release.Name) }}
{{- end -}}

{{- define "holdfast.tokenSecret" -}}
{{ .Values.token.secretName | default (printf "%s-token" .Release.Name) }}
{{- end -}}

{{/* Every member's id and Raft address, comma-separated: the --peers a new cluster starts with. */}}
{{- define "holdfast.peers" -}}
{{- $name := .Release.Name -}}
{{- $peers := list -}}
{{- range $i := until (int .Values.replicas) -}}
{{- $peers = append $peers (printf "%s-%d=%s-%d.%s-peers.$(POD_NAMESPACE).svc.cluster.local:4654" $name $i $name $i $name) -}}
{{- end -}}
{{- join "," $peers -}}
{{- end -}}
