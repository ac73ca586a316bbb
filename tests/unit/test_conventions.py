"""Per-namespace conventions, pure: the config merges a namespace's fields over the global
ones, color values map both ways, and set-image touches no label a template lacks."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from turnout.backend.config import Conventions, conventions_by_namespace, load_config
from turnout.backend.errors import ConfigError
from turnout.backend.kube import wire
from turnout.backend.kube.cluster import image_patch
from turnout.backend.kube.discover import Objects, by_namespace
from turnout.backend.kube.informer import app_of


def test_a_namespace_overrides_only_its_own_fields(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("conventions: {plan_annotation: x/plan}\n"
                    "namespace_conventions: {podinfo: {app_label: app, color_label: version}}\n")
    book = conventions_by_namespace(load_config(path))
    assert book["podinfo"] == Conventions(app_label="app", color_label="version",
                                          plan_annotation="x/plan")


def test_an_unknown_field_is_a_config_error(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("namespace_conventions: {podinfo: {colour_label: version}}\n")
    with pytest.raises(ConfigError, match="colour_label"):
        load_config(path)


@given(st.text(min_size=1, max_size=8), st.text(min_size=1, max_size=8), st.text(max_size=8))
def test_color_values_map_both_ways(blue: str, green: str, other: str) -> None:
    if blue == green:
        return
    conv = Conventions(blue=blue, green=green)
    assert conv.color(conv.value("blue")) == "blue" and conv.color(conv.value("green")) == "green"
    assert conv.color(other) == ("blue" if other == blue else "green" if other == green else None)


def test_objects_split_by_namespace() -> None:
    def dep(ns: str) -> wire.Deployment:
        return wire.Deployment(metadata=wire.Meta(name="d", namespace=ns))
    parts = dict(by_namespace(Objects(deployments=(dep("a"), dep("b"), dep("c"))), {"b"}))
    assert [d.metadata.namespace for d in parts[""].deployments] == ["a", "c"]
    assert [d.metadata.namespace for d in parts["b"].deployments] == ["b"]


def _deployment(labels: dict[str, str]) -> wire.Deployment:
    return wire.Deployment(metadata=wire.Meta(name="d", labels=labels), spec=wire.DeploymentSpec(
        template=wire.Template(metadata=wire.Meta(labels=labels),
                               spec=wire.PodSpec(containers=[wire.Container(name="app")]))))


def test_set_image_adds_no_label_a_template_does_not_carry() -> None:
    patch = image_patch(_deployment({"app": "podinfo"}), "reg/podinfo:6.6.0")
    assert patch == {"spec": {"template": {"spec": {"containers": [
        {"name": "app", "image": "reg/podinfo:6.6.0"}]}}}}
    owned = image_patch(_deployment({"app.kubernetes.io/version": "1"}), "reg/x:2")
    assert owned["metadata"]["labels"] == {"app.kubernetes.io/version": "2"}
    assert owned["spec"]["template"]["metadata"]["labels"] == {"app.kubernetes.io/version": "2"}


def test_service_names_follow_the_templates() -> None:
    conv = Conventions(live_service="{app}-live", preview_service="{app}-next")
    assert (conv.live_name("api"), conv.preview_name("api")) == ("api-live", "api-next")
    assert (Conventions().live_name("shop"), Conventions().preview_name("shop")) == (
        "shop", "shop-preview")


def _service(name: str, labels: dict[str, str] | None = None) -> wire.Service:
    return wire.Service(metadata=wire.Meta(name=name, namespace="ns", labels=labels or {}))


def test_an_unlabelled_object_is_keyed_to_its_app_by_the_namespaces_service_names() -> None:
    conv = Conventions(app_label="app", live_service="{app}-live", preview_service="{app}-next")
    assert [app_of(_service(n), conv) for n in ("api-live", "api-next", "api-green")] == [
        "api", "api", "api"]
    assert app_of(_service("svc-api", {"app": "api"}), conv) == "api"  # the label first
    wrapped = Conventions(live_service="web-{app}-svc")
    assert app_of(_service("web-api-svc"), wrapped) == "api"
    # The defaults: role suffixes, and a bare `{app}` live Service is the name itself.
    assert [app_of(_service(n), Conventions()) for n in ("shop", "shop-preview", "shop-canary")
            ] == ["shop", "shop", "shop"]


def test_an_app_label_is_the_app_even_when_it_ends_like_a_role() -> None:
    labelled = _service("edge-canary", {"app.kubernetes.io/name": "edge-canary"})
    assert app_of(labelled, Conventions()) == "edge-canary"
