"""Pod logs through the API server: kwok serves the fake nodes' kubelet API on 127.0.0.1."""

from __future__ import annotations

import pytest
from kubernetes import client
from kubernetes.client.rest import ApiException

from tests.lab.podlogs import arrange_logs
from tests.lab.test_lab import eventually, running_ready_pod

pytestmark = pytest.mark.lab


def log_of(core: client.CoreV1Api, namespace: str, pod: str, tail: int | None = None) -> list[str]:
    text = core.read_namespaced_pod_log(pod, namespace, tail_lines=tail, _preload_content=False)
    return text.data.decode().splitlines()


def test_a_pod_logs_the_lines_a_test_arranged(kube, lab_namespace, tmp_path) -> None:
    core = client.CoreV1Api(kube)
    running_ready_pod(core, lab_namespace, "talker")
    lines = [f"line {i}" for i in range(30)] + ["ERROR boom", "last line"]
    arrange_logs(kube, lab_namespace, "talker", lines, tmp_path)
    # kwok learns of the Logs object through a watch: poll until it is in effect.
    eventually(lambda: log_of(core, lab_namespace, "talker") == lines, timeout=60)
    assert log_of(core, lab_namespace, "talker", tail=2) == ["ERROR boom", "last line"]
    arrange_logs(kube, lab_namespace, "talker", ["rewritten"], tmp_path)
    assert log_of(core, lab_namespace, "talker") == ["rewritten"]


def test_a_pod_nobody_arranged_logs_ordinary_lines(kube, lab_namespace) -> None:
    core = client.CoreV1Api(kube)
    running_ready_pod(core, lab_namespace, "quiet")
    lines = log_of(core, lab_namespace, "quiet")
    assert len(lines) == 20
    assert all("INFO" in line and "ERROR" not in line for line in lines)


def test_the_readonly_user_reads_logs(lab, kube, lab_namespace, tmp_path) -> None:
    core = client.CoreV1Api(kube)
    running_ready_pod(core, lab_namespace, "watched")
    arrange_logs(kube, lab_namespace, "watched", ["seen by all"], tmp_path)
    readonly = lab.api_client("lab-readonly")
    try:
        eventually(lambda: log_of(client.CoreV1Api(readonly), lab_namespace, "watched")
                   == ["seen by all"], timeout=60)
    finally:
        readonly.close()


def test_the_log_of_a_missing_pod_is_not_found(kube, lab_namespace) -> None:
    with pytest.raises(ApiException) as missing:
        log_of(client.CoreV1Api(kube), lab_namespace, "nobody")
    assert missing.value.status == 404
