"""Red team: hostile names reach the screening engine, over Screen and through Submit.

A traveller's name of thousands of tokens (``"IVANOV " * 14000``) made every token missing on the
entry a -0.3 line of evidence, the log-odds summed to about -4,500, and the logistic
``1 / (1 + exp(-total))`` raised OverflowError in the worker:

* WRONG: Screen answered UNKNOWN ("Unexpected RuntimeError: the screening worker failed:
  OverflowError"); the same traveller *submitted* failed its whole commit batch in the worker,
  and the desk retried that batch forever - automatic screening stopped for every later commit
  (a wanted man submitted after it was never screened), for one Submit of any client.
* RIGHT: the score is computed without overflow (near 0: no hit), and a subject the engine still
  cannot screen is skipped alone - named in the log - instead of failing its batch.

Names with a NUL or an invisible bidi override are not names at all: they are refused, clearly,
by Screen and by Submit (INVALID_ARGUMENT, a field violation naming the code point and its
position), so they never reach the engine. Right-to-left *letters* stay ordinary names.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Literal

import grpc
import pytest
from grpc import aio

from gateway.screening import DEFAULT_LISTS, subjects_from_records
from gateway.screening import keeper as keeper_module
from gateway.screening.keeper import IndexKeeper
from gateway.screening.settings import ScreeningSettings
from gateway.server import Gateway
from liaison.v1 import common_pb2, exchange_pb2, record_pb2, screening_pb2
from tests.conftest import TEST_CENTRE, make_config
from tests.support.rpc import ExchangeStub, ScreeningStub, violations_of
from tests.support.screening_records import red_notice, screened, traveller

HOSTILE_NAMES = {
    "14000-tokens": ("IVANOV " * 14_000, "SERGEI " * 1_000),
    "100k-letters": ("A" * 100_000, "SERGEI"),
    "combining": ("I\u0301\u0308" * 5_000, "S" + "\u0301" * 10_000),
    "zero-width": ("\u200d" * 50_000, "\u200b" * 40_000),
    "cyrillic": ("ИВАНОВ", "СЕРГЕЙ"),
    "arabic": ("إيفانوف", "سيرجي"),
    "cjk": ("伊万诺夫", "谢尔盖"),
    "emoji": ("🙂" * 20_000, "👨‍👩‍👧" * 3_000),
    "rtl-marks": ("\u200fIVANOV\u200f", "\u200eSERGEI"),  # LRM/RLM marks, not overrides
}
# Names no one has: refused at intake with the code point and its position.
REFUSED_NAMES = {
    "nul": (("IVA\x00NOV", "SER\x00GEI"), "U+0000 (a control character) at position 3"),
    "rtl-override": (
        ("\u202eVONAVI", "\u202eIEGRES"),
        "U+202E (an invisible bidi override or isolate) at position 0",
    ),
    "rtl-isolate": (
        ("IVANOV\u2067", "\u2066SERGEI\u2069"),
        "U+2067 (an invisible bidi override or isolate) at position 6",
    ),
    "newline": (("IVANOV\nADMIN", "SERGEI\r"), "U+000A (a control character) at position 6"),
    "escape": (("\x1b[31mIVANOV", "SERGEI"), "U+001B (a control character) at position 0"),
    "c1-next-line": (("IVANOV\x85", "SERGEI"), "U+0085 (a control character) at position 6"),
    "noncharacter": (("IVANOV\ufffe", "SERGEI"), "U+FFFE (a noncharacter) at position 6"),
}


def _named(record_id: str, family: str, given: str) -> record_pb2.Record:
    record = traveller(record_id)
    del record.person.names[:]
    record.person.names.add(type=common_pb2.NAME_TYPE_PRIMARY, family=family, given=given)
    return record


@pytest.mark.parametrize("name", sorted(HOSTILE_NAMES))
async def test_screen_answers_hostile_names(channel: aio.Channel, name: str) -> None:
    await ExchangeStub(channel).Submit(
        exchange_pb2.SubmitRequest(record=red_notice(f"{TEST_CENTRE}:notice:1"))
    )
    family, given = HOSTILE_NAMES[name]
    request = screening_pb2.ScreenRequest(subjects=[_named("", family, given)])
    answer = await ScreeningStub(channel).Screen(request)
    assert [s.record_id for s in answer.subjects] == ["subject-1"]


@pytest.mark.parametrize("name", sorted(REFUSED_NAMES))
async def test_screen_refuses_names_with_control_characters(
    channel: aio.Channel, name: str
) -> None:
    (family, given), reason = REFUSED_NAMES[name]
    request = screening_pb2.ScreenRequest(subjects=[_named("", family, given)])
    with pytest.raises(aio.AioRpcError) as caught:
        await ScreeningStub(channel).Screen(request)
    assert caught.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    violations = violations_of(caught.value)
    # The path is the path from the record; the description names the subject (decision 0022).
    assert set(violations) <= {"person.names[0].family", "person.names[0].given"}
    assert violations["person.names[0].family"] == f"must not contain {reason} (subjects[0])"


@pytest.mark.parametrize("name", sorted(REFUSED_NAMES))
async def test_submit_refuses_names_with_control_characters(
    channel: aio.Channel, name: str
) -> None:
    (family, given), reason = REFUSED_NAMES[name]
    record = _named(f"{TEST_CENTRE}:pax:refused", family, given)
    with pytest.raises(aio.AioRpcError) as caught:
        await ExchangeStub(channel).Submit(exchange_pb2.SubmitRequest(record=record))
    assert caught.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    violations = violations_of(caught.value)
    assert set(violations) <= {"person.names[0].family", "person.names[0].given"}
    assert violations["person.names[0].family"] == f"must not contain {reason}"


@pytest.mark.parametrize("worker", ["process", "thread"])
async def test_a_traveller_with_a_hostile_name_does_not_stop_automatic_screening(
    tmp_path: Path, worker: Literal["process", "thread"]
) -> None:
    config = dataclasses.replace(make_config(tmp_path), screening=ScreeningSettings(worker=worker))
    gateway = Gateway(config)
    await gateway.start()
    try:
        async with aio.insecure_channel(gateway.address) as opened:
            exchange = ExchangeStub(opened)
            await exchange.Submit(
                exchange_pb2.SubmitRequest(record=red_notice(f"{TEST_CENTRE}:notice:1"))
            )
            for number, (family, given) in enumerate(HOSTILE_NAMES.values()):
                hostile = _named(f"{TEST_CENTRE}:pax:hostile-{number}", family, given)
                await exchange.Submit(exchange_pb2.SubmitRequest(record=hostile))
            await exchange.Submit(
                exchange_pb2.SubmitRequest(record=traveller(f"{TEST_CENTRE}:pax:wanted"))
            )
            await screened(gateway)
            listed = await ScreeningStub(opened).ListHits(screening_pb2.ListHitsRequest())
        subjects = {hit.screening_hit.subject_record_id for hit in listed.hits}
        assert f"{TEST_CENTRE}:pax:wanted" in subjects
    finally:
        await gateway.stop(grace=0)


def test_a_subject_the_engine_cannot_screen_is_skipped_alone(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    keeper = IndexKeeper(DEFAULT_LISTS)
    notice = red_notice("C:n1")
    keeper.load([(notice.record_id, 1, notice.SerializeToString())])
    keeper.build()
    poisoned, wanted = traveller("C:pax:poisoned"), traveller("C:pax:wanted")
    screen = keeper_module.IndexKeeper.screen

    def failing(self: IndexKeeper, subjects: list[object], lists: object = None) -> object:
        if any(getattr(s, "record_id", "") == "C:pax:poisoned" for s in subjects):
            raise ArithmeticError("a bug of the engine's")
        return screen(self, subjects, lists)  # type: ignore[arg-type]

    monkeypatch.setattr(keeper_module.IndexKeeper, "screen", failing)
    rows = [(r.record_id, 1, r.SerializeToString()) for r in (poisoned, wanted)]
    hits, skipped, _ = keeper.apply(rows, [], [[0], [1]], (1_800_000_000, 0))
    assert [hit[0] for hit in hits] == ["C:pax:wanted"]
    assert skipped == [("C:pax:poisoned", "cannot be screened: ArithmeticError")]
    assert subjects_from_records([wanted])  # the wanted man is an ordinary subject
