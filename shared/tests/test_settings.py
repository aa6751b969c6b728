import pytest
from pydantic import ValidationError

from s8_shared.settings import ServiceSettings


def test_defaults_point_at_the_local_stack() -> None:
    settings = ServiceSettings(service_name="s8-router")
    assert settings.kafka_bootstrap_servers == "127.0.0.1:9092"
    assert settings.database_name == "s8_router"
    assert settings.consumer_group() == "s8-router"


def test_environment_variables_with_the_s8_prefix_are_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("S8_KAFKA_BOOTSTRAP_SERVERS", "kafka-0:9092,kafka-1:9092")
    monkeypatch.setenv("S8_TOPIC_NAMESPACE", "staging.")
    settings = ServiceSettings()
    assert settings.kafka_bootstrap_servers == "kafka-0:9092,kafka-1:9092"
    assert settings.topic_namespace == "staging."


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"S8_KAFKA_BOOTSTRAP_SERVERS": "localhost"}, "is not host:port"),
        ({"S8_MONGO_URI": "postgres://x"}, "must start with mongodb://"),
        ({"S8_KAFKA_SECURITY_PROTOCOL": "SASL_SSL"}, "SASL needs"),
        ({"S8_HTTP_PORT": "70000"}, "http_port"),
        ({"S8_TOPIC_NAMESPACE": "bad name/"}, "topic_namespace"),
    ],
)
def test_bad_configuration_fails_at_start_naming_the_problem(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], message: str
) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError, match=message):
        ServiceSettings()
