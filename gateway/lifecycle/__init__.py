"""Record lifecycle: retention settings, review reminders and automatic expiry (issue 15).

* :mod:`gateway.lifecycle.settings` - the ``[lifecycle]`` table (pure: the configuration
  loader reads it without loading telemetry or the store);
* :mod:`gateway.lifecycle.keeper` - the supervised task that withdraws expired records and
  raises review reminders, on an injectable clock.
"""

from gateway.lifecycle.settings import (
    LifecycleSettings,
    LifecycleSettingsError,
    parse_lifecycle,
)

__all__ = ["LifecycleSettings", "LifecycleSettingsError", "parse_lifecycle"]
