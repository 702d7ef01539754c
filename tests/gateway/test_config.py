"""Centre configuration: zero-config defaults, TOML files, and clear refusals."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.config import CentreConfig, ConfigError, load_config


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "centre.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_no_file_gives_the_embedded_defaults() -> None:
    config = load_config(None)
    assert config == CentreConfig()
    assert (config.centre_id, config.server.listen) == ("LOCAL", "127.0.0.1:50051")
    assert config.storage.path == Path("var/liaison.db")
    assert config.storage.synchronous == "full"


def test_a_full_file_is_read_and_relative_paths_follow_the_file(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
        [centre]
        id = "WCO-I2C"
        [server]
        listen = "0.0.0.0:6000"
        grace_seconds = 2
        preparation_workers = 0
        [storage]
        path = "data/i2c.db"
        synchronous = "normal"
        max_batch_records = 100
        [limits]
        max_message_bytes = 1048576
        max_records_per_stream = 5000
        max_page_size = 50
        default_page_size = 10
        max_payload_bytes = 65536
        max_export_records = 20
        """,
    )
    config = load_config(path)
    assert config.centre_id == "WCO-I2C"
    assert config.server.listen == "0.0.0.0:6000"
    assert config.server.grace_seconds == 2.0
    assert config.server.preparation_workers == 0
    assert config.storage.path == tmp_path / "data" / "i2c.db"
    assert (config.storage.synchronous, config.storage.max_batch_records) == ("normal", 100)
    assert config.limits.max_message_bytes == 1048576
    assert (config.limits.max_page_size, config.limits.default_page_size) == (50, 10)
    assert (config.limits.max_payload_bytes, config.limits.max_export_records) == (65536, 20)
    assert config.source == path


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[centre]\nid = 'lyon'", "[centre] id must be"),
        ("[centre]\nname = 'x'", "unknown key(s) in [centre]: name"),
        ("[pears]\n", "unknown section(s) pears"),
        ("peers = 3\n", "[[peers]] must be an array of tables"),
        ("[server]\nlisten = 'nowhere'", "[server] listen must be host:port"),
        ("[server]\nlisten = 50051", "[server] listen must be str"),
        ("[server]\npreparation_workers = -1", "preparation_workers must not be negative"),
        ("[storage]\nsynchronous = 'off'", "synchronous must be"),
        ("[limits]\nmax_page_size = 0", "max_page_size must be at least 1"),
        ("[limits]\nmax_page_size = true", "max_page_size must be int"),
        ("[limits]\nmax_payload_bytes = 0", "max_payload_bytes must be at least 1"),
        ("[limits]\nmax_export_records = -1", "max_export_records must be at least 1"),
        ("[limits]\ndefault_page_size = 500\nmax_page_size = 100", "default_page_size exceeds"),
        ("this is = = not toml", "not valid TOML"),
        ("[http]\ncors_origins = 'https://a.example'", "cors_origins must be a list of strings"),
        ("[http]\ncors_origins = ['*']", "is not an origin"),
        ("[http]\ncors_origins = ['null']", "is not an origin"),
        ("[http]\ncors_origins = ['https://*.example']", "is not an origin"),
        ("[http]\ncors_origins = ['https://a.example/app']", "is not an origin"),
        ("[http]\ncors_origins = ['ftp://a.example']", "is not an origin"),
        ("[http]\ncors_origins = ['https://me@a.example']", "is not an origin"),
        ("[http]\ncors_origins = ['https://a.example:99999']", "is not an origin"),
    ],
)
def test_bad_files_are_refused_with_the_reason(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(write(tmp_path, text))
    assert message in str(caught.value)
    assert str(tmp_path) in str(caught.value), "the message names the file"


def test_a_missing_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no such configuration file"):
        load_config(tmp_path / "absent.toml")


def test_cors_origins_are_kept_as_browsers_send_origin(tmp_path: Path) -> None:
    text = "[http]\ncors_origins = ['HTTPS://App.Example:8443', 'http://localhost:3000/']"
    config = load_config(write(tmp_path, text))
    assert config.http.cors_origins == ("https://app.example:8443", "http://localhost:3000")
    assert load_config(None).http.cors_origins == ()
