"""gRPC-Web from a real browser (Debian's Chromium, driven by Playwright): a page of the gateway's
own origin calls the API with ``fetch`` in gRPC-Web text mode, as a gRPC-Web client library
would - a unary call and a server stream - and reads the messages and the trailers frame; a page
of another origin reads an answer only when ``[http] cors_origins`` names it."""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from playwright.async_api import Page

from gateway.config import CentreConfig, HttpConfig
from gateway.server import Gateway
from liaison.v1 import exchange_pb2
from tests.conftest import make_config
from tests.support import grpcweb
from tests.support.browser import chromium
from tests.support.factories import person
from tests.support.rpc import ExchangeStub

pytestmark = [pytest.mark.slow, pytest.mark.timeout(120)]

# Runs in the page: POST a base64 gRPC-Web body, answer the HTTP status, content type and body.
_CALL = """async ([path, body]) => {
  const answer = await fetch(path, {
    method: "POST",
    headers: {"content-type": "application/grpc-web-text", "x-grpc-web": "1"},
    body,
  });
  return [answer.status, answer.headers.get("content-type"), await answer.text()];
}"""


@pytest.fixture
def gateway_config(tmp_path: Path) -> CentreConfig:
    return replace(make_config(tmp_path), http=HttpConfig("127.0.0.1:0"))


@pytest.fixture
async def page(gateway: Gateway) -> AsyncIterator[Page]:
    async with chromium() as browser:
        opened = await browser.new_page()
        await opened.goto(f"http://{gateway.http_address}/console/")
        yield opened


async def _call(
    page: Page, path: str, request: exchange_pb2.GetRequest | exchange_pb2.SearchRequest
) -> tuple[list[bytes], dict[str, str]]:
    body = grpcweb.body_of(request, text=True).decode()
    status, content_type, text = await page.evaluate(_CALL, [path, body])
    assert (status, content_type) == (200, grpcweb.TEXT)
    messages, trailers, after = grpcweb.parse(text.encode(), text=True)
    assert after == 0
    return messages, trailers


async def test_a_browser_calls_unary_and_streaming_methods_over_grpc_web(
    page: Page, exchange: ExchangeStub
) -> None:
    for record_id in ("LOCAL-BROWSER-1", "LOCAL-BROWSER-2"):
        await exchange.Submit(exchange_pb2.SubmitRequest(record=person(record_id)))

    messages, trailers = await _call(
        page, "/liaison.v1.RecordExchange/Get", exchange_pb2.GetRequest(record_id="LOCAL-BROWSER-1")
    )
    assert trailers["grpc-status"] == "0"
    [got] = messages
    assert exchange_pb2.GetResponse.FromString(got).record.record_id == "LOCAL-BROWSER-1"

    messages, trailers = await _call(
        page, "/liaison.v1.RecordExchange/Search", exchange_pb2.SearchRequest(family_name="DOE")
    )
    assert trailers["grpc-status"] == "0"
    hits = {
        found.hit.record.record_id
        for found in map(exchange_pb2.SearchResponse.FromString, messages)
        if found.WhichOneof("item") == "hit"
    }
    assert hits == {"LOCAL-BROWSER-1", "LOCAL-BROWSER-2"}

    _, trailers = await _call(
        page, "/liaison.v1.RecordExchange/Get", exchange_pb2.GetRequest(record_id="LOCAL-NONE")
    )
    assert trailers["grpc-status"] == "5"


@contextmanager
def _app_page() -> Iterator[str]:
    """Another origin on loopback - a page server of its own, on another port - as a web
    application calling the gateway would be; its origin (``http://127.0.0.1:<port>``). On
    loopback like the gateway, so Chromium's local-network rules do not decide: CORS does."""

    class AppPage(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = b"<!doctype html><title>the app</title><p>the app"
            self.send_response(200)
            self.send_header("content-type", "text/html")
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), AppPage)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


# Runs in the other origin's page: the same call across origins; an error if the browser blocks.
_CROSS_ORIGIN_CALL = """async ([url, body]) => {
  try {
    const answer = await fetch(url, {
      method: "POST",
      headers: {"content-type": "application/grpc-web-text", "x-grpc-web": "1"},
      body,
    });
    return ["read", answer.status, await answer.text()];
  } catch (error) {
    return ["blocked", 0, String(error)];
  }
}"""


async def _from_another_origin(config: CentreConfig, origin: str) -> tuple[str, int, str]:
    gateway = Gateway(config)
    await gateway.start()
    try:
        async with chromium() as browser:
            page = await browser.new_page()
            await page.goto(f"{origin}/")
            body = grpcweb.body_of(exchange_pb2.GetRequest(record_id="LOCAL-NONE"), text=True)
            url = f"http://{gateway.http_address}/liaison.v1.RecordExchange/Get"
            kind, status, text = await page.evaluate(_CROSS_ORIGIN_CALL, [url, body.decode()])
    finally:
        await gateway.stop(grace=0)
    return str(kind), int(status), str(text)


async def test_a_page_of_a_configured_origin_reads_the_answer(tmp_path: Path) -> None:
    with _app_page() as origin:
        config = replace(
            make_config(tmp_path), http=HttpConfig("127.0.0.1:0", cors_origins=(origin,))
        )
        kind, status, text = await _from_another_origin(config, origin)
    assert (kind, status) == ("read", 200), text
    _, trailers, _ = grpcweb.parse(text.encode(), text=True)
    assert trailers["grpc-status"] == "5"


async def test_a_page_of_another_origin_is_blocked_by_default(tmp_path: Path) -> None:
    with _app_page() as origin:
        config = replace(make_config(tmp_path), http=HttpConfig("127.0.0.1:0"))
        kind, _, text = await _from_another_origin(config, origin)
    assert kind == "blocked", text
