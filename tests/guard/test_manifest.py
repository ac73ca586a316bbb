"""deploy/guard.yaml as the issue asks: two replicas electing a leader, probes, metrics, a
PodDisruptionBudget, anti-affinity, resources and the restricted security context."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import msgspec
import yaml

from turnout.backend.config import Config

MANIFEST = Path(__file__).resolve().parents[2] / "deploy" / "guard.yaml"


def objects() -> dict[str, dict[str, Any]]:
    return {doc["kind"]: doc for doc in yaml.safe_load_all(MANIFEST.read_text())}


def test_two_replicas_elect_a_leader_and_serve_probes_and_metrics() -> None:
    deployment = objects()["Deployment"]
    assert deployment["spec"]["replicas"] >= 2
    pod = deployment["spec"]["template"]["spec"]
    [guard] = pod["containers"]
    assert {"--leader-elect", "--listen"} <= set(guard["args"])
    assert guard["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert guard["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert guard["resources"]["requests"] and guard["resources"]["limits"]["memory"]
    assert pod["affinity"]["podAntiAffinity"]
    assert objects()["PodDisruptionBudget"]["spec"]["minAvailable"] == 1
    assert objects()["Service"]["spec"]["ports"][0]["targetPort"] == "http"


def test_the_restricted_security_context() -> None:
    pod = objects()["Deployment"]["spec"]["template"]["spec"]
    [guard] = pod["containers"]
    assert pod["securityContext"]["runAsUser"] == 1000 and pod["securityContext"]["runAsNonRoot"]
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    context = guard["securityContext"]
    assert context["readOnlyRootFilesystem"] and context["allowPrivilegeEscalation"] is False
    assert context["capabilities"] == {"drop": ["ALL"]}


def test_the_leader_lease_is_granted_and_configured() -> None:
    [rule] = objects()["Role"]["rules"]
    assert rule["resources"] == ["leases"] and {"get", "create", "update"} <= set(rule["verbs"])
    config = msgspec.convert(yaml.safe_load(objects()["ConfigMap"]["data"]["config.yaml"]), Config)
    guard = config.guard
    assert guard.lease_namespace == objects()["Role"]["metadata"]["namespace"]
    assert guard.retry_period < guard.renew_deadline < guard.lease_duration <= 15
