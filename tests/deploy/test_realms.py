"""The local Keycloak's realm files are what deploy/local/keycloak/realms.py writes."""

from pathlib import Path

from keycloak.realms import documents  # deploy/local is on the test path

HERE = Path(__file__).resolve().parents[2] / "deploy" / "local" / "keycloak"


def test_the_committed_realm_files_are_the_generated_ones() -> None:
    for file, text in documents().items():
        assert (HERE / file).read_text(encoding="utf-8") == text, f"run realms.py: {file} is stale"


def test_demo_people_hold_only_their_roles_and_no_test_client_is_in_the_demo_realm() -> None:
    demo = documents()["s8-realm.json"]
    assert "s8-fuzzer" not in demo
    assert "tester" not in demo
    assert '"username": "ha"' in demo
