"""``[audit] checkpoint_entries`` and ``checkpoint_seconds``: defaults, values, and refusals that
name the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.audit.settings import CheckpointPolicy
from gateway.config import ConfigError, load_config


def _load(tmp_path: Path, audit: str) -> CheckpointPolicy:
    path = tmp_path / "centre.toml"
    path.write_text("[audit]\n" + audit)
    return load_config(path).federation.audit_checkpoints


def test_defaults_and_values(tmp_path: Path) -> None:
    assert _load(tmp_path, "") == CheckpointPolicy(every_entries=1000, every_seconds=300.0)
    policy = _load(tmp_path, "checkpoint_entries = 50\ncheckpoint_seconds = 2\n")
    assert policy == CheckpointPolicy(every_entries=50, every_seconds=2.0)
    assert _load(tmp_path, "checkpoint_seconds = 0.5\n").every_seconds == 0.5


@pytest.mark.parametrize(
    ("audit", "words"),
    [
        ("checkpoint_entries = 0", "checkpoint_entries must be a positive integer"),
        ("checkpoint_entries = 1.5", "checkpoint_entries must be a positive integer"),
        ("checkpoint_entries = true", "checkpoint_entries must be a positive integer"),
        ("checkpoint_seconds = 0", "checkpoint_seconds must be a positive number"),
        ("checkpoint_seconds = 'soon'", "checkpoint_seconds must be a positive number"),
        ("checkpoint_every = 3", "unknown key(s) in [audit]: checkpoint_every"),
    ],
)
def test_bad_values_are_refused_naming_the_file_and_key(
    tmp_path: Path, audit: str, words: str
) -> None:
    with pytest.raises(ConfigError) as refused:
        _load(tmp_path, audit + "\n")
    assert str(tmp_path / "centre.toml") in str(refused.value)
    assert words in str(refused.value)
