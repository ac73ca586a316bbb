{{/* The app's name: .Values.name, else the release name. */}}
{{- define "app.name" -}}
{{- default .Release.Name .Values.name | trunc 50 | trimSuffix "-" -}}
{{- end -}}

{{/* Labels on every object of the app (Turnout finds the app by app.kubernetes.io/name). */}}
{{- define "app.labels" -}}
app.kubernetes.io/name: {{ include "app.name" . }}
{{- end -}}

{{/* The selector of one color: app and color, nothing that changes with a release. */}}
{{- define "app.selector" -}}
app.kubernetes.io/name: {{ include "app.name" .root }}
turnout.dev/color: {{ .color }}
{{- end -}}

{{/* The color that is not live. */}}
{{- define "app.idle" -}}
{{- if eq .Values.live "blue" }}green{{ else }}blue{{ end -}}
{{- end -}}

{{/* The live Service's per-color endpoints annotation (JSON), empty without any. */}}
{{- define "app.endpoints" -}}
{{- $eps := dict -}}
{{- range $color, $c := .Values.colors -}}
{{- if $c.endpoint }}{{ $_ := set $eps $color $c.endpoint }}{{ end -}}
{{- end -}}
{{- if $eps }}{{ toJson $eps }}{{ end -}}
{{- end -}}

{{/* An HTTP GET probe from a probes.* entry. */}}
{{- define "app.probe" -}}
httpGet: {path: {{ .probe.path }}, port: http}
{{- with .probe.initialDelaySeconds }}
initialDelaySeconds: {{ . }}
{{- end }}
periodSeconds: {{ .probe.periodSeconds }}
{{- with .probe.failureThreshold }}
failureThreshold: {{ . }}
{{- end }}
{{- end -}}
