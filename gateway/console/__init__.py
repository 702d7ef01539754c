"""The analyst console: a single page served at ``/console`` by the HTTP listener (decision 0023).

Static files only - HTML, one script, one style sheet, packaged with the gateway - that call the
JSON API (:mod:`gateway.http`) as any other HTTP client does: there is no second backend, and
what the console shows is what the API answers to the caller's identity.
"""

from __future__ import annotations

from gateway.console.site import console_routes, with_console

__all__ = ["console_routes", "with_console"]
