"""The app chart renders the production specification from values, and lints clean for
every value set; the turnout chart renders the guard and the roles for people."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.charts.charts import (
    APP_CHART,
    TURNOUT_CHART,
    VALUE_SETS,
    by_kind,
    render,
    run_helm,
    value_set,
    values_file,
)


@pytest.mark.parametrize("name", sorted(VALUE_SETS))
def test_lint_is_clean_for_every_value_set(name: str, tmp_path: Path) -> None:
    done = run_helm("lint", "--strict", str(APP_CHART), "--namespace", "shop",
                    "--values", str(values_file(VALUE_SETS[name], tmp_path)), home=tmp_path)
    assert "0 chart(s) failed" in done.stdout


def test_lint_of_the_turnout_chart_with_example_bindings(tmp_path: Path) -> None:
    values = {"roles": {"operators": {"groups": ["sre"]}, "viewers": {"users": ["ann"]}}}
    done = run_helm("lint", "--strict", str(TURNOUT_CHART),
                    "--values", str(values_file(values, tmp_path)), home=tmp_path)
    assert "0 chart(s) failed" in done.stdout


def test_each_color_is_a_deployment_of_the_specification(tmp_path: Path) -> None:
    deployments = by_kind(render(value_set("nginx", tls=True, hpa=False), tmp_path), "Deployment")
    assert sorted(deployments) == ["shop-blue", "shop-green"]
    for color, d in (("blue", deployments["shop-blue"]), ("green", deployments["shop-green"])):
        labels = {"app.kubernetes.io/name": "shop", "turnout.dev/color": color}
        assert d["spec"]["selector"]["matchLabels"] == labels
        assert d["spec"]["replicas"] == 3
        assert d["spec"]["strategy"] == {"type": "RollingUpdate",
                                         "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}}
        pod = d["spec"]["template"]["spec"]
        assert d["spec"]["template"]["metadata"]["labels"]["app.kubernetes.io/version"] == (
            "1.4.2" if color == "blue" else "1.5.0")
        (app,) = pod["containers"]
        assert app["resources"] == {"requests": {"cpu": "200m", "memory": "256Mi"},
                                    "limits": {"cpu": "500m", "memory": "512Mi"}}
        assert app["livenessProbe"] == {"httpGet": {"path": "/health", "port": "http"},
                                        "initialDelaySeconds": 30, "periodSeconds": 10}
        assert app["readinessProbe"] == {"httpGet": {"path": "/ready", "port": "http"},
                                         "initialDelaySeconds": 10, "periodSeconds": 5}
        assert app["startupProbe"] == {"httpGet": {"path": "/health", "port": "http"},
                                       "failureThreshold": 30, "periodSeconds": 5}
        assert app["securityContext"] == {
            "runAsNonRoot": True, "runAsUser": 1000, "allowPrivilegeEscalation": False,
            "readOnlyRootFilesystem": True, "capabilities": {"drop": ["ALL"]},
            "seccompProfile": {"type": "RuntimeDefault"}}
        assert pod["securityContext"]["runAsUser"] == 1000
        assert pod["securityContext"]["runAsNonRoot"] is True
        assert pod["imagePullSecrets"] == [{"name": "registry-creds"}]
        assert app["envFrom"] == [{"secretRef": {"name": "shop-env"}}]
        anti = pod["affinity"]["podAntiAffinity"]["preferredDuringSchedulingIgnoredDuringExecution"]
        assert anti[0]["podAffinityTerm"]["topologyKey"] == "kubernetes.io/hostname"
        assert anti[0]["podAffinityTerm"]["labelSelector"]["matchLabels"] == labels
        assert pod["serviceAccountName"] == "shop" and pod["automountServiceAccountToken"] is False


def test_hard_anti_affinity_refuses_two_pods_of_a_color_on_one_node(tmp_path: Path) -> None:
    values = {**value_set("none", tls=False, hpa=False), "antiAffinity": "hard"}
    pod = by_kind(render(values, tmp_path), "Deployment")["shop-blue"]["spec"]["template"]["spec"]
    assert "requiredDuringSchedulingIgnoredDuringExecution" in pod["affinity"]["podAntiAffinity"]


def test_hpa_per_color_takes_the_replicas_over(tmp_path: Path) -> None:
    objects = render(value_set("nginx", tls=False, hpa=True), tmp_path)
    hpas = by_kind(objects, "HorizontalPodAutoscaler")
    assert sorted(hpas) == ["shop-blue", "shop-green"]
    spec = hpas["shop-green"]["spec"]
    assert spec["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment",
                                      "name": "shop-green"}
    assert (spec["minReplicas"], spec["maxReplicas"]) == (2, 10)
    targets = {m["resource"]["name"]: m["resource"]["target"]["averageUtilization"]
               for m in spec["metrics"]}
    assert targets == {"cpu": 70, "memory": 80}
    assert all("replicas" not in d["spec"] for d in by_kind(objects, "Deployment").values())
    assert not by_kind(render(value_set("nginx", tls=False, hpa=False), tmp_path),
                       "HorizontalPodAutoscaler")


def test_pdb_per_color(tmp_path: Path) -> None:
    pdbs = by_kind(render(value_set("none", tls=False, hpa=False), tmp_path), "PodDisruptionBudget")
    assert pdbs["shop-blue"]["spec"] == {
        "minAvailable": 1,
        "selector": {"matchLabels": {"app.kubernetes.io/name": "shop", "turnout.dev/color": "blue"}}}
    assert sorted(pdbs) == ["shop-blue", "shop-green"]


def test_live_and_preview_services_follow_the_live_value(tmp_path: Path) -> None:
    values = {**value_set("none", tls=False, hpa=False), "live": "green"}
    services = by_kind(render(values, tmp_path), "Service")
    assert sorted(services) == ["shop", "shop-preview"]
    assert services["shop"]["spec"]["selector"]["turnout.dev/color"] == "green"
    assert services["shop-preview"]["spec"]["selector"]["turnout.dev/color"] == "blue"
    assert services["shop"]["metadata"]["annotations"]["turnout.dev/canary-plan"] == "10,50,100"


def test_nginx_ingress_has_tls_from_cert_manager_rate_limits_and_a_canary(tmp_path: Path) -> None:
    ingresses = by_kind(render(value_set("nginx", tls=True, hpa=False), tmp_path), "Ingress")
    main, canary = ingresses["shop"], ingresses["shop-canary"]
    notes = main["metadata"]["annotations"]
    assert notes["cert-manager.io/cluster-issuer"] == "letsencrypt"
    assert notes["nginx.ingress.kubernetes.io/limit-rps"] == "20"
    assert notes["nginx.ingress.kubernetes.io/limit-connections"] == "10"
    assert main["spec"]["tls"] == [{"hosts": ["shop.example.com"], "secretName": "shop-tls"}]
    assert main["spec"]["rules"][0]["host"] == "shop.example.com"
    assert canary["metadata"]["annotations"] == {"nginx.ingress.kubernetes.io/canary": "true",
                                                 "nginx.ingress.kubernetes.io/canary-weight": "10"}
    assert canary["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]["name"] == (
        "shop-preview")
    plain = by_kind(render(value_set("nginx", tls=False, hpa=False), tmp_path), "Ingress")["shop"]
    assert "tls" not in plain["spec"]
    assert "cert-manager.io/cluster-issuer" not in plain["metadata"]["annotations"]


def test_gateway_router_is_an_httproute_with_a_backend_per_color(tmp_path: Path) -> None:
    objects = render(value_set("gateway", tls=True, hpa=False), tmp_path)
    assert not by_kind(objects, "Ingress")
    route = by_kind(objects, "HTTPRoute")["shop"]
    assert route["spec"]["rules"][0]["backendRefs"] == [
        {"name": "shop-blue", "port": 80, "weight": 90},
        {"name": "shop-green", "port": 80, "weight": 10}]
    assert route["spec"]["parentRefs"] == [{"name": "edge"}]
    assert {"shop-blue", "shop-green"} <= set(by_kind(objects, "Service"))
    gateway = by_kind(objects, "Gateway")["edge"]
    https = [li for li in gateway["spec"]["listeners"] if li["protocol"] == "HTTPS"]
    assert https[0]["tls"]["certificateRefs"] == [{"name": "shop-tls"}]


def test_no_router_renders_no_canary(tmp_path: Path) -> None:
    objects = render(value_set("none", tls=True, hpa=False), tmp_path)
    assert sorted(by_kind(objects, "Ingress")) == ["shop"]
    assert not by_kind(objects, "HTTPRoute")


def test_network_policy_denies_by_default(tmp_path: Path) -> None:
    values = {**value_set("none", tls=False, hpa=False),
              "networkPolicy": {"egress": [{"to": [{"ipBlock": {"cidr": "10.1.0.0/16"}}],
                                            "ports": [{"port": 5432}]}]}}
    policy = by_kind(render(values, tmp_path), "NetworkPolicy")["shop"]["spec"]
    assert policy["podSelector"] == {"matchLabels": {"app.kubernetes.io/name": "shop"}}
    assert policy["policyTypes"] == ["Ingress", "Egress"]
    sources = [r["from"][0]["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"]
               for r in policy["ingress"]]
    assert sources == ["ingress-nginx", "monitoring"]
    assert {p["port"] for p in policy["egress"][0]["ports"]} == {53}
    assert policy["egress"][1] == {"to": [{"ipBlock": {"cidr": "10.1.0.0/16"}}],
                                   "ports": [{"port": 5432}]}


def test_rbac_is_least_privilege_and_secrets_are_never_inlined(tmp_path: Path) -> None:
    objects = render(value_set("nginx", tls=True, hpa=True), tmp_path)
    assert not by_kind(objects, "Secret")
    (role,) = by_kind(objects, "Role").values()
    assert role["rules"] == [{"apiGroups": [""], "resources": ["configmaps"],
                              "resourceNames": ["shop"], "verbs": ["get"]}]
    binding = by_kind(objects, "RoleBinding")["shop"]
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": "shop", "namespace": "shop"}]
    assert by_kind(objects, "ServiceAccount")["shop"]["automountServiceAccountToken"] is False


def test_namespace_is_labelled_restricted_when_rendered(tmp_path: Path) -> None:
    values = {**value_set("none", tls=False, hpa=False), "namespace": {"create": True}}
    namespace = by_kind(render(values, tmp_path), "Namespace")["shop"]
    assert namespace["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"


@pytest.mark.parametrize(("key", "value", "says"), [("router", "istio", "router must be"),
                                                    ("live", "red", "live must be")])
def test_bad_values_fail_to_render(key: str, value: str, says: str, tmp_path: Path) -> None:
    values = {**value_set("none", tls=False, hpa=False), key: value}
    done = run_helm("template", "shop", str(APP_CHART),
                    "--values", str(values_file(values, tmp_path)), home=tmp_path, check=False)
    assert done.returncode != 0 and says in done.stderr


def test_turnout_chart_renders_the_guard_and_both_roles(tmp_path: Path) -> None:
    values = {"roles": {"operators": {"groups": ["sre"]}, "viewers": {"groups": ["dev"]}}}
    objects = render(values, tmp_path, chart=TURNOUT_CHART, namespace="turnout-system",
                     release="turnout")
    assert sorted(by_kind(objects, "ClusterRole")) == [
        "turnout-guard", "turnout-operator", "turnout-viewer"]
    bindings = by_kind(objects, "ClusterRoleBinding")
    assert bindings["turnout-operator"]["subjects"] == [
        {"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": "sre"}]
    guard = by_kind(objects, "Deployment")["turnout-guard"]
    assert guard["metadata"]["namespace"] == "turnout-system"
    config = by_kind(objects, "ConfigMap")["turnout-guard"]["data"]["config.yaml"]
    assert "lease_namespace: turnout-system" in config
    viewer = by_kind(objects, "ClusterRole")["turnout-viewer"]
    assert all(set(rule["verbs"]) <= {"get", "list", "watch"} for rule in viewer["rules"])
    assert not any("secrets" in rule["resources"] for rule in
                   [*viewer["rules"], *by_kind(objects, "ClusterRole")["turnout-operator"]["rules"]])


def test_the_turnout_chart_renders_deploy_guard_yaml_by_default(tmp_path: Path) -> None:
    """deploy/guard.yaml (for kubectl apply) and the chart stay the same objects."""
    import yaml

    from tests.charts.charts import REPO

    plain = [d for d in yaml.safe_load_all((REPO / "deploy" / "guard.yaml").read_text()) if d]
    charted = render({"roles": {"enabled": False}}, tmp_path, chart=TURNOUT_CHART,
                     namespace="turnout-system", release="turnout")

    def keyed(objs: list[dict]) -> dict[tuple[str, str], dict]:
        out = {}
        for obj in objs:
            if obj["kind"] == "ConfigMap":
                obj["data"]["config.yaml"] = yaml.safe_load(obj["data"]["config.yaml"])
            out[(obj["kind"], obj["metadata"]["name"])] = obj
        return out

    assert keyed(charted) == keyed([d for d in plain if d["kind"] != "Namespace"])
