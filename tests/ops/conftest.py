"""The lab's fixtures, shared with this folder (pytest_plugins works only at the root)."""

from __future__ import annotations

from tests.kube import conftest as kube_conftest

lab = kube_conftest.lab
kube = kube_conftest.kube
lab_namespace = kube_conftest.lab_namespace
