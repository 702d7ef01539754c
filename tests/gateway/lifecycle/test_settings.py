"""The ``[lifecycle]`` table and the retention rules beneath it."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.config import ConfigError, load_config
from gateway.lifecycle.settings import DEFAULT_RETENTION, LifecycleSettingsError, parse_lifecycle
from liaison.rules.lifecycle import DAY_US, RetentionDefaults, parse_period


def test_periods_are_a_count_and_a_unit() -> None:
    assert parse_period("30d") == 30 * DAY_US
    assert parse_period("8h") == 8 * 3_600_000_000
    assert parse_period("2w") == 14 * DAY_US
    assert parse_period("5y") == 5 * parse_period("1y")
    assert parse_period("12m") == parse_period("1y")
    for bad in ("", "5", "y", "0d", "-1y", "5 years", "1.5y"):
        with pytest.raises(ValueError, match="is not a period"):
            parse_period(bad)


def test_the_defaults_are_five_years_and_six_months_for_manifests() -> None:
    settings = parse_lifecycle({})
    assert settings.retention == DEFAULT_RETENTION
    five_years = parse_period("5y")
    assert DEFAULT_RETENTION.stamp("notice", 0) == (five_years, five_years)
    assert DEFAULT_RETENTION.stamp("person", 10) == (10 + five_years, 10 + five_years)
    assert DEFAULT_RETENTION.stamp("vehicle", 0) == (five_years, five_years)
    assert DEFAULT_RETENTION.stamp("passenger_manifest", 0)[1] == parse_period("6m")
    assert DEFAULT_RETENTION.stamp("withdrawal", 0) == (0, 0), "a tombstone never expires"
    assert settings.review_reminder_us == parse_period("6m")
    assert (settings.urgent_reply_us, settings.normal_reply_us) == (
        parse_period("8h"),
        parse_period("7d"),
    )


def test_kinds_and_the_default_can_be_set() -> None:
    settings = parse_lifecycle(
        {
            "default_retention": "2y",
            "review_reminder": "1m",
            "check_interval_seconds": 5,
            "retention": {"passenger_manifest": "90d", "notice": "10y"},
            "urgent_reply": "4h",
            "normal_reply": "3d",
        }
    )
    assert (settings.urgent_reply_us, settings.normal_reply_us) == (
        parse_period("4h"),
        parse_period("3d"),
    )
    assert settings.retention.stamp("vehicle", 0)[1] == parse_period("2y")
    assert settings.retention.stamp("passenger_manifest", 0)[1] == 90 * DAY_US
    assert settings.retention.stamp("notice", 0)[1] == parse_period("10y")
    assert settings.retention.stamp("person", 0)[1] == parse_period("5y")
    assert (settings.review_reminder_us, settings.check_interval_seconds) == (
        parse_period("1m"),
        5.0,
    )


def test_the_writer_process_gets_the_same_defaults() -> None:
    settings = parse_lifecycle({"retention": {"person": "1y"}})
    plain = settings.retention.to_plain()
    assert RetentionDefaults.from_plain(plain) == settings.retention


@pytest.mark.parametrize(
    ("table", "named"),
    [
        ({"retain": "5y"}, "unknown key"),
        ({"retention": {"wizard": "5y"}}, "'wizard' is not a record kind"),
        ({"retention": {"withdrawal": "5y"}}, "is not a record kind"),
        ({"retention": {"person": "soon"}}, "retention.person"),
        ({"retention": {"person": "2h"}}, "at least a day"),
        ({"default_retention": 5}, "default_retention"),
        ({"check_interval_seconds": 600}, "check_interval_seconds"),
        ({"retention": "5y"}, "must be a table"),
        ({"urgent_reply": "soon"}, "urgent_reply"),
        ({"normal_reply": 7}, "normal_reply"),
    ],
)
def test_bad_tables_name_what_is_wrong(table: dict[str, object], named: str) -> None:
    with pytest.raises(LifecycleSettingsError, match=named):
        parse_lifecycle(table)


def test_the_centre_file_reads_the_table(tmp_path: Path) -> None:
    path = tmp_path / "centre.toml"
    path.write_text('[lifecycle]\nreview_reminder = "3m"\n[lifecycle.retention]\nperson = "1y"\n')
    config = load_config(path)
    assert config.lifecycle.review_reminder_us == parse_period("3m")
    path.write_text('[lifecycle]\nreview_reminder = "never"\n')
    with pytest.raises(ConfigError, match="review_reminder"):
        load_config(path)
