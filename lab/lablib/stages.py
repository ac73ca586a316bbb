"""KWOK's configuration: upstream fast stages plus the lab's pod stages.

Standalone kwok refuses to start without stages. Stages are event-driven: a stage
whose selector still matches after its own status update fires again after its
delay, which is how the crash loop keeps restarting. Selectors must not overlap,
so the lab's own pod-ready stage excludes the crash-loop and not-ready labels.
"""

from __future__ import annotations

import json
from pathlib import Path

CRASHLOOP_LABEL = "lab.turnout.dev/crashloop"
"""Set to "true" on a pod (or a pod template) to make its containers crash-loop."""

NOTREADY_LABEL = "lab.turnout.dev/notready"
"""Set to "true" on a pod to keep it Running but not Ready."""

UPSTREAM_STAGES = (
    "node/fast/node-initialize.yaml",
    "node/heartbeat-with-lease/node-heartbeat-with-lease.yaml",
    "pod/fast/pod-complete.yaml",
    "pod/fast/pod-delete.yaml",
)
"""Upstream stages used as they are (paths under the kwok module's kustomize/stage)."""

_NOT_DELETING = """\
    - key: '.metadata.deletionTimestamp'
      operator: 'DoesNotExist'"""

# Finds each container's previous restartCount so a stage can carry it forward.
_PREV_RESTARTS = """\
      {{ $prev := 0 }}
      {{ range $root.status.containerStatuses }}
      {{ if eq .name $item.name }}{{ $prev = .restartCount }}{{ end }}
      {{ end }}"""

# Only a pod without an IP gets one: status patches merge podIPs by ip, so a
# second allocation would give the pod two IPs and be rejected.
_POD_IPS = """\
      {{ if not .status.podIP }}
      {{ with NodeIPsWith .spec.nodeName }}
      hostIP: {{ index . 0 | Quote }}
      {{ end }}
      {{ with PodIPsWith .spec.nodeName ( or .spec.hostNetwork false ) ( or .metadata.uid "" ) ( or .metadata.name "" ) ( or .metadata.namespace "" ) }}
      podIP: {{ index . 0 | Quote }}
      podIPs:
      {{ range . }}
      - ip: {{ . | Quote }}
      {{ end }}
      {{ end }}
      {{ end }}"""


def _conditions(ready: bool) -> str:
    status = '"True"' if ready else '"False"'
    reason = "" if ready else "\n        reason: ContainersNotReady"
    return f"""\
      conditions:
      - lastTransitionTime: {{{{ $now | Quote }}}}
        status: "True"
        type: Initialized
      - lastTransitionTime: {{{{ $now | Quote }}}}
        status: {status}{reason}
        type: Ready
      - lastTransitionTime: {{{{ $now | Quote }}}}
        status: {status}{reason}
        type: ContainersReady"""


POD_READY = f"""\
apiVersion: kwok.x-k8s.io/v1alpha1
kind: Stage
metadata:
  name: lab-pod-ready
spec:
  resourceRef:
    apiGroup: v1
    kind: Pod
  selector:
    matchExpressions:
{_NOT_DELETING}
    - key: '.metadata.labels["{CRASHLOOP_LABEL}"]'
      operator: 'DoesNotExist'
    - key: '.metadata.labels["{NOTREADY_LABEL}"]'
      operator: 'DoesNotExist'
    - key: '.status.phase'
      operator: 'In'
      values: ['Pending', 'Running']
    - key: '.status.conditions.[] | select( .type == "Ready" ) | .status'
      operator: 'NotIn'
      values: ['True']
  next:
    statusTemplate: |
      {{{{ $now := Now }}}}
      {{{{ $root := . }}}}
{_conditions(True)}
      containerStatuses:
      {{{{ range $item := .spec.containers }}}}
{_PREV_RESTARTS}
      - image: {{{{ $item.image | Quote }}}}
        name: {{{{ $item.name | Quote }}}}
        ready: true
        started: true
        restartCount: {{{{ $prev }}}}
        state:
          running:
            startedAt: {{{{ $now | Quote }}}}
      {{{{ end }}}}
{_POD_IPS}
      phase: Running
      startTime: {{{{ or .status.startTime $now | Quote }}}}
"""
"""Pods become Running and Ready (also after a lab label is removed, keeping restarts)."""

POD_CRASHLOOP = f"""\
apiVersion: kwok.x-k8s.io/v1alpha1
kind: Stage
metadata:
  name: lab-pod-crashloop
spec:
  resourceRef:
    apiGroup: v1
    kind: Pod
  selector:
    matchExpressions:
{_NOT_DELETING}
    - key: '.metadata.labels["{CRASHLOOP_LABEL}"]'
      operator: 'In'
      values: ['true']
    - key: '.status.phase'
      operator: 'In'
      values: ['Pending', 'Running']
  delay:
    # kwok reads the jitter as the upper bound of the delay, not an addition.
    durationMilliseconds: 1500
    jitterDurationMilliseconds: 2500
  next:
    statusTemplate: |
      {{{{ $now := Now }}}}
      {{{{ $root := . }}}}
{_conditions(False)}
      containerStatuses:
      {{{{ range $item := .spec.containers }}}}
{_PREV_RESTARTS}
      - image: {{{{ $item.image | Quote }}}}
        name: {{{{ $item.name | Quote }}}}
        ready: false
        started: false
        restartCount: {{{{ add1 $prev }}}}
        lastState:
          terminated:
            exitCode: 1
            reason: Error
            startedAt: {{{{ $now | Quote }}}}
            finishedAt: {{{{ $now | Quote }}}}
        state:
          waiting:
            reason: CrashLoopBackOff
            message: {{{{ printf "back-off restarting failed container %s" $item.name | Quote }}}}
      {{{{ end }}}}
{_POD_IPS}
      phase: Running
      startTime: {{{{ or .status.startTime $now | Quote }}}}
"""
"""Every 1.5-2.5 s: restartCount + 1, waiting CrashLoopBackOff, Ready False."""

POD_NOTREADY = f"""\
apiVersion: kwok.x-k8s.io/v1alpha1
kind: Stage
metadata:
  name: lab-pod-notready
spec:
  resourceRef:
    apiGroup: v1
    kind: Pod
  selector:
    matchExpressions:
{_NOT_DELETING}
    - key: '.metadata.labels["{NOTREADY_LABEL}"]'
      operator: 'In'
      values: ['true']
    - key: '.metadata.labels["{CRASHLOOP_LABEL}"]'
      operator: 'DoesNotExist'
    - key: '.status.phase'
      operator: 'In'
      values: ['Pending', 'Running']
    - key: '.status.conditions.[] | select( .type == "Ready" ) | .status'
      operator: 'NotIn'
      values: ['False']
  next:
    statusTemplate: |
      {{{{ $now := Now }}}}
      {{{{ $root := . }}}}
{_conditions(False)}
      containerStatuses:
      {{{{ range $item := .spec.containers }}}}
{_PREV_RESTARTS}
      - image: {{{{ $item.image | Quote }}}}
        name: {{{{ $item.name | Quote }}}}
        ready: false
        started: true
        restartCount: {{{{ $prev }}}}
        state:
          running:
            startedAt: {{{{ $now | Quote }}}}
      {{{{ end }}}}
{_POD_IPS}
      phase: Running
      startTime: {{{{ or .status.startTime $now | Quote }}}}
"""
"""Running, containers started, Ready False (a failing readiness probe)."""

KWOK_OPTIONS = """\
apiVersion: config.kwok.x-k8s.io/v1alpha1
kind: KwokConfiguration
options:
  cidr: 10.244.0.0/16
  nodeLeaseDurationSeconds: 40
  nodeLeaseParallelism: 4
  nodePlayStageParallelism: 4
  podPlayStageParallelism: 8
  podsOnNodeSyncParallelism: 1
  # Pod logs (/containerLogs) are served only with the debugging handlers; profiling is not needed.
  enableDebuggingHandlers: true
  enableProfilingHandler: false
"""


DEFAULT_LOG = "".join(f"2026-01-01T00:00:{i:02d}.000000000Z stdout F INFO GET /api/items 200\n"
                      for i in range(20))
"""What every pod logs unless a test arranges otherwise: 20 ordinary lines in the CRI
log format (timestamp, stream, F for a full line, text) that kwok reads."""


def default_logs(log_file: Path) -> str:
    """Every pod's log is ``log_file`` unless a ``Logs`` object names the pod.

    Without it, reading the log of a pod nobody arranged is an error, and an empty
    log would leave the guard's log trigger inconclusive, which holds the guard.
    """
    return ("apiVersion: kwok.x-k8s.io/v1alpha1\nkind: ClusterLogs\n"
            "metadata:\n  name: lab-default-logs\n"
            f"spec:\n  logs:\n  - logsFile: {json.dumps(str(log_file))}\n")


def kwok_config(stages_dir: Path, log_file: Path) -> str:
    """The whole kwok --config file: options, upstream stages, the lab's, default logs."""
    docs = [KWOK_OPTIONS]
    docs += [(stages_dir / rel).read_text() for rel in UPSTREAM_STAGES]
    docs += [POD_READY, POD_CRASHLOOP, POD_NOTREADY, default_logs(log_file)]
    return "\n---\n".join(doc.strip("\n") + "\n" for doc in docs)
