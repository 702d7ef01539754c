"""Telemetry sits beneath the gateway's configuration: it imports nothing of ``gateway.config``,
federation or security, and reading a centre's file loads no OpenTelemetry."""

from __future__ import annotations

import subprocess
import sys


def _loaded_after(statements: str, prefixes: tuple[str, ...]) -> list[str]:
    """The modules starting with one of ``prefixes`` that a fresh interpreter has loaded after
    running ``statements``."""
    report = f"print('\\n'.join(sorted(m for m in sys.modules if m.startswith({prefixes!r}))))"
    script = "\n".join(["import sys", statements, report])
    run = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True
    )
    return run.stdout.split()


def test_the_whole_telemetry_package_imports_no_configuration_federation_or_security() -> None:
    every_module = (
        "import pkgutil, importlib, gateway.telemetry as package\n"
        "for found in pkgutil.walk_packages(package.__path__, package.__name__ + '.'):\n"
        "    importlib.import_module(found.name)"
    )
    loaded = _loaded_after(
        every_module,
        ("gateway.config", "gateway.federation", "gateway.security", "cryptography", "gateway.t"),
    )
    assert "gateway.telemetry.fast.tracer" in loaded  # the walk did import everything
    assert [name for name in loaded if not name.startswith("gateway.telemetry")] == []


def test_reading_a_centre_file_loads_no_opentelemetry() -> None:
    assert _loaded_after("import gateway.config", ("opentelemetry",)) == []
