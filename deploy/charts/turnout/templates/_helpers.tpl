{{- define "turnout.labels" -}}
app.kubernetes.io/name: turnout-guard
app.kubernetes.io/part-of: turnout
{{- end -}}

{{/* Subjects of a role's example binding: groups then users. */}}
{{- define "turnout.subjects" -}}
{{- range .groups }}
- {apiGroup: rbac.authorization.k8s.io, kind: Group, name: {{ . | quote }}}
{{- end }}
{{- range .users }}
- {apiGroup: rbac.authorization.k8s.io, kind: User, name: {{ . | quote }}}
{{- end }}
{{- end -}}
