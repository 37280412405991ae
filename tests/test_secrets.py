"""What counts as a credential: by shape anywhere, by name where only credentials have it."""

from __future__ import annotations

import pytest

from sm_notebook.secrets import holds_credential, is_secret_name, is_secret_value

SECRET_KEY = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"


@pytest.mark.parametrize("text", [
    "AKIAIOSFODNN7EXAMPLE", "ASIAIOSFODNN7EXAMPLE",
    "FwoGZXIvYXdzEBYaDHqa0AP1abcdefghijklmnop", "IQoJb3JpZ2luX2VjEDYaCXVzLWVhc3QtMSJHMEUC",
    "hf_abcdefghijklmnopqrstuvwxyz0123", "sk-abcdefghijklmnopqrstuv", "ghp_" + "a" * 36,
    "github_pat_" + "a" * 40, "AIza" + "b" * 35, "xoxb-1234567890-abc",
    "-----BEGIN RSA PRIVATE KEY-----\nMIIE", "-----BEGIN PRIVATE KEY-----",
    f"aws_secret_access_key={SECRET_KEY}", f'{{"secret_access_key": "{SECRET_KEY}"}}',
    f"{{'aws_session_token': '{SECRET_KEY}'}}", "password: hunter2hunter2",
    f"--client_secret={SECRET_KEY}",
])
def test_credential_shapes_are_found_anywhere_in_a_value(text):
    assert is_secret_value(text)
    assert is_secret_value(f"prefix {text} suffix")


@pytest.mark.parametrize("text", [
    "adam", "0.001", "s3://bucket/prefix", "a" * 40, "0123456789abcdef" * 4, "sk-short",
    "AKIA-not-a-key", "password", "token: 5", "max_tokens=512", "<pad>",
])
def test_ordinary_values_are_not_credentials(text):
    assert not is_secret_value(text)


@pytest.mark.parametrize(("name", "value", "expected"), [
    ("aws_secret_access_key", SECRET_KEY, True),
    ("db_password", "hunter2", True),
    ("WANDB_API_KEY", "abc", True),
    ("apikey", "abc", True),
    ("aws_session_token", "abc", True),
    ("client_secret", "abc", True),
    ("use_auth_token", True, False),  # a switch, not a credential
    ("api_key", "", False),
    ("pad_token", "<pad>", False),  # tokenizer settings are ordinary hyperparameters
    ("eos_token", "</s>", False),
    ("max_tokens", 512, False),
    ("hub_token", "hf_abcdefghijklmnopqrstuvwxyz0123", True),  # by its value
    ("secret_sauce", "x", False),
])
def test_hyperparameter_and_tag_names_count_only_where_only_credentials_have_them(
        name, value, expected):
    assert holds_credential(name, value) is expected


def test_environment_names_follow_the_broad_convention():
    assert is_secret_name("HF_TOKEN") and is_secret_name("GITHUB_TOKEN")
    assert not is_secret_name("TOKENIZERS_PARALLELISM")
