"""Screenshots of the analyst console's views for docs/console.md (docs/console/*.png).

Starts two centres on loopback in this process - the i2c, serving HTTP and the console, and
Lyon, its peer - plus a third peer (Singapore) that is never up, so that every view has something
to show: screening hits on the i2c's own notices and stolen-document list, request threads to
Lyon (one overdue), deliveries to Lyon (delivered) and Singapore (dead-lettered), and the audit
chain. Then Debian's Chromium, driven by Playwright, photographs each view.

    .venv/bin/python scripts/console-screenshots.py [--out docs/console]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import re
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from google.protobuf.timestamp_pb2 import Timestamp
from grpc import aio
from playwright.async_api import expect

from gateway.audit.settings import CheckpointPolicy
from gateway.config import CentreConfig, HttpConfig, ServerConfig, StorageConfig
from gateway.federation.outbox import Backoff
from gateway.federation.routing import RoutingRule
from gateway.federation.settings import FederationSettings
from gateway.server import Gateway
from liaison.v1 import exchange_pb2, record_pb2, thread_pb2
from liaison.v1.exchange_pb2_grpc import RecordExchangeStub
from tests.support.browser import chromium
from tests.support.screening_records import (
    red_notice,
    screened,
    stolen_passport,
    traveller,
)
from tests.support.signing import centre_key, peer, signing_settings

I2C, LYON, SINGAPORE = "WCO-I2C", "INTERPOL-CCC-LYON", "INTERPOL-IGCI-SINGAPORE"
VIEWS = ("hits", "threads", "deliveries", "audit")


def _config(
    root: Path, centre: str, peers: list[object], routes: list[RoutingRule], key: object, http: bool
) -> CentreConfig:
    return CentreConfig(
        centre_id=centre,
        server=ServerConfig(listen="127.0.0.1:0", grace_seconds=0.5),
        http=HttpConfig("127.0.0.1:0" if http else ""),
        storage=StorageConfig(path=root / f"{centre}.db", synchronous="normal"),
        federation=FederationSettings(
            signing=signing_settings(key),  # type: ignore[arg-type]
            peers=tuple(peers),  # type: ignore[arg-type]
            routes=tuple(routes),
            backoff=Backoff(initial_seconds=0.05, max_seconds=0.2, max_age_seconds=1.0),
            audit_path=root / f"{centre}.audit.db",
            # Checkpoints often, so that the audit view shows one.
            audit_checkpoints=CheckpointPolicy(every_entries=5, every_seconds=0.5),
        ),
    )


def _request(number: int, subject: str, urgency: int, due: dt.datetime) -> record_pb2.Record:
    record = record_pb2.Record(record_id=f"{I2C}:rfi:{number}")
    record.request.thread_id = f"{I2C}:rfi:{number}"
    record.request.subject = subject
    record.request.body = "Please confirm whether the subject is known to your services."
    record.request.urgency = urgency
    stamp = Timestamp()
    stamp.FromDatetime(due)
    record.request.reply_deadline.CopyFrom(stamp)
    record.handling.releasable_to.extend([I2C, LYON])
    return record


async def _seed(i2c: Gateway) -> None:
    async with aio.insecure_channel(i2c.address) as channel:
        exchange = RecordExchangeStub(channel)

        async def submit(record: record_pb2.Record) -> None:
            await exchange.Submit(exchange_pb2.SubmitRequest(record=record))  # type: ignore[misc]

        await submit(red_notice(f"{I2C}:notice:1"))
        await submit(red_notice(f"{I2C}:notice:2", "KOWALSKI", "JAN"))
        await submit(stolen_passport(f"{I2C}:sltd:1", "X1234567"))
        await screened(i2c)
        await submit(traveller(f"{I2C}:pax:1"))
        await submit(traveller(f"{I2C}:pax:2", "KOVALSKI", "IAN"))
        await submit(traveller(f"{I2C}:pax:3", "IVANOVA", "SERGEI"))
        document = stolen_passport(f"{I2C}:doc:1", "X1234567")
        document.travel_document.status = 0
        await submit(document)
        await screened(i2c)
        now = dt.datetime.now(dt.UTC)
        await submit(
            _request(
                1,
                "Vehicle seen at the border",
                thread_pb2.URGENCY_URGENT,
                now - dt.timedelta(hours=2),
            )
        )
        await submit(
            _request(
                2,
                "Container manifest discrepancy",
                thread_pb2.URGENCY_NORMAL,
                now + dt.timedelta(days=6),
            )
        )


async def _shoot(address: str, out: Path) -> None:
    async with chromium() as browser:
        page = await browser.new_page(viewport={"width": 1040, "height": 680})
        for view in VIEWS:
            await page.goto(f"http://{address}/console/#{view}")
            # Loaded: the view's status line says what it found (not "Loading…").
            await expect(page.locator(f"#{view}-status")).to_have_text(re.compile(r"[^…]$"))
            await page.screenshot(path=str(out / f"{view}.png"))
            print(f"wrote {out / f'{view}.png'} ({(out / f'{view}.png').stat().st_size} bytes)")


async def main(out: Path) -> None:
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        keys = {c: centre_key(root, c) for c in (I2C, LYON, SINGAPORE)}
        lyon = Gateway(_config(root, LYON, [peer(keys[I2C], "127.0.0.1:9")], [], keys[LYON], False))
        await lyon.start()
        routes = [
            RoutingRule(peers=(LYON,), kinds=frozenset({"request", "screening_hit"}), name="lyon"),
            RoutingRule(peers=(SINGAPORE,), kinds=frozenset({"screening_hit"}), name="sg"),
        ]
        peers = [peer(keys[LYON], lyon.address), peer(keys[SINGAPORE], "127.0.0.1:9")]
        i2c = Gateway(_config(root, I2C, peers, routes, keys[I2C], True))
        await i2c.start()
        try:
            await _seed(i2c)
            await asyncio.sleep(3)  # forwarding delivers to Lyon; Singapore dead-letters by age
            await _shoot(i2c.http_address, out)
        finally:
            await i2c.stop(grace=0)
            await lyon.stop(grace=0)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("docs/console"))
    folder = parser.parse_args().out
    folder.mkdir(parents=True, exist_ok=True)
    asyncio.run(main(folder))
