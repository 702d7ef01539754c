"""Why a peer could not be reached, from what grpcio reports (details measured with grpcio 1.85
on loopback: see ``gateway.client._handshake`` for the handshake cases)."""

from __future__ import annotations

import grpc
import pytest

from gateway.federation.peers import peer_failure

LYON = "INTERPOL-CCC-LYON"
ADDRESS = "127.0.0.1:50052"
_FAILED = "failed to connect to all addresses; last error: UNKNOWN: ipv4:127.0.0.1:50052: "


@pytest.mark.parametrize(
    ("code", "details", "cause", "starts"),
    [
        (
            grpc.StatusCode.UNAVAILABLE,
            _FAILED + "Failed to connect to remote host: Connection refused",
            "unreachable",
            "unreachable: connection refused",
        ),
        (
            grpc.StatusCode.UNAVAILABLE,
            _FAILED + "Tls handshake failed (TSI_PROTOCOL_FAILURE): SSL_ERROR_SSL: error:1000007d:"
            "SSL routines:OPENSSL_internal:CERTIFICATE_VERIFY_FAILED: unable to get local issuer "
            "certificate: OK",
            "handshake",
            "handshake: certificate not trusted",
        ),
        (
            grpc.StatusCode.UNAVAILABLE,
            _FAILED + "Tls handshake failed (TSI_PROTOCOL_FAILURE): SSL_ERROR_SSL: error:1000007d:"
            "SSL routines:OPENSSL_internal:CERTIFICATE_VERIFY_FAILED: certificate has expired",
            "handshake",
            "handshake: certificate not valid now",
        ),
        (
            grpc.StatusCode.UNAVAILABLE,
            _FAILED + "Custom verification check failed with error: UNAUTHENTICATED: Hostname "
            "Verification Check failed.",
            "handshake",
            "handshake: not the peer's certificate",
        ),
        (
            grpc.StatusCode.UNAVAILABLE,
            _FAILED + "Tls handshake failed: WRONG_VERSION_NUMBER",
            "handshake",
            "handshake: the server at 127.0.0.1:50052 does not speak TLS",
        ),
        (
            grpc.StatusCode.UNAVAILABLE,
            _FAILED + "Socket closed",
            "handshake",
            "handshake: the server at 127.0.0.1:50052 closed the connection",
        ),
        (
            grpc.StatusCode.UNAVAILABLE,
            "failed to connect to all addresses; last error: UNAVAILABLE: "
            "DNS resolution failed for nowhere.invalid:50052",
            "unreachable",
            "unreachable: the address does not resolve",
        ),
        (grpc.StatusCode.DEADLINE_EXCEEDED, "Deadline Exceeded", "timeout", "timeout: "),
        (grpc.StatusCode.UNAVAILABLE, "Socket closed", "unavailable", "unavailable: UNAVAILABLE"),
    ],
)
def test_the_cause_comes_first(
    code: grpc.StatusCode, details: str, cause: str, starts: str
) -> None:
    error = peer_failure(code, details, ADDRESS, LYON)
    assert error.cause == cause
    assert str(error).startswith(starts), str(error)


def test_a_connected_server_that_will_not_identify_is_an_identity_failure() -> None:
    error = peer_failure(grpc.StatusCode.UNIMPLEMENTED, "", ADDRESS, LYON, doing="identify")
    assert error.cause == "identity"
    assert str(error).startswith(f"identity: the server at {ADDRESS} did not prove it is {LYON}")
