"""Destination policy: terms, secrets, kill switch, loading from the one policy YAML."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import ValidationError

from tests.gateway.conftest import TERMS, destination
from veil.exceptions import PolicyError
from veil.gateway.policy import KILL_ENV, Destination, EgressPolicy, load_policies


def test_complete_destination_has_no_missing_terms() -> None:
    assert destination().missing_terms() == []


@pytest.mark.parametrize("term", sorted(TERMS))
def test_each_missing_term_is_named(term: str) -> None:
    dest = destination(**{term: None})
    missing = dest.missing_terms()
    assert len(missing) == 1
    assert missing[0].startswith(term)


@pytest.mark.parametrize("value", [False, None])
def test_no_training_must_be_true(value: bool | None) -> None:
    assert destination(no_training=value).missing_terms() == ["no_training (must be true)"]


def test_empty_data_categories_is_missing() -> None:
    assert destination(data_categories=[]).missing_terms() == ["data_categories"]


def test_local_needs_no_terms() -> None:
    assert EgressPolicy().destination("local").missing_terms() == []


@pytest.mark.parametrize("key", ["api_key", "token", "secret"])
def test_secrets_in_the_policy_are_refused_without_echoing_them(key: str) -> None:
    with pytest.raises(ValidationError) as info:
        Destination.model_validate({"name": "x", "provider": "openai", key: "sk-very-secret"})
    assert "api_key_env" in str(info.value)


def test_unknown_destination_lists_known() -> None:
    policy = EgressPolicy(destinations=(destination("eu-gemini", "gemini"),))
    with pytest.raises(PolicyError, match="known: local, eu-gemini"):
        policy.destination("us-openai")
    assert policy.destination("gemini").name == "eu-gemini"  # by provider kind when unambiguous


def test_duplicate_names_refused() -> None:
    with pytest.raises(ValidationError, match="unique"):
        EgressPolicy(destinations=(destination("a"), destination("a")))


def test_kill_switch_sources(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv(KILL_ENV, raising=False)
    kill_file = tmp_path / "stop"
    policy = EgressPolicy(kill_switch_file=kill_file)
    assert policy.kill_reason() is None
    assert "policy" in (EgressPolicy(kill_switch=True, kill_switch_file=kill_file).kill_reason() or "")
    kill_file.touch()
    assert str(kill_file) in (policy.kill_reason() or "")
    kill_file.unlink()
    monkeypatch.setenv(KILL_ENV, "0")
    assert policy.kill_reason() is None
    monkeypatch.setenv(KILL_ENV, "1")
    assert KILL_ENV in (policy.kill_reason() or "")


def _write(tmp_path: Path, data: dict[str, Any]) -> Path:
    path = tmp_path / "policy.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def test_one_file_holds_both_policies(tmp_path: Path) -> None:
    dest = {"name": "eu", "provider": "openai", "base_url": "http://127.0.0.1:1/v1", "model": "m", **TERMS}
    path = _write(tmp_path, {"redact": {"margin_px": 6}, "egress": {"destinations": [dest]}})
    policy, egress = load_policies(path)
    assert policy.redact.margin_px == 6
    assert egress.destination("eu").country == "IE"


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (
            {"egress": {"destinations": [{"name": "a", "provider": "openai", "contry": "FR"}]}},
            "did you mean|contry",
        ),
        ({"egress": {"kill": True}}, "unknown key 'kill'"),
        ({"redcat": {}}, "redcat"),
        (
            {"egress": {"destinations": [{"name": "a", "provider": "openai", "api_key": "sk-x"}]}},
            "api_key_env",
        ),
    ],
)
def test_bad_policy_names_the_key(tmp_path: Path, data: dict[str, Any], expected: str) -> None:
    with pytest.raises(PolicyError, match=expected) as info:
        load_policies(_write(tmp_path, data))
    assert "sk-x" not in str(info.value)
