"""The analyst console in a real browser (Debian's Chromium, driven by Playwright): a gateway
serving HTTP on loopback, where the browser is the local operator, stores a screening hit; the
console lists it with its explanation, the analyst decides it, and the decision is read back
over gRPC. The other views load against the same gateway."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import pytest
from grpc import aio
from playwright.async_api import Page, expect

from gateway.config import CentreConfig, HttpConfig
from gateway.federation.settings import FederationSettings
from gateway.security.policy import Grant
from gateway.server import Gateway
from liaison.v1 import exchange_pb2, screening_hit_pb2, screening_pb2
from tests.conftest import TEST_CENTRE, make_config
from tests.support.browser import chromium
from tests.support.mtls import Pki, tls_gateway
from tests.support.rpc import ExchangeStub, ScreeningStub
from tests.support.screening_records import red_notice, screened, traveller

pytestmark = [pytest.mark.slow, pytest.mark.timeout(120)]

NOTICE = f"{TEST_CENTRE}:notice:1"
PASSENGER = f"{TEST_CENTRE}:pax:1"
NOTE = "same man: passport photo compared at the gate"


@pytest.fixture
def gateway_config(tmp_path: Path) -> CentreConfig:
    # HTTP on loopback (the browser is the local operator) and an audit log - no peers, no
    # routes, no TLS: FederationAdmin (the audit chain, an empty delivery ledger) is served
    # because the gateway keeps an audit log (decision 0026).
    return replace(
        make_config(tmp_path),
        http=HttpConfig("127.0.0.1:0"),
        federation=FederationSettings(audit_path=tmp_path / "audit.db"),
    )


@pytest.fixture
async def page(gateway: Gateway) -> AsyncIterator[Page]:
    async with chromium() as browser:
        opened = await browser.new_page()
        yield opened


async def _hit_stored(gateway: Gateway, exchange: ExchangeStub) -> None:
    await exchange.Submit(exchange_pb2.SubmitRequest(record=red_notice(NOTICE)))
    await screened(gateway)
    await exchange.Submit(exchange_pb2.SubmitRequest(record=traveller(PASSENGER)))
    await screened(gateway)


async def test_an_analyst_decides_a_hit_in_the_console(
    gateway: Gateway, channel: aio.Channel, page: Page
) -> None:
    exchange = ExchangeStub(channel)
    await _hit_stored(gateway, exchange)
    await page.goto(f"http://{gateway.http_address}/console")
    hit = page.get_by_role("article")
    await expect(hit).to_have_count(1)
    await expect(page.get_by_role("heading", name="Hit band: 1")).to_be_visible()
    await expect(hit).to_contain_text(PASSENGER)
    await expect(hit).to_contain_text(NOTICE)
    # The explanation: one row per piece of evidence, names and birth date among them.
    evidence = hit.get_by_role("table")
    await expect(evidence.get_by_role("cell", name="birth_date", exact=True)).to_be_visible()

    hit_id = await hit.get_attribute("data-record-id")
    assert hit_id
    await hit.get_by_label("Match", exact=True).check()
    await hit.get_by_label("Note").fill(NOTE)
    await hit.get_by_role("button", name="Record the decision").click()
    await expect(hit.get_by_role("status")).to_have_text(f"Recorded as version 2 of {hit_id}.")

    stored = (await exchange.Get(exchange_pb2.GetRequest(record_id=hit_id))).record
    decision = stored.screening_hit.decision
    assert stored.version == 2
    assert (decision.kind, decision.note, decision.analyst) == (
        screening_hit_pb2.SCREENING_DECISION_KIND_MATCH,
        NOTE,
        "local",
    )
    # Decided, it leaves the default queue (undecided hits).
    await page.get_by_role("button", name="Show").click()
    await expect(page.get_by_role("article")).to_have_count(0)


async def test_a_stale_decision_is_refused_readably(
    gateway: Gateway, channel: aio.Channel, page: Page
) -> None:
    exchange = ExchangeStub(channel)
    await _hit_stored(gateway, exchange)
    await page.goto(f"http://{gateway.http_address}/console/")
    hit = page.get_by_role("article")
    await expect(hit).to_have_count(1)
    # Another analyst decides first (over gRPC): the page still shows version 1.
    hit_id = await hit.get_attribute("data-record-id")
    assert hit_id
    await ScreeningStub(channel).Decide(
        screening_pb2.DecideRequest(
            hit_record_id=hit_id, decision=screening_hit_pb2.SCREENING_DECISION_KIND_UNSURE
        )
    )
    await hit.get_by_label("No match").check()
    await hit.get_by_role("button", name="Record the decision").click()
    alert = hit.get_by_role("alert")
    await expect(alert).to_contain_text("Someone changed it in the meantime (aborted)")


async def test_the_other_views_load(gateway: Gateway, page: Page) -> None:
    assert not gateway.config.federation.peers  # the audit view works without federation
    await page.goto(f"http://{gateway.http_address}/console/")
    await page.get_by_role("link", name="Threads").click()
    await expect(page.get_by_role("heading", name="Threads", level=2)).to_be_visible()
    await expect(page.locator("#threads-status")).to_have_text("0 thread(s), 0 overdue.")
    await expect(page.get_by_role("link", name="Threads")).to_have_attribute("aria-current", "page")

    await page.get_by_role("link", name="Deliveries").click()
    await expect(page.get_by_text("No delivery to show.")).to_be_visible()

    await page.get_by_role("link", name="Audit chain").click()
    await expect(page.get_by_text("The audit chain is intact")).to_be_visible()
    await expect(page.get_by_role("heading", name="Screening hits")).to_be_hidden()


async def test_over_mutual_tls_a_view_the_identity_may_not_use_says_so(
    tmp_path: Path, pki: Pki
) -> None:
    # The browser presents a client certificate; its identity may list threads, nothing else.
    analyst = pki.client("analyst")
    grant = Grant(("urn:liaison:client:analyst",), ("liaison.v1.RecordExchange/ListThreads",))
    async with tls_gateway(tmp_path, pki, [grant], http=True) as gateway, chromium() as browser:
        origin = f"https://{gateway.http_address}"
        context = await browser.new_context(
            ignore_https_errors=True,  # the test CA is not the browser's
            client_certificates=[
                {
                    "origin": origin,
                    "certPath": analyst.certificate,
                    "keyPath": analyst.private_key,
                }
            ],
        )
        page = await context.new_page()
        await page.goto(f"{origin}/console/")
        alert = page.locator("#hits-body").get_by_role("alert")
        await expect(alert).to_contain_text("Your identity may not do this (permission denied)")
        await expect(alert).to_contain_text("urn:liaison:client:analyst may not call")
        await page.get_by_role("link", name="Threads").click()
        await expect(page.locator("#threads-status")).to_have_text("0 thread(s), 0 overdue.")
        await context.close()
