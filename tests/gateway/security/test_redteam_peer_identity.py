"""Red team: whom a centre forwards to - the peer's identity on the outbound side.

Inbound, a caller's identity is read only from the URI SAN of its verified certificate; DNS names
are never read, "even when their text looks like an identity" (a CA tricked into signing one).
Outbound, ``GrpcPeerLink`` verifies the server only by the DNS name ``<centre>.centre.liaison``
(``ssl_target_name_override``). Here an impostor server on loopback presents certificates that
the centres' own CA signed, and the i2c's link to Lyon is pointed at it - what an attacker with
a network position (DNS, routing) gets.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import grpc
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from grpc import aio

from gateway.federation.forwarder import PeerUnavailableError
from gateway.federation.peers import GrpcPeerLink
from gateway.federation.settings import PeerConfig
from gateway.security.certs import IssuedCertificate, centre_host, centre_uri
from gateway.security.tls import server_credentials
from liaison.v1 import exchange_pb2, federation_pb2, federation_pb2_grpc
from tests.support.factories import person
from tests.support.mtls import I2C, LYON, SINGAPORE, Pki
from tests.support.signing import ring


class _Impostor(federation_pb2_grpc.FederationServicer):
    """Accepts every delivery and keeps what it was sent."""

    def __init__(self, lyon_key_id: str = "") -> None:
        self.received: list[str] = []
        self.lyon_key_id = lyon_key_id

    async def Deliver(
        self,
        request: federation_pb2.DeliverRequest,
        context: grpc.aio.ServicerContext[object, object],
    ) -> federation_pb2.DeliverResponse:
        self.received += [forwarded.record.record_id for forwarded in request.records]
        return federation_pb2.DeliverResponse(
            results=[
                federation_pb2.DeliveryResult(
                    ack=exchange_pb2.SubmitAck(record_id=forwarded.record.record_id)
                )
                for forwarded in request.records
            ]
        )

    async def Identify(
        self,
        request: federation_pb2.IdentifyRequest,
        context: grpc.aio.ServicerContext[object, object],
    ) -> federation_pb2.IdentifyResponse:
        """Claims to be Lyon answering the i2c - without Lyon's signing key."""
        return federation_pb2.IdentifyResponse(
            centre=LYON, caller=I2C, key_id=self.lyon_key_id, signature=bytes(64)
        )

    async def KeepCheckpoint(
        self,
        request: federation_pb2.KeepCheckpointRequest,
        context: grpc.aio.ServicerContext[object, object],
    ) -> federation_pb2.KeepCheckpointResponse:
        return federation_pb2.KeepCheckpointResponse(kept=1)


def _server_certificate(
    pki: Pki, label: str, names: Sequence[x509.GeneralName]
) -> IssuedCertificate:
    """A TLS server certificate, signed by the centres' CA, whose SANs are ``names``."""
    ca_key = serialization.load_pem_private_key(
        (pki.ca.directory / "ca-key.pem").read_bytes(), None
    )
    assert isinstance(ca_key, ec.EllipticCurvePrivateKey)
    key = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, label)]))
        .issuer_name(pki.ca.certificate.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    folder = pki.ca.directory / "impostors"
    folder.mkdir(exist_ok=True)
    issued = IssuedCertificate(folder / f"{label}.pem", folder / f"{label}-key.pem")
    issued.certificate.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    issued.private_key.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return issued


@pytest.mark.parametrize(
    "names",
    [
        pytest.param([x509.DNSName(centre_host(LYON))], id="dns-name-only-no-identity"),
        pytest.param(
            [
                x509.UniformResourceIdentifier(centre_uri(SINGAPORE)),
                x509.DNSName(centre_host(LYON)),
            ],
            id="another-centres-identity-with-lyons-dns-name",
        ),
    ],
)
async def test_records_for_a_peer_go_only_to_a_server_with_that_peers_identity(
    pki: Pki, names: list[x509.GeneralName]
) -> None:
    """WRONG: the link to Lyon accepts any server certificate of a trusted CA that carries the
    DNS name ``interpol-ccc-lyon.centre.liaison`` - one with no Liaison identity at all, or one
    whose URI SAN names Singapore - and delivers Lyon's records to it (the impostor acks them,
    so the i2c marks them DELIVERED). The DNS name is exactly what the inbound side refuses to
    trust; a wildcard or mis-issued server certificate is enough.

    RIGHT: the peer's identity is checked as strictly outbound as inbound: the server must
    present ``urn:liaison:centre:INTERPOL-CCC-LYON`` in a URI SAN (and no other identity), or
    nothing is sent (PeerUnavailableError, retried later) and the impostor receives nothing.
    """
    impostor = _Impostor(pki.keys[LYON].spec.key_id)
    server = aio.server()
    federation_pb2_grpc.add_FederationServicer_to_server(impostor, server)
    port = server.add_secure_port(
        "127.0.0.1:0", server_credentials(pki.tls(_server_certificate(pki, "impostor", names)))
    )
    await server.start()
    link = GrpcPeerLink(
        PeerConfig(LYON, f"127.0.0.1:{port}"),
        pki.tls(pki.i2c),
        centre=I2C,
        key_ring=ring(pki.keys[LYON]),
    )
    try:
        with pytest.raises(PeerUnavailableError):
            await link.deliver([federation_pb2.ForwardedRecord(record=person("for-lyon-1"))])
    finally:
        await link.close()
        await server.stop(None)
    assert impostor.received == []
