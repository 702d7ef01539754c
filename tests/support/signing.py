"""Signing keys for tests: a centre's key made in a temporary folder, and key rings."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from gateway.federation.settings import PeerConfig, SigningSettings
from gateway.signing import (
    KeyRing,
    RecordSigner,
    SigningKeySource,
    SigningKeySpec,
    create_centre_signing_key,
    load_key_ring,
)


@dataclass(frozen=True, slots=True)
class CentreKey:
    """A centre's signing key as the gateway and its peers are configured with it."""

    centre: str
    spec: SigningKeySpec
    source: SigningKeySource

    def signer(self) -> RecordSigner:
        return self.source.load()


def centre_key(directory: Path, centre: str) -> CentreKey:
    """A new signing key for ``centre`` under ``directory``."""
    spec, private = create_centre_signing_key(directory / "signing" / centre, centre)
    return CentreKey(centre, spec, SigningKeySource(centre, spec.key_id, private))


def ring(*keys: CentreKey) -> KeyRing:
    """The key ring that verifies these centres' versions."""
    return load_key_ring({key.centre: [key.spec] for key in keys})


def signing_settings(key: CentreKey) -> SigningSettings:
    """The ``[signing]`` section of the centre that owns ``key``."""
    return SigningSettings(
        key_id=key.spec.key_id, private_key=key.source.private_key, keys=(key.spec,)
    )


def peer(key: CentreKey, address: str) -> PeerConfig:
    """A ``[[peers]]`` entry for the centre that owns ``key``, with its public key."""
    return PeerConfig(key.centre, address, signing_keys=(key.spec,))
