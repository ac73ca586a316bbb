"""The rollout probe's reading of a Deployment's status, on recorded JSON shapes."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest

from turnout.backend.release.kube_port import _Deployment, rollout_of


def deployment(generation: int = 2, **status: Any) -> _Deployment:
    body = {"metadata": {"name": "shop-green", "generation": generation},
            "spec": {"replicas": 3}, "status": {"observedGeneration": 2, **status}}
    return msgspec.json.decode(msgspec.json.encode(body), type=_Deployment)


DONE = {"replicas": 3, "updatedReplicas": 3, "readyReplicas": 3, "availableReplicas": 3}


def test_a_finished_rollout_is_done() -> None:
    rollout = rollout_of(deployment(**DONE))
    assert (rollout.done, rollout.ready, rollout.stalled) == (True, 3, "")


@pytest.mark.parametrize("status", [
    {**DONE, "replicas": 4},          # an old pod is still there
    {**DONE, "updatedReplicas": 2},   # one pod still runs the old template
    {**DONE, "availableReplicas": 2},
])
def test_old_pods_or_unready_new_ones_are_not_done(status: dict[str, int]) -> None:
    assert not rollout_of(deployment(**status)).done


def test_a_spec_the_controller_has_not_seen_is_not_done() -> None:
    assert not rollout_of(deployment(generation=3, **DONE)).done


def test_a_passed_progress_deadline_stalls_the_rollout() -> None:
    stalled = rollout_of(deployment(replicas=3, updatedReplicas=3, conditions=[
        {"type": "Progressing", "status": "False", "reason": "ProgressDeadlineExceeded",
         "message": 'ReplicaSet "shop-green-1" has timed out progressing.'}]))
    assert not stalled.done and stalled.stalled.startswith("ProgressDeadlineExceeded: ReplicaSet")
