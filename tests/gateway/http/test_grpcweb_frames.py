"""The gRPC-Web wire format alone: frames split anywhere decode the same, base64 bodies in any
number of padded chunks, the trailers block, ``grpc-message`` encoding and ``grpc-timeout``."""

from __future__ import annotations

import base64

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.errors import InvalidArgumentError, LimitExceededError, UnimplementedError
from gateway.http.grpcweb import (
    FrameDecoder,
    WebMedia,
    data_frame,
    grpc_timeout,
    percent_encode,
    trailers_frame,
    web_media,
)

LIMIT = 64

messages = st.lists(st.binary(max_size=LIMIT), max_size=5)


def _decode(chunks: list[bytes], *, text: bool) -> list[bytes]:
    decoder = FrameDecoder(max_message_bytes=LIMIT, text=text)
    found = [m for chunk in chunks for m in decoder.feed(chunk)]
    decoder.finish()
    return found


def _split(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({min(c, len(data)) for c in cuts})
    return [data[a:b] for a, b in zip([0, *points], [*points, len(data)], strict=True)]


@given(messages, st.lists(st.integers(min_value=0, max_value=400), max_size=8))
def test_frames_split_anywhere_decode_the_same(sent: list[bytes], cuts: list[int]) -> None:
    body = b"".join(map(data_frame, sent))
    assert _decode(_split(body, cuts), text=False) == sent


@given(messages, st.lists(st.integers(min_value=0, max_value=400), max_size=8))
def test_text_bodies_in_padded_chunks_decode_the_same(sent: list[bytes], cuts: list[int]) -> None:
    # Each chunk of the binary body encoded on its own (padded), then cut anywhere again.
    body = b"".join(map(data_frame, sent))
    encoded = b"".join(base64.b64encode(part) for part in _split(body, cuts))
    assert _decode(_split(encoded, cuts[::-1]), text=True) == sent


def test_a_length_over_the_limit_is_refused_from_the_prefix_alone() -> None:
    decoder = FrameDecoder(max_message_bytes=LIMIT, text=False)
    with pytest.raises(LimitExceededError):
        decoder.feed(b"\x00" + (LIMIT + 1).to_bytes(4, "big"))


@pytest.mark.parametrize(
    ("body", "error"),
    [
        (b"\x01\x00\x00\x00\x00", UnimplementedError),
        (b"\x80\x00\x00\x00\x00", InvalidArgumentError),
        (b"\x02\x00\x00\x00\x00", InvalidArgumentError),
    ],
)
def test_flags_other_than_a_plain_message_are_refused(body: bytes, error: type[Exception]) -> None:
    with pytest.raises(error):
        FrameDecoder(max_message_bytes=LIMIT, text=False).feed(body)


@pytest.mark.parametrize("body", [b"\x00\x00", b"\x00\x00\x00\x00\x02a"])
def test_a_body_ending_inside_a_frame_is_refused(body: bytes) -> None:
    decoder = FrameDecoder(max_message_bytes=LIMIT, text=False)
    assert decoder.feed(body) == []
    with pytest.raises(InvalidArgumentError):
        decoder.finish()


@pytest.mark.parametrize("body", [b"AA=A", b"A===", b"AAA*", b"AAAA=", b"AA==AA"])
def test_bad_base64_is_refused(body: bytes) -> None:
    with pytest.raises(InvalidArgumentError):
        _decode([body], text=True)


def test_the_trailers_frame_is_an_http1_header_block() -> None:
    frame = trailers_frame(3, "bad: 100% wrong\r\nx", b"\x08\x03")
    assert frame[0] == 0x80
    assert int.from_bytes(frame[1:5], "big") == len(frame) - 5
    assert frame[5:].decode("ascii").split("\r\n") == [
        "grpc-status: 3",
        "grpc-message: bad: 100%25 wrong%0D%0Ax",
        "grpc-status-details-bin: CAM",
        "",
    ]
    assert trailers_frame(0, "", None)[5:] == b"grpc-status: 0\r\n"


def test_grpc_message_is_percent_encoded_as_grpc_does() -> None:
    assert percent_encode("née à 100%") == "n%C3%A9e %C3%A0 100%25"
    assert percent_encode("plain text: ok") == "plain text: ok"


@pytest.mark.parametrize(
    ("header", "seconds"),
    [("5S", 5.0), ("100m", 0.1), ("2M", 120.0), ("1H", 3600.0), ("7u", 7e-6), ("3n", 3e-9)],
)
def test_grpc_timeout(header: str, seconds: float) -> None:
    assert grpc_timeout(header) == pytest.approx(seconds)


@pytest.mark.parametrize("header", [None, "", "5", "S", "123456789S", "-1S", "5s", "1.5S"])
def test_a_malformed_grpc_timeout_is_no_deadline(header: str | None) -> None:
    assert grpc_timeout(header) is None


def test_the_media_types() -> None:
    binary = web_media("application/grpc-web+proto")
    assert binary == WebMedia("application/grpc-web+proto", text=False, answer_text=False)
    text = web_media("application/grpc-web-text")
    assert text == WebMedia("application/grpc-web-text", text=True, answer_text=True)
    # A binary request may ask for a text answer (an XHR client, per the spec).
    asked = web_media("application/grpc-web+proto", "Application/GRPC-Web-Text, */*")
    assert asked == WebMedia("application/grpc-web-text", text=False, answer_text=True)
    assert web_media("application/grpc-web+json") is None
    assert web_media("application/grpc") is None
