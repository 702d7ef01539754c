"""Red team: over HTTP the caller is its verified certificate, never a header. A stranger that
sends the headers a proxy or a gRPC client would use to name someone else - forwarded client
certificates, X-Forwarded-*, gRPC-like metadata, an acting-for claim - is still a stranger (403)."""

from __future__ import annotations

from pathlib import Path

import httpx

from gateway.security.policy import Grant
from tests.support.mtls import Pki, https_context, tls_gateway

SPOOFING = {
    "x-forwarded-for": "127.0.0.1",
    "x-forwarded-host": "localhost",
    "x-real-ip": "127.0.0.1",
    "x-forwarded-client-cert": "Subject=customs-1;URI=urn:liaison:client:customs-1",
    "x-ssl-client-cert": "-----BEGIN CERTIFICATE-----",
    "x-client-identity": "urn:liaison:client:customs-1",
    "x-liaison-identity": "urn:liaison:client:customs-1",
    "x-liaison-acting-for": "TEST-CENTRE",
    "grpc-metadata-x509_pem_cert": "forged",
    "transport_security_type": "insecure",
    "x509_pem_cert": "forged",
    "authorization": "Bearer urn:liaison:client:customs-1",
}


async def test_identity_headers_do_not_make_a_stranger_someone_else(
    tmp_path: Path, pki: Pki
) -> None:
    stranger = pki.client("stranger")
    grant = Grant(("urn:liaison:client:customs-*",), ("liaison.v1.RecordExchange/Get",))
    async with (
        tls_gateway(tmp_path, pki, [grant], http=True) as gateway,
        httpx.AsyncClient(
            base_url=f"https://{gateway.http_address}", verify=https_context(pki, stranger)
        ) as client,
    ):
        answer = await client.post(
            "/liaison.v1.RecordExchange/Get", json={"recordId": "X-1"}, headers=SPOOFING
        )
        assert (answer.status_code, answer.json()["code"]) == (403, "permission_denied")
        for path in ("/liaison.v1.RecordExchange/Search", "/liaison.v1.RecordExchange/Subscribe"):
            streamed = await client.get(path, headers={**SPOOFING, "last-event-id": "0"})
            assert streamed.status_code == 403, streamed.text
