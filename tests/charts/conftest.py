"""The lab's fixtures for the chart tests, and a namespace that enforces Pod Security
Standards `restricted`, as the lab's seeded apps have."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from tests.kube import conftest as kube_conftest

lab = kube_conftest.lab
kube = kube_conftest.kube
lab_namespace = kube_conftest.lab_namespace

RESTRICTED = {f"pod-security.kubernetes.io/{mode}": "restricted"
              for mode in ("enforce", "warn", "audit")}


@pytest.fixture
def restricted_namespace(kube) -> Iterator[str]:
    """A fresh namespace enforcing PSS restricted, deleted afterwards."""
    from kubernetes import client

    core = client.CoreV1Api(kube)
    name = f"lab-chart-{uuid.uuid4().hex[:8]}"
    core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(
        name=name, labels={"lab.turnout.dev/test": "true", **RESTRICTED})))
    yield name
    core.delete_namespace(name, propagation_policy="Background")
