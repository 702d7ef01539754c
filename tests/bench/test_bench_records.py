"""The benchmark's records are what a gateway accepts: a bench that measures refusals measures
nothing (its ids must be in the benchmarked centre's namespace, its seed entries complete)."""

from __future__ import annotations

from bench.records import BENCH_CENTRE, RecordEncoder, build_record, new_run_tag
from bench.screening.speed import list_records
from bench.screening_load import _as_own
from liaison.rules.intake import prepare_record
from liaison.v1 import exchange_pb2


def test_every_template_of_the_submit_bench_is_accepted_by_the_benchmarked_centre() -> None:
    tag = new_run_tag()
    encoder = RecordEncoder(tag)
    for n in range(0, 4096, 7):
        record = exchange_pb2.SubmitRequest.FromString(encoder.entry(n)).record
        assert record == build_record(tag, n)
        prepare_record(record, BENCH_CENTRE)  # raises InvalidArgumentError when refused


def test_the_screened_scenario_seeds_valid_list_entries() -> None:
    kinds = set()
    for n, payload in enumerate(list_records(200)):
        record = _as_own(payload, n)
        kinds.add(record.WhichOneof("body"))
        prepare_record(record, BENCH_CENTRE)
    assert kinds == {"notice", "travel_document"}
