"""Hostile payloads: input built to make a decoder slow, fat or talkative.

Each kind is a builder, ``size -> bytes`` (about ``size`` bytes), so the kit can decode the same
kind at several sizes and compare the costs. The generic kinds come from the adapter's golden
samples, so that they hit the format where it is sensitive, whatever the format:

* ``one-byte-run`` — the largest sample's first byte, over and over: one endless token;
* ``byte-run-0xNN`` — each of the samples' three most frequent separator bytes (neither letters,
  digits nor blanks: EDIFACT terminators, MRZ fillers, JSON quotes, ANSI/NIST separators), over
  and over: an empty item per byte, the input that gave two million diagnostics;
* ``repeated-sample`` — the largest sample over and over: many plausible items;
* ``repeated-error-samples`` — the samples whose decode has errors, over and over: errors all
  the way (the error limit must stop it);
* ``open-brackets`` and ``nested-objects`` — ``[[[[...`` and ``{"a":{"a":...``: nesting as
  deep as the payload is long, which recursive descent decoders do not survive.

An integrator adds kinds specific to the format (``adapter_test_class(hostile_payloads=...)``),
e.g. a valid passenger list of any size.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping

__all__ = ["PayloadBuilder", "hostile_builders", "repeat_to"]

PayloadBuilder = Callable[[int], bytes]
"""Builds a payload of about the given number of bytes."""

_SEPARATOR_KINDS = 3
_NOT_SEPARATORS = frozenset(
    b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz \t\r\n"
)


def repeat_to(unit: bytes, size: int) -> bytes:
    """``unit`` repeated to ``size`` bytes (the last copy cut); ``b"A"`` stands for nothing."""
    unit = unit or b"A"
    return (unit * (size // len(unit) + 1))[:size]


def _byte_run(byte: int) -> PayloadBuilder:
    unit = bytes([byte])
    return lambda size: unit * size


def _separators(samples: Iterable[bytes]) -> list[int]:
    counts: Counter[int] = Counter()
    for sample in samples:
        counts.update(byte for byte in sample if byte not in _NOT_SEPARATORS)
    # Most frequent first, ties by byte value: the kinds are the same on every run.
    ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    return [byte for byte, _ in ranked[:_SEPARATOR_KINDS]]


def hostile_builders(
    samples: Iterable[bytes],
    error_samples: Iterable[bytes] = (),
    extra: Mapping[str, PayloadBuilder] | None = None,
) -> dict[str, PayloadBuilder]:
    """The hostile kinds for an adapter with these golden samples, by name.

    Args:
        samples: Every golden sample's bytes.
        error_samples: The samples whose expected decode has errors.
        extra: The integrator's own kinds; a name already used replaces the generic kind.
    """
    samples = [sample for sample in samples if sample]
    errors = b"".join(error_samples)
    largest = max(samples, key=len, default=b"A")
    builders: dict[str, PayloadBuilder] = {
        "one-byte-run": lambda size: largest[:1] * size,
        "repeated-sample": lambda size: repeat_to(largest, size),
        "open-brackets": lambda size: b"[" * size,
        "nested-objects": lambda size: repeat_to(b'{"a":', size),
    }
    for byte in _separators(samples):
        builders[f"byte-run-0x{byte:02x}"] = _byte_run(byte)
    if errors:
        builders["repeated-error-samples"] = lambda size: repeat_to(errors, size)
    builders.update(extra or {})
    return builders
