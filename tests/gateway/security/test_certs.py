"""The development CA: identities in URI SANs, usages, validity, key file modes."""

from __future__ import annotations

import datetime as dt
import stat
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID

from gateway.security.certs import CertificateAuthority, centre_uri, client_uri


def _load(path: Path) -> x509.Certificate:
    return x509.load_pem_x509_certificate(path.read_bytes())


def test_centre_certificates_name_the_centre_and_serve_loopback(tmp_path: Path) -> None:
    ca = CertificateAuthority.create(tmp_path / "pki")
    issued = ca.issue_centre("WCO-I2C")
    certificate = _load(issued.certificate)
    san = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.UniformResourceIdentifier) == [centre_uri("WCO-I2C")]
    assert san.get_values_for_type(x509.DNSName) == ["wco-i2c.centre.liaison", "localhost"]
    assert {str(a) for a in san.get_values_for_type(x509.IPAddress)} == {"127.0.0.1", "::1"}
    usages = certificate.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert set(usages) == {ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH}
    certificate.verify_directly_issued_by(ca.certificate)


def test_client_certificates_are_for_client_authentication_only(tmp_path: Path) -> None:
    ca = CertificateAuthority.create(tmp_path)
    certificate = _load(ca.issue_client("customs-be").certificate)
    san = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.UniformResourceIdentifier) == [client_uri("customs-be")]
    usages = certificate.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(usages) == [ExtendedKeyUsageOID.CLIENT_AUTH]


def test_private_keys_are_private(tmp_path: Path) -> None:
    ca = CertificateAuthority.create(tmp_path)
    issued = ca.issue_client("x")
    for key in (tmp_path / "ca-key.pem", issued.private_key):
        assert stat.S_IMODE(key.stat().st_mode) == 0o600


def test_validity_can_be_placed_in_the_past_for_expiry_tests(tmp_path: Path) -> None:
    ca = CertificateAuthority.create(tmp_path)
    start = dt.datetime.now(dt.UTC) - dt.timedelta(days=30)
    issued = ca.issue_client("old", not_before=start, validity=dt.timedelta(days=1))
    certificate = _load(issued.certificate)
    assert certificate.not_valid_after_utc < dt.datetime.now(dt.UTC)


def test_a_ca_is_not_overwritten_and_can_be_reloaded(tmp_path: Path) -> None:
    ca = CertificateAuthority.create(tmp_path)
    with pytest.raises(FileExistsError):
        CertificateAuthority.create(tmp_path)
    again = CertificateAuthority.load(tmp_path)
    assert again.certificate == ca.certificate
    _load(again.issue_centre("INTERPOL-CCC-LYON").certificate).verify_directly_issued_by(
        ca.certificate
    )


@pytest.mark.parametrize("name", ["", "../escape", ".hidden", "a/b"])
def test_names_that_are_not_plain_identifiers_are_refused(tmp_path: Path, name: str) -> None:
    ca = CertificateAuthority.create(tmp_path)
    with pytest.raises(ValueError, match="plain identifier"):
        ca.issue_client(name)
