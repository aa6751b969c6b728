"""The Helm chart, rendered by the real `helm` (`make helm`) and checked manifest by manifest.

No cluster is needed: `helm lint` and `helm template` run offline, and the rendered env is fed
to the services' own Settings classes, so a misspelt variable or a value they would refuse at
start fails here instead of in a crash-looping pod.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import ssl
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic_settings import BaseSettings

from s8_analytics.settings import AnalyticsSettings
from s8_intake.settings import IntakeSettings
from s8_router.settings import RouterSettings
from s8_shared.settings import ServiceSettings
from s8_sla_monitor.settings import SlaMonitorSettings
from s8_survey.settings import SurveySettings

REPO = Path(__file__).resolve().parents[2]
CHART = REPO / "deploy" / "k8s" / "s8"
VALUES_DIR = REPO / "deploy" / "k8s" / "values"
KUBE_VERSION = "1.31.0"
RELEASE = "s8"

# Resource suffix → (values key, Python module, Settings class)
SERVICES: dict[str, tuple[str, str, type[ServiceSettings]]] = {
    "intake": ("intake", "s8_intake", IntakeSettings),
    "router": ("router", "s8_router", RouterSettings),
    "sla-monitor": ("slaMonitor", "s8_sla_monitor", SlaMonitorSettings),
    "survey": ("survey", "s8_survey", SurveySettings),
    "analytics": ("analytics", "s8_analytics", AnalyticsSettings),
}
CASES = ["default", "small", "production"]

Manifest = dict[str, Any]


def helm_binary() -> str:
    path = (
        os.environ.get("S8_HELM")
        or (
            str(REPO / ".local/tools/bin/helm")
            if (REPO / ".local/tools/bin/helm").exists()
            else None
        )
        or shutil.which("helm")
    )
    if not path:
        raise AssertionError("Helm is needed for the chart tests: `make helm`")
    return path


def helm(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [helm_binary(), *args, "--kube-version", KUBE_VERSION],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def values_args(case: str) -> list[str]:
    return [] if case == "default" else ["-f", str(VALUES_DIR / f"{case}.yaml")]


@dataclass(frozen=True)
class Rendered:
    manifests: list[Manifest]

    def of_kind(self, kind: str) -> list[Manifest]:
        return [m for m in self.manifests if m["kind"] == kind]

    def get(self, kind: str, name: str) -> Manifest:
        found = [m for m in self.of_kind(kind) if m["metadata"]["name"] == name]
        assert len(found) == 1, f"expected one {kind} {name}, found {len(found)}"
        return found[0]

    def deployments(self) -> Iterator[tuple[str, Manifest]]:
        """(service suffix, Deployment) for every s8 service rendered."""
        for deployment in self.of_kind("Deployment"):
            yield deployment["metadata"]["name"].removeprefix(f"{RELEASE}-"), deployment

    def deployment(self, service: str) -> Manifest:
        return self.get("Deployment", f"{RELEASE}-{service}")


def template(*args: str) -> Rendered:
    result = helm("template", RELEASE, str(CHART), *args)
    assert result.returncode == 0, result.stderr
    return Rendered([m for m in yaml.safe_load_all(result.stdout) if m])


@cache
def rendered(case: str) -> Rendered:
    return template(*values_args(case))


def template_with(values: dict[str, Any], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    """Renders with a values *file* (numbers then reach the templates as Helm parses files)."""
    path = tmp_path / "values.yaml"
    path.write_text(yaml.safe_dump(values))
    return helm("template", RELEASE, str(CHART), "-f", str(path))


def container(deployment: Manifest) -> Manifest:
    containers = deployment["spec"]["template"]["spec"]["containers"]
    assert len(containers) == 1
    result: Manifest = containers[0]
    return result


def env_of(rendered_: Rendered, deployment: Manifest) -> dict[str, Any]:
    """Env of the container as Kubernetes would assemble it: envFrom ConfigMaps, then env."""
    spec = container(deployment)
    env: dict[str, Any] = {}
    for source in spec.get("envFrom", []):
        env.update(rendered_.get("ConfigMap", source["configMapRef"]["name"])["data"])
    for var in spec.get("env", []):
        env[var["name"]] = var.get("value", var.get("valueFrom"))
    return env


def secret_ref(env: dict[str, Any], name: str) -> tuple[str, str]:
    ref = env[name]["secretKeyRef"]
    return ref["name"], ref["key"]


def resolve_env(rendered_: Rendered, env: dict[str, Any]) -> dict[str, str]:
    """Secret references → values: the chart's dev Secret when rendered, else realistic fakes."""
    secrets = {s["metadata"]["name"]: s.get("stringData", {}) for s in rendered_.of_kind("Secret")}
    resolved: dict[str, str] = {}
    for name, value in env.items():
        if isinstance(value, str):
            resolved[name] = value
            continue
        secret, key = secret_ref(env, name)
        if secret in secrets:
            resolved[name] = secrets[secret][key]
        else:
            resolved[name] = {
                "S8_MONGO_URI": "mongodb+srv://s8:pw@mongo.example.internal/?tls=true",
                "S8_API_KEYS": '["k-8f3a", "k-19bc"]',
                "S8_SURVEY_HMAC_KEY": "c0ffee" * 8,
                "S8_KAFKA_SASL_USERNAME": "s8",
                "S8_KAFKA_SASL_PASSWORD": "kafka-pw",
            }[name]
    return resolved


def load_settings(
    monkeypatch: pytest.MonkeyPatch, cls: type[BaseSettings], env: dict[str, str]
) -> BaseSettings:
    for name in list(os.environ):
        if name.startswith("S8_"):
            monkeypatch.delenv(name)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return cls()


def field_env_names(cls: type[BaseSettings]) -> set[str]:
    return {f"S8_{name.upper()}" for name in cls.model_fields}


# --- lint and structure ---------------------------------------------------------------


@pytest.mark.parametrize("case", CASES)
def test_helm_lint_passes_strict(case: str) -> None:
    result = helm("lint", str(CHART), "--strict", *values_args(case))
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("case", CASES)
def test_five_deployments_each_running_its_service_module(case: str) -> None:
    deployments = dict(rendered(case).deployments())
    assert set(deployments) == set(SERVICES)
    for service, deployment in deployments.items():
        spec = container(deployment)
        assert spec["command"] == ["python", "-m", SERVICES[service][1]]
        assert importlib.util.find_spec(SERVICES[service][1]) is not None
        assert spec["image"].split("/")[-1].startswith(f"s8-{service}:")


@pytest.mark.parametrize("case", CASES)
def test_every_container_has_probes_resources_and_a_locked_down_security_context(
    case: str,
) -> None:
    out = rendered(case)
    workloads = [d["spec"]["template"]["spec"] for _, d in out.deployments()]
    workloads += [j["spec"]["template"]["spec"] for j in out.of_kind("Job")]
    assert len(workloads) == 6  # five services and the topic Job
    for pod in workloads:
        assert pod["securityContext"]["runAsNonRoot"] is True
        assert pod["securityContext"]["runAsUser"] > 0
        assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
        assert pod["automountServiceAccountToken"] is False
        tmp_volumes = {v["name"] for v in pod["volumes"] if "emptyDir" in v}
        for spec in pod["containers"]:
            security = spec["securityContext"]
            assert security["runAsNonRoot"] is True
            assert security["readOnlyRootFilesystem"] is True
            assert security["allowPrivilegeEscalation"] is False
            assert security["capabilities"]["drop"] == ["ALL"]
            assert "add" not in security["capabilities"]
            resources = spec["resources"]
            assert {"cpu", "memory"} <= set(resources["requests"])
            assert "memory" in resources["limits"]
            # The only writable path is an emptyDir at /tmp.
            mounts = {m["mountPath"]: m["name"] for m in spec["volumeMounts"]}
            assert mounts["/tmp"] in tmp_volumes


@pytest.mark.parametrize("case", CASES)
def test_probes_hit_healthz_and_readyz_on_the_port_the_service_listens_on(case: str) -> None:
    out = rendered(case)
    for _, deployment in out.deployments():
        spec = container(deployment)
        ports = {p["name"]: p["containerPort"] for p in spec["ports"]}
        assert int(env_of(out, deployment)["S8_HTTP_PORT"]) == ports["http"]
        assert env_of(out, deployment)["S8_HTTP_HOST"] == "0.0.0.0"  # probes come from outside
        expected = {
            "startupProbe": "/healthz",
            "livenessProbe": "/healthz",
            "readinessProbe": "/readyz",
        }
        for probe, path in expected.items():
            assert spec[probe]["httpGet"] == {"path": path, "port": "http"}, probe


# --- env: the services' own Settings accept what the chart renders --------------------------


@pytest.mark.parametrize("case", CASES)
def test_rendered_env_names_are_real_settings_and_the_services_accept_them(
    case: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    out = rendered(case)
    # Stands in for the CA Secret the pod mounts (the settings check the file exists).
    mounted_ca = tmp_path / "ca.crt"
    mounted_ca.write_text(Path(ssl.get_default_verify_paths().cafile or "").read_text())
    for service, deployment in out.deployments():
        cls = SERVICES[service][2]
        env = resolve_env(out, env_of(out, deployment))
        if "S8_KAFKA_SSL_CAFILE" in env:
            env = {**env, "S8_KAFKA_SSL_CAFILE": str(mounted_ca)}
        unknown = {n for n in env if n.startswith("S8_")} - field_env_names(cls)
        assert not unknown, f"{service}: env the service would silently ignore: {unknown}"
        settings = load_settings(monkeypatch, cls, env)
        assert isinstance(settings, ServiceSettings)
        assert settings.http_host == "0.0.0.0"
        assert settings.provision_topics is False  # the Job provisions
        assert settings.kafka_bootstrap_servers == env["S8_KAFKA_BOOTSTRAP_SERVERS"]


def test_production_reads_mongo_kafka_credentials_and_api_keys_from_existing_secrets() -> None:
    out = rendered("production")
    assert not out.of_kind("Secret")  # nothing secret in the release
    for service, deployment in out.deployments():
        env = env_of(out, deployment)
        assert secret_ref(env, "S8_MONGO_URI") == ("s8-mongo", "uri")
        assert secret_ref(env, "S8_KAFKA_SASL_USERNAME") == ("s8-kafka", "username")
        assert secret_ref(env, "S8_KAFKA_SASL_PASSWORD") == ("s8-kafka", "password")
        assert env["S8_KAFKA_SECURITY_PROTOCOL"] == "SASL_SSL"
        assert env["S8_KAFKA_SASL_MECHANISM"] == "SCRAM-SHA-512"
        assert env["S8_KAFKA_BOOTSTRAP_SERVERS"].count(":9096") == 3
        assert env["S8_ENVIRONMENT"] == "production"
        assert (
            env["S8_OTEL_EXPORTER_OTLP_ENDPOINT"] == "http://otel-collector.observability.svc:4318"
        )
        # The CA bundle is mounted from its Secret where S8_KAFKA_SSL_CAFILE points.
        pod = deployment["spec"]["template"]["spec"]
        ca_volume = next(
            v for v in pod["volumes"] if v.get("secret", {}).get("secretName") == "s8-kafka-ca"
        )
        mount = next(
            m for m in container(deployment)["volumeMounts"] if m["name"] == ca_volume["name"]
        )
        assert env["S8_KAFKA_SSL_CAFILE"] == f"{mount['mountPath']}/ca.crt"
        if service == "intake":
            assert secret_ref(env, "S8_API_KEYS") == ("s8-app", "intake-api-keys")
        elif service == "survey":
            assert secret_ref(env, "S8_API_KEYS") == ("s8-app", "survey-api-keys")
            assert secret_ref(env, "S8_SURVEY_HMAC_KEY") == ("s8-app", "survey-hmac-key")
            assert env["S8_PUBLIC_BASE_URL"] == "https://survey.example.vn"
        else:
            assert "S8_API_KEYS" not in env


@pytest.mark.parametrize("case", ["default", "small"])
def test_plaintext_kafka_has_no_sasl_settings_and_no_ca(case: str) -> None:
    out = rendered(case)
    for _, deployment in out.deployments():
        env = env_of(out, deployment)
        assert env["S8_KAFKA_SECURITY_PROTOCOL"] == "PLAINTEXT"
        assert not {n for n in env if "SASL" in n}
        assert "S8_KAFKA_SSL_CAFILE" not in env


def test_small_install_uses_the_dev_secret_and_refuses_it_nowhere(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    out = rendered("small")
    (dev_secret,) = out.of_kind("Secret")
    # A hook, so it exists before the provisioning Job runs.
    assert "pre-install" in dev_secret["metadata"]["annotations"]["helm.sh/hook"]
    survey = env_of(out, out.deployment("survey"))
    assert secret_ref(survey, "S8_SURVEY_HMAC_KEY")[0] == dev_secret["metadata"]["name"]
    settings = load_settings(monkeypatch, SurveySettings, resolve_env(out, survey))
    assert isinstance(settings, SurveySettings)
    assert settings.environment == "development"
    assert settings.csat_delay_seconds == 60


def test_service_settings_reach_the_service_with_their_types(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    values = {
        "services": {
            "intake": {
                "settings": {
                    "max_body_bytes": 2_000_000,  # a float64 in Helm: must not render as 2e+06
                    "faq_threshold": 0.5,
                    "own_addresses": ["hotro@example.vn", "cskh@example.vn"],
                    "log_level": "DEBUG",  # replaces the release-wide level, no duplicate key
                }
            }
        }
    }
    result = template_with(values, tmp_path)
    assert result.returncode == 0, result.stderr
    out = Rendered([m for m in yaml.safe_load_all(result.stdout) if m])
    config = out.get("ConfigMap", f"{RELEASE}-intake")["data"]
    assert config["S8_MAX_BODY_BYTES"] == "2000000"
    assert config["S8_LOG_LEVEL"] == "DEBUG"
    assert out.get("ConfigMap", f"{RELEASE}-router")["data"]["S8_LOG_LEVEL"] == "INFO"
    env = resolve_env(out, env_of(out, out.deployment("intake")))
    settings = load_settings(monkeypatch, IntakeSettings, env)
    assert isinstance(settings, IntakeSettings)
    assert settings.max_body_bytes == 2_000_000
    assert settings.faq_threshold == 0.5
    assert settings.own_addresses == ["hotro@example.vn", "cskh@example.vn"]
    assert [k.get_secret_value() for k in settings.api_keys] == ["k-8f3a", "k-19bc"]


def test_settings_allowed_by_the_schema_exist_on_each_service_and_are_not_secrets() -> None:
    schema = json.loads((CHART / "values.schema.json").read_text())
    chart_managed = {
        "kafka",
        "http",
        "mongo_uri",
        "provision",
        "topic",
        "consumer",
        "environment",
        "otel",
    }
    for service, (key, _, cls) in SERVICES.items():
        allowed = schema["definitions"][f"settings_{key}"]["properties"]
        assert schema["definitions"][f"settings_{key}"]["additionalProperties"] is False
        for name in allowed:
            assert name in cls.model_fields, f"{service}: schema allows unknown setting {name}"
            annotation = str(cls.model_fields[name].annotation)
            assert "SecretStr" not in annotation, f"{service}: {name} is a secret"
            assert not any(name.startswith(p) for p in chart_managed), name


# --- scaling, disruption, scraping ---------------------------------------------------------


@pytest.mark.parametrize("case", CASES)
def test_hpa_exists_only_when_enabled_and_then_the_deployment_leaves_replicas_to_it(
    case: str,
) -> None:
    out = rendered(case)
    values = yaml.safe_load((VALUES_DIR / f"{case}.yaml").read_text()) if case != "default" else {}
    hpas = {h["spec"]["scaleTargetRef"]["name"]: h for h in out.of_kind("HorizontalPodAutoscaler")}
    for service, deployment in out.deployments():
        key = SERVICES[service][0]
        wanted = (
            values.get("services", {}).get(key, {}).get("autoscaling", {}).get("enabled", False)
        )
        name = deployment["metadata"]["name"]
        if wanted:
            assert hpas[name]["apiVersion"] == "autoscaling/v2"
            assert hpas[name]["spec"]["scaleTargetRef"]["kind"] == "Deployment"
            assert "replicas" not in deployment["spec"]
        else:
            assert name not in hpas
            assert deployment["spec"]["replicas"] >= 1
    if case == "production":
        assert len(hpas) == 3
    if case == "small":
        assert {d["spec"]["replicas"] for _, d in out.deployments()} == {1}


def labels_match(selector: dict[str, Any], labels: dict[str, str]) -> bool:
    if any(labels.get(k) != v for k, v in selector.get("matchLabels", {}).items()):
        return False
    for expression in selector.get("matchExpressions", []):
        assert expression["operator"] == "In"
        if labels.get(expression["key"]) not in expression["values"]:
            return False
    return True


@pytest.mark.parametrize("case", CASES)
def test_each_service_has_a_pdb_and_a_service_selecting_its_pods_only(case: str) -> None:
    out = rendered(case)
    pdbs = out.of_kind("PodDisruptionBudget")
    services = out.of_kind("Service")
    for _, deployment in out.deployments():
        pod_labels = deployment["spec"]["template"]["metadata"]["labels"]
        assert labels_match(deployment["spec"]["selector"], pod_labels)
        matching_pdbs = [p for p in pdbs if labels_match(p["spec"]["selector"], pod_labels)]
        assert len(matching_pdbs) == 1
        assert {"minAvailable", "maxUnavailable"} & set(matching_pdbs[0]["spec"])
        matching = [
            s for s in services if labels_match({"matchLabels": s["spec"]["selector"]}, pod_labels)
        ]
        assert len(matching) == 1
        assert matching[0]["spec"]["ports"][0]["targetPort"] == "http"
    assert len(pdbs) == 5


@pytest.mark.parametrize("case", ["default", "production"])
def test_service_monitor_scrapes_metrics_on_every_service(case: str) -> None:
    out = rendered(case)
    (monitor,) = out.of_kind("ServiceMonitor")
    assert monitor["apiVersion"] == "monitoring.coreos.com/v1"
    (endpoint,) = monitor["spec"]["endpoints"]
    assert endpoint["path"] == "/metrics"
    assert endpoint["honorLabels"] is True  # keeps the services' own `service` label
    scraped = [
        s
        for s in out.of_kind("Service")
        if labels_match(monitor["spec"]["selector"], s["metadata"]["labels"])
    ]
    assert sorted(s["metadata"]["name"] for s in scraped) == sorted(
        f"{RELEASE}-{n}" for n in SERVICES
    )
    for service in scraped:
        assert endpoint["port"] in {p["name"] for p in service["spec"]["ports"]}
    if case == "production":
        assert monitor["metadata"]["labels"]["release"] == "kube-prometheus-stack"


def test_small_install_has_no_service_monitor() -> None:
    assert not rendered("small").of_kind("ServiceMonitor")


# --- topics Job and Ingress ---------------------------------------------------------------


@pytest.mark.parametrize("case", CASES)
def test_topic_job_runs_the_provision_module_with_the_services_kafka_settings(case: str) -> None:
    out = rendered(case)
    (job,) = out.of_kind("Job")
    hooks = set(job["metadata"]["annotations"]["helm.sh/hook"].split(","))
    assert hooks == {"pre-install", "pre-upgrade"}
    spec = job["spec"]["template"]["spec"]["containers"][0]
    assert spec["command"][:3] == ["python", "-m", "s8_shared.kafka.provision"]
    assert importlib.util.find_spec("s8_shared.kafka.provision") is not None
    replication = spec["command"][spec["command"].index("--replication-factor") + 1]
    job_env = {v["name"]: v.get("value", v.get("valueFrom")) for v in spec["env"]}
    intake_env = env_of(out, out.deployment("intake"))
    assert replication == intake_env["S8_KAFKA_REPLICATION_FACTOR"]
    for name, value in intake_env.items():
        if name.startswith("S8_KAFKA") or name in {"S8_TOPIC_NAMESPACE"}:
            assert job_env[name] == value, name
    # The image carries the topic list: the Job uses one of the service images.
    assert spec["image"] == container(out.deployment("intake"))["image"]


def test_ingress_only_when_enabled_and_then_routes_survey_pages_and_intake_webhooks() -> None:
    assert not rendered("default").of_kind("Ingress")
    assert not rendered("small").of_kind("Ingress")
    (ingress,) = rendered("production").of_kind("Ingress")
    routes = {
        (rule["host"], path["path"]): path["backend"]["service"]
        for rule in ingress["spec"]["rules"]
        for path in rule["http"]["paths"]
    }
    assert routes == {
        ("survey.example.vn", "/s"): {"name": f"{RELEASE}-survey", "port": {"name": "http"}},
        ("support-api.example.vn", "/v1/inbound"): {
            "name": f"{RELEASE}-intake",
            "port": {"name": "http"},
        },
    }
    tls_hosts = {h for tls in ingress["spec"]["tls"] for h in tls["hosts"]}
    assert {host for host, _ in routes} <= tls_hosts


def test_a_disabled_service_disappears_everywhere(tmp_path: Path) -> None:
    result = template_with({"services": {"analytics": {"enabled": False}}}, tmp_path)
    assert result.returncode == 0, result.stderr
    out = Rendered([m for m in yaml.safe_load_all(result.stdout) if m])
    assert "analytics" not in dict(out.deployments())
    assert not [m for m in out.manifests if m["metadata"]["name"] == f"{RELEASE}-analytics"]
    (monitor,) = out.of_kind("ServiceMonitor")
    assert "analytics" not in monitor["spec"]["selector"]["matchExpressions"][0]["values"]


# --- the schema refuses wrong values -------------------------------------------------------

BAD_VALUES: dict[str, dict[str, Any]] = {
    "replicas as a word": {"services": {"intake": {"replicas": "two"}}},
    "unknown top-level key": {"replicaCount": 3},
    "unknown service key": {"services": {"router": {"replica": 2}}},
    "unknown service": {"services": {"billing": {"enabled": True}}},
    "setting of another service": {"services": {"router": {"settings": {"faq_threshold": 0.5}}}},
    "setting out of range": {"services": {"intake": {"settings": {"faq_threshold": 2}}}},
    "chart-managed setting": {"services": {"intake": {"settings": {"mongo_uri": "mongodb://x"}}}},
    "SASL without a mechanism": {"kafka": {"securityProtocol": "SASL_SSL"}},
    "unknown security protocol": {"kafka": {"securityProtocol": "TLS"}},
    "bootstrap without a port": {"kafka": {"bootstrapServers": "kafka"}},
    "dev secret in production": {"devSecret": {"create": True}},
    "writable root filesystem": {"securityContext": {"readOnlyRootFilesystem": False}},
    "pull policy typo": {"image": {"pullPolicy": "IfNotPresnt"}},
    "resources without limits": {"services": {"survey": {"resources": {"limits": None}}}},
    "privileged port": {"http": {"port": 80}},
    "secret reference without key": {"secrets": {"mongoUri": {"name": "s8-mongo", "key": ""}}},
    "reserved key typo": {"grafanaDashboards": {"enable": True}},
}


@pytest.mark.parametrize("values", BAD_VALUES.values(), ids=BAD_VALUES.keys())
def test_wrong_values_fail_at_template_time(values: dict[str, Any], tmp_path: Path) -> None:
    result = template_with(values, tmp_path)
    assert result.returncode != 0, f"rendered despite {values}"
    assert "schema" in result.stderr, result.stderr


def test_hpa_bounds_are_checked(tmp_path: Path) -> None:
    values = {
        "services": {
            "router": {"autoscaling": {"enabled": True, "minReplicas": 8, "maxReplicas": 4}}
        }
    }
    result = template_with(values, tmp_path)
    assert result.returncode != 0
    assert "minReplicas (8) is above maxReplicas (4)" in result.stderr


def test_reserved_observability_keys_have_their_documented_defaults() -> None:
    values = yaml.safe_load((CHART / "values.yaml").read_text())
    assert values["grafanaDashboards"] == {
        "enabled": True,
        "labels": {"grafana_dashboard": "1"},
        "annotations": {},
        "namespace": "",
    }
    assert values["prometheusRule"] == {"enabled": True, "labels": {}}
    assert values["serviceMonitor"] == {"enabled": True, "interval": "30s", "labels": {}}
