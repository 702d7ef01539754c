"""The ``signing`` scenario: what signing every version costs Submit, and what verifying costs.

The load is the ``submit`` scenario's (unary Submit, 64 calls in flight) against two fresh
gateways of one round, back to back: the baseline stores versions unsigned (no ``[signing]``),
the target signs each version in the transaction that numbers it (``[signing]``, an Ed25519
key). Their ratio is the share of Submit's throughput that signing costs (goal: at most 10 %).

Verification happens where versions are received (``Federation.Deliver``), not on Submit; its
cost per version is measured in process here (:func:`verify_cost`) and reported against the
time one Submit takes at the measured throughput.
"""

from __future__ import annotations

import hashlib
import time
from pathlib import Path

from gateway.signing import SigningKeySource, create_centre_signing_key, load_key_ring

__all__ = ["sign_and_verify_costs", "write_signing_config"]


def write_signing_config(workdir: Path, centre: str) -> Path:
    """A centre file for ``centre`` with a new signing key in ``workdir``; returns its path."""
    spec, private = create_centre_signing_key(workdir / "signing", centre)
    path = workdir / "centre.toml"
    path.write_text(
        "\n".join(
            [
                "[centre]",
                f'id = "{centre}"',
                "",
                "[signing]",
                f'key_id = "{spec.key_id}"',
                f'private_key = "{private}"',
                "",
                "[[signing.keys]]",
                f'id = "{spec.key_id}"',
                f'public_key = "{spec.public_key}"',
                f"not_before = {spec.not_before.strftime('%Y-%m-%dT%H:%M:%SZ')}",
                f"not_after = {spec.not_after.strftime('%Y-%m-%dT%H:%M:%SZ')}",
                "",
            ]
        ),
        encoding="utf-8",
    )
    return path


def sign_and_verify_costs(workdir: Path, centre: str, count: int = 2000) -> tuple[float, float]:
    """Microseconds to sign one version, and to verify one (statement, key lookup, Ed25519)."""
    spec, private = create_centre_signing_key(workdir / "micro", centre)
    signer = SigningKeySource(centre, spec.key_id, private).load()
    ring = load_key_ring({centre: [spec]})
    hashes = [hashlib.sha256(str(n).encode()).digest() for n in range(count)]
    now = divmod(time.time_ns(), 1_000_000_000)
    started = time.perf_counter()
    signatures = [
        signer.sign_version(f"{centre}:r{n}", 1, hashes[n], now, now) for n in range(count)
    ]
    signed = time.perf_counter()
    for n in range(count):
        ring.verify_version(
            record_id=f"{centre}:r{n}",
            originating_centre=centre,
            version=1,
            content_sha256=hashes[n],
            received_at=now,
            signature=signatures[n],
        )
    verified = time.perf_counter()
    return (signed - started) / count * 1e6, (verified - signed) / count * 1e6
