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
from s8_channels.settings import ChannelsSettings
from s8_desk.settings import DeskSettings
from s8_intake.settings import IntakeSettings
from s8_router.settings import RouterSettings
from s8_shared.identity.channel_keys import hash_key
from s8_shared.settings import DEV_SECRET, LOCAL_ISSUER, ServiceSettings
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
    "desk": ("desk", "s8_desk", DeskSettings),
    "channels": ("channels", "s8_channels", ChannelsSettings),
}
CASES = ["default", "small", "production"]
# A channel key a production Secret would hold (only its SHA-256 is configured).
FAKE_CHANNEL_KEY = "ck-3b9d0c7e41f2a8"

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

    def network_policy(self, name: str) -> Manifest:
        return self.get("NetworkPolicy", f"{RELEASE}-{name}")


def parse(stdout: str) -> Rendered:
    return Rendered([m for m in yaml.safe_load_all(stdout) if m])


def template(*args: str) -> Rendered:
    result = helm("template", RELEASE, str(CHART), *args)
    assert result.returncode == 0, result.stderr
    return parse(result.stdout)


@cache
def rendered(case: str) -> Rendered:
    return template(*values_args(case))


def template_with(values: dict[str, Any], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    """Renders with a values *file* (numbers then reach the templates as Helm parses files)."""
    path = tmp_path / "values.yaml"
    path.write_text(yaml.safe_dump(values))
    return helm("template", RELEASE, str(CHART), "-f", str(path))


def rendered_with(values: dict[str, Any], tmp_path: Path) -> Rendered:
    result = template_with(values, tmp_path)
    assert result.returncode == 0, result.stderr
    return parse(result.stdout)


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


def job_env(rendered_: Rendered) -> dict[str, Any]:
    """Env of the topic Job's container (inline values, no ConfigMap: it runs as a hook)."""
    (job,) = rendered_.of_kind("Job")
    (spec,) = job["spec"]["template"]["spec"]["containers"]
    return {v["name"]: v.get("value", v.get("valueFrom")) for v in spec["env"]}


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
                "S8_CHANNEL_KEYS": json.dumps(
                    [
                        {
                            "id": "pbx-2026-12",
                            "channel": "voice",
                            "sha256": hash_key(FAKE_CHANNEL_KEY),
                        }
                    ]
                ),
                "S8_SURVEY_HMAC_KEY": "c0ffee" * 8,
                "S8_KAFKA_SASL_USERNAME": secret.removeprefix("s8-kafka-"),
                "S8_KAFKA_SASL_PASSWORD": "kafka-pw",
                "S8_META": json.dumps(
                    {"app_secret": "s", "verify_token": "v", "page_tokens": {"1": "t"}}
                ),
                "S8_ZALO_ACCOUNTS": json.dumps(
                    [{"app_id": "a1", "oa_id": "o1", "secret_key": "k"}]
                ),
                "S8_TWILIO_ACCOUNTS": json.dumps(
                    [
                        {
                            "account_sid": "AC" + "0" * 32,
                            "auth_token": "t",
                            "numbers": ["+84900000000"],
                        }
                    ]
                ),
                "S8_STRINGEE_ACCOUNTS": json.dumps([{"account_sid": "SK1", "url_token": "u" * 32}]),
                "S8_SMTP_RELAY_PASSWORD": "relay-pw",
                "S8_IMAP_PASSWORD": "imap-pw",
                "S8_STRINGEE_URL_TOKEN": "r" * 32,
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
def test_six_deployments_each_running_its_service_module(case: str) -> None:
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
    assert len(workloads) == 8  # seven services and the topic Job
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
        assert settings.oidc_issuer == env["S8_OIDC_ISSUER"] != LOCAL_ISSUER


@pytest.mark.parametrize("case", CASES)
def test_the_topic_job_env_is_accepted_by_the_shared_settings(
    case: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The Job builds ServiceSettings too, so in production it passes the same guard."""
    out = rendered(case)
    mounted_ca = tmp_path / "ca.crt"
    mounted_ca.write_text(Path(ssl.get_default_verify_paths().cafile or "").read_text())
    env = resolve_env(out, job_env(out))
    if "S8_KAFKA_SSL_CAFILE" in env:
        env = {**env, "S8_KAFKA_SSL_CAFILE": str(mounted_ca)}
    unknown = {n for n in env if n.startswith("S8_")} - field_env_names(ServiceSettings)
    assert not unknown, f"env the Job would silently ignore: {unknown}"
    settings = load_settings(monkeypatch, ServiceSettings, env)
    assert isinstance(settings, ServiceSettings)
    assert settings.oidc_issuer == env["S8_OIDC_ISSUER"]


def test_production_reads_mongo_per_service_kafka_users_and_channel_keys_from_secrets() -> None:
    out = rendered("production")
    assert not out.of_kind("Secret")  # nothing secret in the release
    kafka_users = set()
    for service, deployment in out.deployments():
        env = env_of(out, deployment)
        assert secret_ref(env, "S8_MONGO_URI") == ("s8-mongo", "uri")
        # Each service logs in to Kafka as its own user.
        assert secret_ref(env, "S8_KAFKA_SASL_USERNAME") == (f"s8-kafka-{service}", "username")
        assert secret_ref(env, "S8_KAFKA_SASL_PASSWORD") == (f"s8-kafka-{service}", "password")
        kafka_users.add(secret_ref(env, "S8_KAFKA_SASL_USERNAME")[0])
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
        assert env["S8_ALLOW_PLAINTEXT_KAFKA"] == "false"
        assert env["S8_OIDC_ISSUER"] == "https://id.example.vn/realms/support"
        assert "S8_API_KEYS" not in env  # replaced by bearer tokens (and intake's channel keys)
        if service == "intake":
            assert secret_ref(env, "S8_CHANNEL_KEYS") == ("s8-app", "intake-channel-keys")
        else:
            assert "S8_CHANNEL_KEYS" not in env
        if service == "survey":
            assert secret_ref(env, "S8_SURVEY_HMAC_KEY") == ("s8-app", "survey-hmac-key")
            assert env["S8_PUBLIC_BASE_URL"] == "https://survey.example.vn"
        else:
            assert "S8_SURVEY_HMAC_KEY" not in env
        if service == "desk":  # the agents' writes go to the release's intake and router
            assert env["S8_INTAKE_URL"] == f"http://{RELEASE}-intake:80"
            assert env["S8_ROUTER_URL"] == f"http://{RELEASE}-router:80"
        else:
            assert not {"S8_INTAKE_URL", "S8_ROUTER_URL"} & set(env)
    # The topic Job has a user of its own too (the only one that needs to create topics).
    env = job_env(out)
    assert secret_ref(env, "S8_KAFKA_SASL_USERNAME") == ("s8-kafka-provisioning", "username")
    assert secret_ref(env, "S8_KAFKA_SASL_PASSWORD") == ("s8-kafka-provisioning", "password")
    kafka_users.add("s8-kafka-provisioning")
    assert len(kafka_users) == 8


def test_the_dev_secret_holds_one_kafka_user_for_every_process(tmp_path: Path) -> None:
    values = {
        "environment": "development",
        "devSecret": {"create": True, "kafkaSaslUsername": "s8", "kafkaSaslPassword": "dev-pw"},
        "kafka": {"securityProtocol": "SASL_PLAINTEXT", "saslMechanism": "PLAIN"},
    }
    out = rendered_with(values, tmp_path)
    (dev_secret,) = out.of_kind("Secret")
    name = dev_secret["metadata"]["name"]
    envs = [env_of(out, d) for _, d in out.deployments()] + [job_env(out)]
    assert len(envs) == 8
    for env in envs:
        assert secret_ref(env, "S8_KAFKA_SASL_USERNAME") == (name, "kafkaSaslUsername")
        assert secret_ref(env, "S8_KAFKA_SASL_PASSWORD") == (name, "kafkaSaslPassword")
    assert dev_secret["stringData"]["kafkaSaslUsername"] == "s8"


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
    # intake's development channel key: the SHA-256 of the development secret, for every channel.
    intake = env_of(out, out.deployment("intake"))
    assert secret_ref(intake, "S8_CHANNEL_KEYS") == (dev_secret["metadata"]["name"], "intakeChannelKeys")  # fmt: skip
    assert set(dev_secret["stringData"]) == {
        "mongoUri",
        "intakeChannelKeys",
        "surveyHmacKey",
        "kafkaSaslUsername",
        "kafkaSaslPassword",
    }
    intake_settings = load_settings(monkeypatch, IntakeSettings, resolve_env(out, intake))
    assert isinstance(intake_settings, IntakeSettings)
    (key,) = intake_settings.channel_keys
    assert (key.id, key.channel, key.sha256) == ("dev", "*", hash_key(DEV_SECRET))


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
    assert [(k.id, k.channel, k.sha256) for k in settings.channel_keys] == [
        ("pbx-2026-12", "voice", hash_key(FAKE_CHANNEL_KEY))
    ]
    assert settings.oidc_issuer == "https://id.s8.example.com/realms/s8"


@pytest.mark.parametrize("case", CASES)
def test_the_desk_calls_the_releases_intake_and_router_services(
    case: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = rendered(case)
    desk = env_of(out, out.deployment("desk"))
    desk.pop("S8_KAFKA_SSL_CAFILE", None)  # a mounted file (checked with every service above)
    services = {s["metadata"]["name"]: s for s in out.of_kind("Service")}
    port = services[f"{RELEASE}-intake"]["spec"]["ports"][0]["port"]
    assert desk["S8_INTAKE_URL"] == f"http://{RELEASE}-intake:{port}"
    assert desk["S8_ROUTER_URL"] == f"http://{RELEASE}-router:{port}"
    # Those Services select the intake and router pods, on the port the URLs name.
    for callee in ["intake", "router"]:
        service = services[f"{RELEASE}-{callee}"]
        pods = out.deployment(callee)["spec"]["template"]["metadata"]["labels"]
        assert labels_match({"matchLabels": service["spec"]["selector"]}, pods)
        assert service["spec"]["ports"][0]["port"] == port
    settings = load_settings(monkeypatch, DeskSettings, resolve_env(out, desk))
    assert isinstance(settings, DeskSettings)
    assert settings.intake_url == f"http://{RELEASE}-intake:{port}"
    assert settings.router_url == f"http://{RELEASE}-router:{port}"
    assert settings.stream_poll_seconds == 0.2  # the desk's own default


def test_the_desks_urls_and_settings_can_be_set_and_follow_the_release_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    values = {
        "fullnameOverride": "support",
        "http": {"port": 8080, "servicePort": 8000},
        "services": {
            "desk": {
                "settings": {
                    "router_url": "https://router.example.internal",
                    "stream_poll_seconds": 0.5,
                }
            }
        },
    }
    out = rendered_with(values, tmp_path)
    env = env_of(out, out.get("Deployment", "support-desk"))
    assert env["S8_INTAKE_URL"] == "http://support-intake:8000"
    assert env["S8_ROUTER_URL"] == "https://router.example.internal"
    settings = load_settings(monkeypatch, DeskSettings, resolve_env(out, env))
    assert isinstance(settings, DeskSettings)
    assert settings.stream_poll_seconds == 0.5


def test_the_desk_without_intake_needs_an_intake_url(tmp_path: Path) -> None:
    result = template_with({"services": {"intake": {"enabled": False}}}, tmp_path)
    assert result.returncode != 0
    assert "services.desk calls intake" in result.stderr
    assert "services.desk.settings.intake_url" in result.stderr
    values = {
        "services": {
            "intake": {"enabled": False},
            "desk": {"settings": {"intake_url": "https://intake.example.org"}},
        }
    }
    out = rendered_with(values, tmp_path)
    assert env_of(out, out.deployment("desk"))["S8_INTAKE_URL"] == "https://intake.example.org"
    # Without the desk, intake may go alone.
    out = rendered_with({"services": {"intake": {"enabled": False}, "desk": {"enabled": False}}}, tmp_path)  # fmt: skip
    assert set(dict(out.deployments())) == set(SERVICES) - {"intake", "desk"}


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
        "oidc",
        "allow_plaintext_kafka",
        "channel_keys",
        "survey_hmac_key",
    }
    for service, (key, _, cls) in SERVICES.items():
        allowed = schema["definitions"][f"settings_{key}"]["properties"]
        assert schema["definitions"][f"settings_{key}"]["additionalProperties"] is False
        for name in allowed:
            assert name in cls.model_fields, f"{service}: schema allows unknown setting {name}"
            annotation = str(cls.model_fields[name].annotation)
            assert "SecretStr" not in annotation, f"{service}: {name} is a secret"
            assert not any(name.startswith(p) for p in chart_managed), name


# --- identity: OpenID Connect settings --------------------------------------------------------

ISSUERS = {
    "default": "https://id.s8.example.com/realms/s8",
    "small": "http://keycloak.keycloak.svc:8080/realms/s8",
    "production": "https://id.example.vn/realms/support",
}


@pytest.mark.parametrize("case", CASES)
def test_every_service_and_the_job_get_the_oidc_settings(case: str) -> None:
    out = rendered(case)
    envs = {service: env_of(out, d) for service, d in out.deployments()}
    envs["provision-topics"] = job_env(out)
    assert len(envs) == 8
    for name, env in envs.items():
        assert env["S8_OIDC_ISSUER"] == ISSUERS[case], name
        assert env["S8_OIDC_AUDIENCE"] == "s8", name
        assert env["S8_OIDC_ROLES_CLAIM"] == "realm_access.roles", name
        assert env["S8_OIDC_ACTOR_CLAIM"] == "preferred_username", name
        assert json.loads(env["S8_OIDC_ALGORITHMS"]) == ["RS256", "PS256", "ES256"], name
    if case == "production":
        assert all(env["S8_OIDC_ISSUER"].startswith("https://") for env in envs.values())


def test_oidc_values_reach_every_service_with_their_types(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    oidc = {
        "issuer": "https://login.example.org/realms/helpdesk",
        "audience": "support-api",
        "rolesClaim": "resource_access.s8.roles",
        "actorClaim": "email",
        "algorithms": ["ES256"],
    }
    out = rendered_with({"oidc": oidc}, tmp_path)
    for service, deployment in out.deployments():
        settings = load_settings(
            monkeypatch, SERVICES[service][2], resolve_env(out, env_of(out, deployment))
        )
        assert isinstance(settings, ServiceSettings)
        assert settings.oidc_issuer == oidc["issuer"]
        assert settings.oidc_audience == "support-api"
        assert settings.oidc_roles_claim == "resource_access.s8.roles"
        assert settings.oidc_actor_claim == "email"
        assert settings.oidc_algorithms == ["ES256"]


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
    assert len(pdbs) == 7


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
    env = job_env(out)
    intake_env = env_of(out, out.deployment("intake"))
    assert replication == intake_env["S8_KAFKA_REPLICATION_FACTOR"]
    own_user = {
        "S8_KAFKA_SASL_USERNAME",
        "S8_KAFKA_SASL_PASSWORD",
    }  # the Job's Kafka user is its own
    for name, value in intake_env.items():
        if name in own_user:
            assert env[name] != value, name
        elif name.startswith(("S8_KAFKA", "S8_OIDC")) or name in {
            "S8_TOPIC_NAMESPACE",
            "S8_ALLOW_PLAINTEXT_KAFKA",
            "S8_ENVIRONMENT",
        }:
            assert env[name] == value, name
    # The image carries the topic list: the Job uses one of the service images.
    assert spec["image"] == container(out.deployment("intake"))["image"]


def routes_of(ingress: Manifest) -> dict[tuple[str, str], Any]:
    return {
        (rule["host"], path["path"]): path["backend"]["service"]
        for rule in ingress["spec"]["rules"]
        for path in rule["http"]["paths"]
    }


def test_ingress_only_when_enabled_and_then_routes_survey_pages_intake_webhooks_and_the_desk() -> (
    None
):
    assert not rendered("default").of_kind("Ingress")
    assert not rendered("small").of_kind("Ingress")
    out = rendered("production")
    ingress = out.get("Ingress", RELEASE)
    desk = out.get("Ingress", f"{RELEASE}-desk")
    channels = out.get("Ingress", f"{RELEASE}-channels")
    assert len(out.of_kind("Ingress")) == 3
    # The platforms' webhooks and the router's Stringee route (the longer path) on one host.
    assert routes_of(channels) == {
        ("channels.example.vn", "/v1/channels"): {
            "name": f"{RELEASE}-channels",
            "port": {"name": "http"},
        },
        ("channels.example.vn", "/v1/channels/stringee/agents"): {
            "name": f"{RELEASE}-router",
            "port": {"name": "http"},
        },
    }
    assert [t["secretName"] for t in channels["spec"]["tls"]] == ["s8-channels-tls"]
    assert routes_of(ingress) == {
        ("survey.example.vn", "/s"): {"name": f"{RELEASE}-survey", "port": {"name": "http"}},
        ("support-api.example.vn", "/v1/inbound"): {
            "name": f"{RELEASE}-intake",
            "port": {"name": "http"},
        },
    }
    # The desk's API and its web inbox, for the agents' browsers, on an Ingress of its own.
    assert routes_of(desk) == {
        ("desk.example.vn", "/v1"): {"name": f"{RELEASE}-desk", "port": {"name": "http"}},
        ("desk.example.vn", "/inbox"): {"name": f"{RELEASE}-desk", "port": {"name": "http"}},
    }
    for each in [ingress, desk]:
        assert each["spec"]["ingressClassName"] == "nginx"
        tls_hosts = {h for tls in each["spec"]["tls"] for h in tls["hosts"]}
        assert {host for host, _ in routes_of(each)} <= tls_hosts
    # Each TLS entry (a cert-manager Certificate) on the one Ingress that serves its hosts.
    assert [t["secretName"] for t in ingress["spec"]["tls"]] == ["s8-public-tls"]
    assert [t["secretName"] for t in desk["spec"]["tls"]] == ["s8-desk-tls"]


def test_the_desks_event_streams_get_a_long_read_timeout_and_no_buffering() -> None:
    out = rendered("production")
    desk = out.get("Ingress", f"{RELEASE}-desk")["metadata"]["annotations"]
    others = out.get("Ingress", RELEASE)["metadata"]["annotations"]
    nginx = "nginx.ingress.kubernetes.io/"
    assert int(desk[nginx + "proxy-read-timeout"]) >= 3600
    assert int(desk[nginx + "proxy-send-timeout"]) >= 3600
    assert desk[nginx + "proxy-buffering"] == "off"
    # The release-wide annotations reach it too; the other routes keep theirs only.
    assert others == {
        "cert-manager.io/cluster-issuer": "letsencrypt",
        nginx + "proxy-body-size": "2m",
    }
    assert desk == {
        **others,
        nginx + "proxy-read-timeout": "3600",
        nginx + "proxy-send-timeout": "3600",
        nginx + "proxy-buffering": "off",
    }


def test_the_desks_ingress_annotations_win_over_the_release_wide_ones(tmp_path: Path) -> None:
    nginx = "nginx.ingress.kubernetes.io/"
    values = {
        "ingress": {
            "enabled": True,
            "annotations": {nginx + "proxy-read-timeout": "30"},
            "desk": {
                "host": "agents.example.org",
                "paths": ["/v1", "/inbox"],
                "annotations": {nginx + "proxy-read-timeout": "7200"},
            },
        }
    }
    out = rendered_with(values, tmp_path)
    ingress = out.get("Ingress", RELEASE)
    desk = out.get("Ingress", f"{RELEASE}-desk")
    assert ingress["metadata"]["annotations"] == {nginx + "proxy-read-timeout": "30"}
    assert desk["metadata"]["annotations"] == {
        nginx + "proxy-read-timeout": "7200",
        nginx + "proxy-send-timeout": "3600",  # the chart's defaults for the desk stay
        nginx + "proxy-buffering": "off",
    }
    assert set(routes_of(desk)) == {("agents.example.org", "/v1"), ("agents.example.org", "/inbox")}
    assert "tls" not in desk["spec"]
    # Without the desk, no Ingress of its own (and its controller rule goes with it).
    values["services"] = {"desk": {"enabled": False}}
    out = rendered_with(values, tmp_path)
    assert [i["metadata"]["name"] for i in out.of_kind("Ingress")] == [
        RELEASE,
        f"{RELEASE}-channels",
    ]


def test_a_disabled_service_disappears_everywhere(tmp_path: Path) -> None:
    result = template_with({"services": {"analytics": {"enabled": False}}}, tmp_path)
    assert result.returncode == 0, result.stderr
    out = Rendered([m for m in yaml.safe_load_all(result.stdout) if m])
    assert "analytics" not in dict(out.deployments())
    assert not [m for m in out.manifests if m["metadata"]["name"] == f"{RELEASE}-analytics"]
    (monitor,) = out.of_kind("ServiceMonitor")
    assert "analytics" not in monitor["spec"]["selector"]["matchExpressions"][0]["values"]


# --- NetworkPolicies -------------------------------------------------------------------------


@dataclass(frozen=True)
class Pod:
    """A would-be client: its namespace's labels and its own."""

    namespace: str
    labels: dict[str, str]

    @property
    def namespace_labels(self) -> dict[str, str]:
        return {"kubernetes.io/metadata.name": self.namespace}


NAMESPACE = "default"  # `helm template` without -n
INGRESS_CONTROLLER = Pod("ingress-nginx", {"app.kubernetes.io/name": "ingress-nginx"})
PROMETHEUS = Pod("monitoring", {"app.kubernetes.io/name": "prometheus"})
API_CLIENT = Pod(NAMESPACE, {"s8.io/api-client": "true"})
API_CLIENT_ELSEWHERE = Pod("tools", {"s8.io/api-client": "true"})
UNLABELLED_NEIGHBOUR = Pod(NAMESPACE, {"app": "something-else"})
S8_SURVEY_POD = Pod(
    NAMESPACE,
    {
        "app.kubernetes.io/name": "s8",
        "app.kubernetes.io/instance": RELEASE,
        "app.kubernetes.io/component": "survey",
    },
)
S8_DESK_POD = Pod(NAMESPACE, {**S8_SURVEY_POD.labels, "app.kubernetes.io/component": "desk"})
OTHER_RELEASES_DESK_POD = Pod(NAMESPACE, {**S8_DESK_POD.labels, "app.kubernetes.io/instance": "s9"})  # fmt: skip
HTTP_PORT = 8080
PUBLIC = {"intake", "survey", "desk", "channels", "router"}  # what the Ingress routes to
CALLED_BY_THE_DESK = {"intake", "router"}  # the agents' writes, as the signed-in agent


def peer_matches(peer: dict[str, Any], policy_namespace: str, pod: Pod) -> bool:
    assert "ipBlock" not in peer, "the default peers name pods, not addresses"
    if "namespaceSelector" in peer:
        if not labels_match(peer["namespaceSelector"], pod.namespace_labels):
            return False
    elif pod.namespace != policy_namespace:
        return False  # a podSelector alone: the policy's own namespace
    return "podSelector" not in peer or labels_match(peer["podSelector"], pod.labels)


def admits(policy: Manifest, pod: Pod, port: int = HTTP_PORT) -> bool:
    """Whether `policy` lets `pod` connect to `port` of the pods it selects (Kubernetes'
    semantics: any rule whose ports and peers both match)."""
    assert "Ingress" in policy["spec"]["policyTypes"]
    namespace = policy["metadata"]["namespace"]
    for rule in policy["spec"].get("ingress") or []:
        ports = [(p["port"], p.get("protocol", "TCP")) for p in rule.get("ports", [])]
        if ports and (port, "TCP") not in ports:
            continue
        if not rule.get("from") or any(peer_matches(p, namespace, pod) for p in rule["from"]):
            return True
    return False


def service_policy(out: Rendered, deployment: Manifest) -> Manifest:
    """The one NetworkPolicy selecting the Deployment's pods."""
    pod_labels = deployment["spec"]["template"]["metadata"]["labels"]
    (policy,) = [
        p
        for p in out.of_kind("NetworkPolicy")
        if labels_match(p["spec"]["podSelector"], pod_labels)
    ]
    return policy


@pytest.mark.parametrize("case", CASES)
def test_each_service_has_a_network_policy_restricting_ingress_to_the_http_port(
    case: str,
) -> None:
    out = rendered(case)
    for service, deployment in out.deployments():
        policy = service_policy(out, deployment)
        assert policy["apiVersion"] == "networking.k8s.io/v1"
        assert policy["metadata"]["name"] == f"{RELEASE}-{service}"
        rules = policy["spec"]["ingress"]
        assert rules, service
        for rule in rules:
            # Every rule names its peers (a rule without `from` admits everyone) and the port.
            assert rule["from"], service
            if service == "channels" and rule["ports"] == [{"port": 2525, "protocol": "TCP"}]:
                continue  # the SMTP receiver, for networkPolicy.mailRelays
            assert rule["ports"] == [{"port": HTTP_PORT, "protocol": "TCP"}], service
        assert not admits(policy, UNLABELLED_NEIGHBOUR), service
        # The services never call each other, but for the desk calling intake and the router.
        assert not admits(policy, S8_SURVEY_POD), service
        assert admits(policy, S8_DESK_POD) == (service in CALLED_BY_THE_DESK), service
        assert not admits(policy, S8_DESK_POD, port=9090), service
        assert not admits(policy, OTHER_RELEASES_DESK_POD), service
        assert not admits(policy, API_CLIENT_ELSEWHERE), service
        assert admits(policy, API_CLIENT), service
        assert admits(policy, PROMETHEUS), service
        assert not admits(policy, PROMETHEUS, port=9090), service
    # Seven policies: the six services and the topic Job.
    assert len(out.of_kind("NetworkPolicy")) == 8


@pytest.mark.parametrize("case", CASES)
def test_only_the_services_the_ingress_routes_to_admit_the_ingress_controller(case: str) -> None:
    out = rendered(case)
    routed = {
        path["backend"]["service"]["name"].removeprefix(f"{RELEASE}-")
        for ingress in out.of_kind("Ingress")
        for rule in ingress["spec"]["rules"]
        for path in rule["http"]["paths"]
    }
    assert routed == (PUBLIC if case == "production" else set())
    admitting = {
        service
        for service, deployment in out.deployments()
        if admits(service_policy(out, deployment), INGRESS_CONTROLLER)
    }
    assert admitting == routed


def test_a_service_dropped_from_the_ingress_no_longer_admits_the_controller(
    tmp_path: Path,
) -> None:
    desk = {"settings": {"intake_url": "https://intake.example.org"}}
    out = rendered_with({"ingress": {"enabled": True}, "services": {"intake": {"enabled": False}, "desk": desk}}, tmp_path)  # fmt: skip
    for service in ["survey", "desk", "channels", "router"]:
        assert admits(out.network_policy(service), INGRESS_CONTROLLER)
    for service in ["sla-monitor", "analytics"]:
        assert not admits(out.network_policy(service), INGRESS_CONTROLLER)
    assert not [p for p in out.of_kind("NetworkPolicy") if p["metadata"]["name"] == f"{RELEASE}-intake"]  # fmt: skip


def test_without_the_desk_intake_and_the_router_admit_no_other_service(tmp_path: Path) -> None:
    out = rendered_with({"services": {"desk": {"enabled": False}}}, tmp_path)
    assert "desk" not in dict(out.deployments())
    for service, deployment in out.deployments():
        policy = service_policy(out, deployment)
        assert not admits(policy, S8_DESK_POD), service
        # Prometheus and the API clients (and the mail relays, to the channels' SMTP port)
        assert len(policy["spec"]["ingress"]) == (3 if service == "channels" else 2), service


@pytest.mark.parametrize("case", CASES)
def test_the_topic_job_admits_no_one(case: str) -> None:
    out = rendered(case)
    (job,) = out.of_kind("Job")
    policy = out.network_policy("provision-topics")
    assert labels_match(
        policy["spec"]["podSelector"], job["spec"]["template"]["metadata"]["labels"]
    )
    assert policy["spec"]["ingress"] == []
    for pod in [INGRESS_CONTROLLER, PROMETHEUS, API_CLIENT, UNLABELLED_NEIGHBOUR]:
        assert not admits(policy, pod)


def test_an_empty_client_list_admits_no_caller_instead_of_everyone(tmp_path: Path) -> None:
    values: dict[str, Any] = {
        "networkPolicy": {
            "apiClients": [],
            "prometheus": [],
            "ingressController": [],
            "mailRelays": [],
        }
    }
    out = rendered_with({**values, "ingress": {"enabled": True}}, tmp_path)
    for service, deployment in out.deployments():
        policy = service_policy(out, deployment)
        for pod in [INGRESS_CONTROLLER, PROMETHEUS, API_CLIENT, UNLABELLED_NEIGHBOUR]:
            assert not admits(policy, pod), service
        if service in CALLED_BY_THE_DESK:  # the chart's own caller, named by its pods' labels
            (rule,) = policy["spec"]["ingress"]
            (peer,) = rule["from"]
            assert set(peer) == {"podSelector"}, service
            assert admits(policy, S8_DESK_POD), service
        else:
            assert policy["spec"]["ingress"] == [], service


def test_api_clients_from_another_namespace_are_configurable(tmp_path: Path) -> None:
    gateway = {
        "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "api-gateway"}},
        "podSelector": {"matchLabels": {"app": "gateway"}},
    }
    out = rendered_with({"networkPolicy": {"apiClients": [gateway]}}, tmp_path)
    for _, deployment in out.deployments():
        policy = service_policy(out, deployment)
        assert admits(policy, Pod("api-gateway", {"app": "gateway"}))
        assert not admits(policy, Pod("api-gateway", {"app": "other"}))
        assert not admits(policy, API_CLIENT)  # the default peer was replaced


def test_network_policies_are_not_rendered_when_disabled(tmp_path: Path) -> None:
    out = rendered_with({"networkPolicy": {"enabled": False}}, tmp_path)
    assert not out.of_kind("NetworkPolicy")
    assert len(dict(out.deployments())) == 7


@pytest.mark.parametrize("case", ["default", "small"])
def test_egress_is_left_open_unless_restricted(case: str) -> None:
    for policy in rendered(case).of_kind("NetworkPolicy"):
        assert policy["spec"]["policyTypes"] == ["Ingress"]
        assert "egress" not in policy["spec"]


def egress_ports(policy: Manifest) -> set[tuple[int, str]]:
    rules = policy["spec"]["egress"]
    for rule in rules:
        assert rule["ports"], "a port-less egress rule would let everything out"
    return {(p["port"], p["protocol"]) for rule in rules for p in rule["ports"]}


def test_production_restricts_egress_to_dns_kafka_mongo_the_issuer_and_the_collector() -> None:
    out = rendered("production")
    for service, deployment in out.deployments():
        policy = service_policy(out, deployment)
        assert set(policy["spec"]["policyTypes"]) == {"Ingress", "Egress"}
        assert egress_ports(policy) - {(HTTP_PORT, "TCP")} == {
            (53, "UDP"),
            (53, "TCP"),
            (9096, "TCP"),  # the port of kafka.bootstrapServers
            (27017, "TCP"),
            (443, "TCP"),  # the https issuer
            (4318, "TCP"),
        } | ({(587, "TCP")} if service == "channels" else set()), service
        # Only the desk reaches other pods of the release: intake's and the router's.
        http = {"port": HTTP_PORT, "protocol": "TCP"}
        calls = [rule for rule in policy["spec"]["egress"] if http in rule["ports"]]
        if service == "desk":
            (rule,) = calls
            assert rule["ports"] == [http]
            reached = {
                callee
                for callee, d in out.deployments()
                if any(
                    labels_match(peer["podSelector"], d["spec"]["template"]["metadata"]["labels"])
                    for peer in rule["to"]
                )
            }
            assert reached == CALLED_BY_THE_DESK
            assert all(set(peer) == {"podSelector"} for peer in rule["to"])
        else:
            assert not calls, service
        dns = next(r for r in policy["spec"]["egress"] if r["ports"][0]["port"] == 53)
        assert dns["to"] == [
            {
                "namespaceSelector": {
                    "matchLabels": {"kubernetes.io/metadata.name": "kube-system"}
                },
                "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}},
            }
        ]
    # The topic Job only talks to Kafka.
    job = out.network_policy("provision-topics")
    assert egress_ports(job) == {(53, "UDP"), (53, "TCP"), (9096, "TCP")}


def test_restricted_egress_derives_the_ports_of_kafka_and_the_issuer(tmp_path: Path) -> None:
    values = {
        "kafka": {"bootstrapServers": "k1.internal:19092, k2.internal:19093"},
        "oidc": {"issuer": "https://sso.example.org:8443/realms/s8"},
        "networkPolicy": {
            "egress": {
                "restrict": True,
                "rules": {"mongo": {"to": [{"ipBlock": {"cidr": "10.20.0.0/16"}}]}},
            }
        },
    }
    out = rendered_with(values, tmp_path)
    policy = out.network_policy("router")
    # No OTLP endpoint: no collector rule. Mongo keeps its default port with the given CIDR.
    assert egress_ports(policy) == {(53, "UDP"), (53, "TCP"), (19092, "TCP"), (19093, "TCP"), (8443, "TCP"), (27017, "TCP")}  # fmt: skip
    mongo = next(r for r in policy["spec"]["egress"] if r["ports"][0]["port"] == 27017)
    assert mongo["to"] == [{"ipBlock": {"cidr": "10.20.0.0/16"}}]


# --- the schema refuses wrong values -------------------------------------------------------

BAD_VALUES: dict[str, dict[str, Any]] = {
    "replicas as a word": {"services": {"intake": {"replicas": "two"}}},
    "unknown top-level key": {"replicaCount": 3},
    "unknown service key": {"services": {"router": {"replica": 2}}},
    "unknown service": {"services": {"billing": {"enabled": True}}},
    "setting of another service": {"services": {"router": {"settings": {"faq_threshold": 0.5}}}},
    "desk setting on another service": {"services": {"router": {"settings": {"intake_url": "x"}}}},
    "desk url not a URL": {"services": {"desk": {"settings": {"router_url": "s8-router"}}}},
    "desk poll too slow": {"services": {"desk": {"settings": {"stream_poll_seconds": 10}}}},
    "desk ingress annotation not a string": {"ingress": {"desk": {"annotations": {"a": 1}}}},
    "desk kafka user without password": {"secrets": {"kafka": {"desk": {"password": None}}}},
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
    "http issuer in production": {"oidc": {"issuer": "http://keycloak.s8.svc:8080/realms/s8"}},
    "the local issuer in production": {"oidc": {"issuer": LOCAL_ISSUER}},
    "issuer not a URL": {"oidc": {"issuer": "s8-realm"}},
    "issuer not a string": {"oidc": {"issuer": 42}},
    "unknown signing algorithm": {"oidc": {"algorithms": ["HS256"]}},
    "plaintext kafka in production not allowed": {"kafka": {"allowPlaintext": False}},
    "the removed api keys secret": {"secrets": {"intakeApiKeys": {"name": "s8", "key": "k"}}},
    "the removed api keys dev value": {"devSecret": {"surveyApiKeys": '["k"]'}},
    "one kafka user for all": {"secrets": {"kafkaSaslUsername": {"name": "s8", "key": "u"}}},
    "kafka user without password": {"secrets": {"kafka": {"router": {"password": None}}}},
    "network policy peer without selector": {"networkPolicy": {"apiClients": [{}]}},
    "network policy key typo": {"networkPolicy": {"enable": False}},
    "egress rule typo": {"networkPolicy": {"egress": {"rules": {"kafak": {"ports": []}}}}},
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


# --- the channels service ------------------------------------------------------------------

CHANNELS_SECRET_ENV = {
    "S8_META": "meta",
    "S8_ZALO_ACCOUNTS": "zalo-accounts",
    "S8_TWILIO_ACCOUNTS": "twilio-accounts",
    "S8_STRINGEE_ACCOUNTS": "stringee-accounts",
    "S8_SMTP_RELAY_PASSWORD": "smtp-relay-password",
    "S8_IMAP_PASSWORD": "imap-password",
}


def test_production_channels_read_the_platforms_secrets_from_the_named_secret_each_optional(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    out = rendered("production")
    channels = env_of(out, out.deployment("channels"))
    for name, key in CHANNELS_SECRET_ENV.items():
        assert channels[name] == {
            "secretKeyRef": {"name": "s8-channels", "key": key, "optional": True}
        }
    router = env_of(out, out.deployment("router"))
    assert router["S8_STRINGEE_URL_TOKEN"] == {
        "secretKeyRef": {
            "name": "s8-channels",
            "key": "router-stringee-url-token",
            "optional": True,
        }
    }
    # Nothing of the platforms in plain text, and only the router and the channels read them.
    for service, deployment in out.deployments():
        env = env_of(out, deployment)
        if service not in {"channels", "router"}:
            assert not set(CHANNELS_SECRET_ENV) & set(env), service
            assert "S8_STRINGEE_URL_TOKEN" not in env, service
    for config in out.of_kind("ConfigMap"):
        assert not set(CHANNELS_SECRET_ENV) & set(config.get("data", {}))
    # Twilio signs the URL it called: the channels' public URL is their Ingress's https host.
    assert channels["S8_PUBLIC_BASE_URL"] == "https://channels.example.vn"
    channels.pop("S8_KAFKA_SSL_CAFILE")
    settings = load_settings(monkeypatch, ChannelsSettings, resolve_env(out, channels))
    assert isinstance(settings, ChannelsSettings)
    assert settings.meta is not None
    assert settings.zalo_accounts
    assert settings.twilio_accounts
    assert settings.smtp_relay_host == "smtp-relay.mail.svc.cluster.local"
    assert settings.database_name == "s8_channels"


@pytest.mark.parametrize("case", ["default", "small"])
def test_without_an_existing_secret_no_platform_secret_is_read(case: str) -> None:
    out = rendered(case)
    for service in ["channels", "router"]:
        env = env_of(out, out.deployment(service))
        assert not (set(CHANNELS_SECRET_ENV) | {"S8_STRINGEE_URL_TOKEN"}) & set(env), service


@pytest.mark.parametrize("case", CASES)
def test_the_smtp_receiver_listens_on_its_container_port_behind_a_service_port(
    case: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = rendered(case)
    deployment = out.deployment("channels")
    ports = {p["name"]: p["containerPort"] for p in container(deployment)["ports"]}
    env = env_of(out, deployment)
    assert env["S8_SMTP_RECEIVER_HOST"] == "0.0.0.0"  # the relay connects from another pod
    assert int(env["S8_SMTP_RECEIVER_PORT"]) == ports["smtp"] == 2525
    service = out.get("Service", f"{RELEASE}-channels")
    assert {"name": "smtp", "port": 2525, "targetPort": "smtp", "protocol": "TCP"} in service[
        "spec"
    ]["ports"]
    assert service["spec"]["ports"][0]["name"] == "http"  # the one the ServiceMonitor scrapes
    # Only the channels' pods and Service have the port.
    for name, other in out.deployments():
        if name != "channels":
            assert [p["name"] for p in container(other)["ports"]] == ["http"], name


def test_the_smtp_receiver_can_be_turned_off(tmp_path: Path) -> None:
    out = rendered_with({"services": {"channels": {"smtp": {"enabled": False, "port": 2525, "servicePort": 25}}}}, tmp_path)  # fmt: skip
    env = env_of(out, out.deployment("channels"))
    assert env["S8_SMTP_RECEIVER_PORT"] == "0"
    assert [p["name"] for p in container(out.deployment("channels"))["ports"]] == ["http"]
    assert [p["name"] for p in out.get("Service", f"{RELEASE}-channels")["spec"]["ports"]] == [
        "http"
    ]
    policy = out.network_policy("channels")
    assert all(
        rule["ports"] == [{"port": HTTP_PORT, "protocol": "TCP"}]
        for rule in policy["spec"]["ingress"]
    )


def test_mail_relays_reach_the_smtp_port_only() -> None:
    out = rendered("default")
    policy = out.network_policy("channels")
    neighbour_relay = Pod(NAMESPACE, {"app": "postfix"})
    elsewhere = Pod("mail", {"app": "postfix"})
    assert admits(policy, neighbour_relay, port=2525)  # the default: the release namespace
    assert not admits(policy, elsewhere, port=2525)
    assert not admits(policy, neighbour_relay)  # not the HTTP port
    for service in ["intake", "router", "desk"]:
        assert not admits(out.network_policy(service), neighbour_relay, port=2525), service
    # production: the relay's namespace and pods only
    production = rendered("production").network_policy("channels")
    relay = Pod("mail", {"app.kubernetes.io/name": "smtp-relay"})
    assert admits(production, relay, port=2525)
    assert not admits(production, Pod(NAMESPACE, {"app": "postfix"}), port=2525)
    assert not admits(production, relay)


def test_the_channels_egress_rules_follow_their_relay_and_mailbox_settings(tmp_path: Path) -> None:
    values: dict[str, Any] = {"networkPolicy": {"egress": {"restrict": True}}}
    policy = rendered_with(values, tmp_path).network_policy("channels")
    # No relay or mailbox set: the platforms' APIs only, beside the rules of every service.
    assert egress_ports(policy) == {(53, "UDP"), (53, "TCP"), (9092, "TCP"), (27017, "TCP"), (443, "TCP")}  # fmt: skip
    values["services"] = {
        "channels": {
            "settings": {
                "smtp_relay_host": "relay.example.org",
                "smtp_relay_port": 2587,
                "imap_host": "imap.example.org",
            }
        }
    }
    policy = rendered_with(values, tmp_path).network_policy("channels")
    assert {(2587, "TCP"), (993, "TCP")} <= egress_ports(policy)
    assert (2587, "TCP") not in egress_ports(
        rendered_with(values, tmp_path).network_policy("router")
    )


def test_the_routers_stringee_route_follows_the_channels(tmp_path: Path) -> None:
    values: dict[str, Any] = {
        "ingress": {"enabled": True},
        "services": {"channels": {"enabled": False}},
    }
    out = rendered_with(values, tmp_path)
    assert [i["metadata"]["name"] for i in out.of_kind("Ingress")] == [RELEASE, f"{RELEASE}-desk"]
    assert not admits(out.network_policy("router"), INGRESS_CONTROLLER)
    values["services"] = {}
    values["ingress"]["channels"] = {
        "host": "hooks.example.org",
        "paths": ["/v1/channels"],
        "routerPaths": [],
    }
    out = rendered_with(values, tmp_path)
    assert set(routes_of(out.get("Ingress", f"{RELEASE}-channels"))) == {
        ("hooks.example.org", "/v1/channels")
    }
    assert not admits(out.network_policy("router"), INGRESS_CONTROLLER)
    assert admits(out.network_policy("channels"), INGRESS_CONTROLLER)
    assert (
        env_of(out, out.deployment("channels"))["S8_PUBLIC_BASE_URL"] == "http://hooks.example.org"
    )


CHANNELS_BAD_VALUES: dict[str, dict[str, Any]] = {
    "platform secret as a setting": {
        "services": {"channels": {"settings": {"meta": {"app_secret": "x"}}}}
    },
    "relay password as a setting": {
        "services": {"channels": {"settings": {"smtp_relay_password": "x"}}}
    },
    "receiver port as a setting": {
        "services": {"channels": {"settings": {"smtp_receiver_port": 25}}}
    },
    "privileged receiver port": {
        "services": {"channels": {"smtp": {"enabled": True, "port": 25, "servicePort": 25}}}
    },
    "unknown secret key": {"secrets": {"channels": {"keys": {"facebook": "fb"}}}},
    "secret name not a name": {"secrets": {"channels": {"existingSecret": "S8 Channels"}}},
    "mail relay peer without selector": {"networkPolicy": {"mailRelays": [{}]}},
    "channels egress rule typo": {
        "networkPolicy": {"egress": {"channels": {"smtp": {"ports": []}}}}
    },
    "stringee language": {"services": {"router": {"settings": {"stringee_call_language": "fr"}}}},
}


@pytest.mark.parametrize("values", CHANNELS_BAD_VALUES.values(), ids=CHANNELS_BAD_VALUES.keys())
def test_wrong_channels_values_fail_at_template_time(
    values: dict[str, Any], tmp_path: Path
) -> None:
    result = template_with(values, tmp_path)
    assert result.returncode != 0, f"rendered despite {values}"
    assert "schema" in result.stderr, result.stderr
