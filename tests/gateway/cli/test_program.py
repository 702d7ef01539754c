"""The ``liaison`` console script in a process of its own, started as operators start it: the
gateway's startup and signals, and Ctrl-C of a client command."""

from __future__ import annotations

import asyncio
import gc
import importlib.metadata
import json
import signal
import sys
from pathlib import Path

import pytest

from gateway.cli import EXIT_OK, run
from gateway.server import Gateway
from tests.gateway.cli.running import child, read_until, submitted
from tests.support.factories import person


@pytest.mark.slow
async def test_serve_health_and_sigterm(tmp_path: Path) -> None:
    serve = ("serve", "--listen", "127.0.0.1:0", "--db", "centre.db", "--centre-id", "CLI-TEST")
    async with child(*serve, cwd=tmp_path) as server:
        assert server.stderr is not None
        line = await read_until(server.stderr, "listening on")
        assert line.startswith("liaison: centre CLI-TEST listening on 127.0.0.1:")
        assert line.rstrip().endswith("(store centre.db)")
        address = line.split("listening on ")[1].split()[0]
        assert not address.endswith(":0")

        async with child("--target", address, "health") as probe:
            out, err = await asyncio.wait_for(probe.communicate(), timeout=30)
        assert (probe.returncode, out, err) == (0, b"SERVING\n", b"")

        server.send_signal(signal.SIGTERM)
        try:
            code = await asyncio.wait_for(server.wait(), timeout=15)
        except TimeoutError:
            server.send_signal(signal.SIGABRT)
            _, err = await server.communicate()
            pytest.fail(f"the gateway did not stop after SIGTERM:\n{err.decode()}")
        assert code == 0
    assert (tmp_path / "centre.db").exists()


@pytest.mark.slow
async def test_ctrl_c_exits_130_quietly(gateway: Gateway) -> None:
    await submitted(gateway, person("P-1"))
    async with child("--target", gateway.address, "subscribe", "--after", "0") as subscriber:
        assert subscriber.stdout is not None
        assert subscriber.stderr is not None
        first = await asyncio.wait_for(subscriber.stdout.readline(), timeout=30)
        assert json.loads(first)["record"]["recordId"] == "P-1"
        await read_until(subscriber.stderr, "caught up at sequence 1")

        subscriber.send_signal(signal.SIGINT)
        rest, err = await asyncio.wait_for(subscriber.communicate(), timeout=10)
    assert subscriber.returncode == 130
    assert (rest, err) == (b"", b"")


def test_the_program_freezes_its_heap_before_the_interpreter_exits(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The exit's collection of the whole heap took 1.5 to 5 s at load 8 to 10 after a Ctrl-C
    the command had handled in 10 ms (a subscriber once missed the 10 s above): the console
    script runs ``run``, which leaves the heap frozen for the interpreter's exit."""
    scripts = importlib.metadata.entry_points(group="console_scripts", name="liaison")
    assert [script.value for script in scripts] == ["gateway.cli:run"]
    monkeypatch.setattr(sys, "argv", ["liaison", "adapters"])
    before = gc.get_freeze_count()
    try:
        assert run() == EXIT_OK
        assert gc.get_freeze_count() > before
    finally:
        gc.unfreeze()  # this test's process goes on: its heap is collected as before
    assert "paxlst" in capsys.readouterr().out
