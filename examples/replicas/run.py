"""Two replicas of the i2c on one PostgreSQL database, one killed mid-load: ``make demo-replicas``.

1. ``liaison migrate`` creates the i2c's schema; two replicas (``liaison serve`` processes, each
   with its own centre file and port, the same ``[storage] dsn`` and ``schema``) start on it;
2. a subscriber follows the i2c's feed on replica 1;
3. a writer submits records at 64 in flight through one gRPC channel listing both replicas
   (``round_robin``, the way the operator guide tells clients to connect), retrying what fails;
4. a third of the way in, replica 1 is killed (SIGKILL, as in a crash): calls in flight on it
   fail and are retried on replica 2; the subscriber's stream breaks, and it resumes on replica 2
   after the last sequence it saw;
5. the demo checks that every acknowledged record is on replica 2 as acknowledged, that the
   subscriber saw each of them exactly once, in feed order, with no sequence missing, and that
   a record sent again is a duplicate with its first acknowledgement; replica 1 is started again
   and reads the same.

It prints ``nothing lost, nothing duplicated`` and exits 0 only when all of that holds.

Needs a PostgreSQL server: ``--dsn`` or ``LIAISON_DEMO_DSN`` (default
``postgresql://postgres@127.0.0.1:5432/test``, the development machines' server). The demo works
in a schema of its own, dropped at the end (kept with ``--keep DIR``).
Run from the repository root: ``python examples/replicas/run.py [--records N] [--keep DIR]``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import sys
import tempfile
import uuid
from pathlib import Path

import psycopg
from psycopg import sql

from devkit.replicas import ReplicaProcess, replica_addresses, write_replica
from gateway.client import AsyncLiaisonClient, GatewayUnavailableError
from liaison.v1 import common_pb2, exchange_pb2, record_pb2

CENTRE = "WCO-I2C"
DEFAULT_DSN = "postgresql://postgres@127.0.0.1:5432/test"
IN_FLIGHT = 64
ROUND_ROBIN = (("grpc.lb_policy_name", "round_robin"),)
"""The client channel option that spreads calls over every address of the target."""


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dsn", default=os.environ.get("LIAISON_DEMO_DSN", DEFAULT_DSN))
    parser.add_argument("--records", type=int, default=3000, help="records the writer sends")
    parser.add_argument("--keep", type=Path, help="keep replica homes and the schema here")
    return parser.parse_args()


def traveller(number: int) -> record_pb2.Record:
    """A Person record; always the same for one number (so that a retry is a duplicate)."""
    record = record_pb2.Record(record_id=f"traveller-{number:06d}")
    record.person.names.add(
        type=common_pb2.NAME_TYPE_PRIMARY, family=f"TRAVELLER{number % 97}", given="ALEX"
    )
    record.person.birth_date.year = 1950 + number % 50
    record.person.sex = common_pb2.SEX_FEMALE
    record.person.nationalities.add(
        code="BEL", system=common_pb2.COUNTRY_CODE_SYSTEM_ISO3166_ALPHA3
    )
    return record


class Writer:
    """Submits ``total`` records, ``IN_FLIGHT`` at a time, each until it is acknowledged."""

    def __init__(self, client: AsyncLiaisonClient, total: int) -> None:
        self.client = client
        self.total = total
        self.acks: dict[str, exchange_pb2.SubmitAck] = {}
        self.failed_calls = 0
        self.third_acknowledged = asyncio.Event()
        self._next = 0

    async def run(self) -> None:
        await asyncio.gather(*(self._worker() for _ in range(IN_FLIGHT)))

    async def _worker(self) -> None:
        while self._next < self.total:
            number = self._next
            self._next += 1
            record = traveller(number)
            self.acks[record.record_id] = await self.submit(record)
            if len(self.acks) >= self.total // 3:
                self.third_acknowledged.set()

    async def submit(self, record: record_pb2.Record) -> exchange_pb2.SubmitAck:
        # The client retries UNAVAILABLE itself; a call that still fails (every retry went to the
        # dead replica before the channel noticed) is sent again here.
        while True:
            try:
                return await self.client.submit(record, timeout=30)
            except GatewayUnavailableError:
                self.failed_calls += 1
                await asyncio.sleep(0.1)


class Subscriber:
    """Follows the feed on one replica, then resumes on another after the last sequence seen."""

    def __init__(self) -> None:
        self.events: list[exchange_pb2.RecordEvent] = []
        self.last_sequence = 0
        self.wanted = sys.maxsize
        self.reached = asyncio.Event()
        """Set once the subscriber saw sequence :attr:`wanted`."""

    async def follow(self, target: str) -> None:
        """Until the replica goes away (then return) or the task is cancelled."""
        async with AsyncLiaisonClient(target) as client:
            try:
                stream = client.subscribe(after_sequence=self.last_sequence, resume_attempts=0)
                async for event in stream:
                    if event.HasField("record_event"):
                        self.events.append(event.record_event)
                        self.last_sequence = event.record_event.metadata.sequence
                        if self.last_sequence >= self.wanted:
                            self.reached.set()
            except GatewayUnavailableError:
                return


def _say(text: str) -> None:
    print(text, flush=True)


def _check(ok: bool, text: str, wrong: list[str]) -> None:
    if ok:
        _say(f"   ok     {text}")
    else:
        _say(f"   WRONG  {text}")
        wrong.append(text)


def _schema_exists(dsn: str, schema: str) -> bool:
    with psycopg.connect(dsn, connect_timeout=5) as connection:
        row = connection.execute(
            "SELECT count(*) FROM pg_namespace WHERE nspname = %s", (schema,)
        ).fetchone()
        return bool(row and row[0])


def _drop_schema(dsn: str, schema: str) -> None:
    with psycopg.connect(dsn, autocommit=True, connect_timeout=5) as connection:
        connection.execute(
            sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema))
        )


async def demo(dsn: str, home: Path, total: int, *, keep: bool) -> list[str]:
    wrong: list[str] = []
    schema = f"demo_replicas_{uuid.uuid4().hex[:8]}"
    configs = [write_replica(home / f"replica-{n}", CENTRE, dsn=dsn, schema=schema) for n in (1, 2)]
    _say(f"== 1. liaison migrate: the i2c's schema {schema!r}")
    # This interpreter running our own module, as an operator runs `liaison migrate`.
    migrate = await asyncio.create_subprocess_exec(
        *(sys.executable, "-m", "gateway.cli", "migrate", "--config", str(configs[0])),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await migrate.communicate()
    _say("   " + output.decode().strip())
    if migrate.returncode != 0:
        return ["liaison migrate failed"]

    replicas = [
        ReplicaProcess(f"replica-{n}", config) for n, config in zip((1, 2), configs, strict=True)
    ]
    try:
        for replica in replicas:
            replica.start(timeout=120)
            _say(f"   {replica.name} of {CENTRE} listening on {replica.address}")
        wrong += await _load_and_kill(replicas, total)
        return wrong
    finally:
        for replica in replicas:
            if replica.running:
                code = replica.terminate()
                _say(f"   {replica.name} stopped (SIGTERM), exited with {code}")
        if keep:
            _say(f"   schema {schema!r} kept, replica homes in {home}")
        elif _schema_exists(dsn, schema):
            _drop_schema(dsn, schema)
            _say(f"   schema {schema!r} dropped")


async def _load_and_kill(replicas: list[ReplicaProcess], total: int) -> list[str]:
    wrong: list[str] = []
    first, second = replicas
    subscriber = Subscriber()
    _say(f"== 2. a subscriber follows the feed on {first.name}")
    following = asyncio.ensure_future(subscriber.follow(first.address))

    target = replica_addresses(replicas)
    _say(f"== 3. a writer sends {total} records, {IN_FLIGHT} in flight, to {target} (round_robin)")
    async with AsyncLiaisonClient(target, options=ROUND_ROBIN) as client:
        writer = Writer(client, total)
        writing = asyncio.ensure_future(writer.run())
        await writer.third_acknowledged.wait()
        _say(f"== 4. {first.name} killed (SIGKILL) after {len(writer.acks)} acknowledgements")
        first.kill()
        await following
        _say(
            f"   the subscriber lost {first.name} after sequence {subscriber.last_sequence}; "
            f"it resumes on {second.name}"
        )
        following = asyncio.ensure_future(subscriber.follow(second.address))
        await writing
        _say(
            f"   the writer has {len(writer.acks)} acknowledgements; {writer.failed_calls} "
            "call(s) failed with the replica and were sent again"
        )
        subscriber.wanted = max(ack.sequence for ack in writer.acks.values())
        if subscriber.last_sequence >= subscriber.wanted:
            subscriber.reached.set()
        with contextlib.suppress(TimeoutError):  # the checks below say what is missing
            async with asyncio.timeout(60):
                await subscriber.reached.wait()
        following.cancel()

        _say("== 5. checks")
        acks = writer.acks
        _check(len(acks) == total, f"{total} records acknowledged ({len(acks)})", wrong)
        sequences = [event.metadata.sequence for event in subscriber.events]
        _check(
            sequences == list(range(1, len(sequences) + 1)),
            f"the subscriber saw sequences 1..{len(sequences)}, in order, none twice",
            wrong,
        )
        seen = {(e.record.record_id, e.record.version) for e in subscriber.events}
        missing = [r for r, ack in acks.items() if (r, ack.version) not in seen]
        _check(not missing, f"it saw every acknowledged record ({len(missing)} missing)", wrong)
        mismatched = 0
        async with AsyncLiaisonClient(second.address) as survivor:
            for record_id, ack in acks.items():
                got = await survivor.get(record_id)
                if (got.metadata.sequence, got.metadata.content_sha256) != (
                    ack.sequence,
                    ack.content_sha256,
                ):
                    mismatched += 1
        _check(mismatched == 0, f"{second.name} holds every record as acknowledged", wrong)
        again = await writer.submit(traveller(0))
        first_ack = acks[again.record_id]
        _check(
            again.duplicate and again.sequence == first_ack.sequence,
            f"{again.record_id} sent again: duplicate of sequence {first_ack.sequence}",
            wrong,
        )

    first.start(timeout=120)
    async with AsyncLiaisonClient(first.address) as restarted:
        got = await restarted.get(f"traveller-{total - 1:06d}")
    _check(
        got.metadata.sequence == acks[got.record.record_id].sequence,
        f"{first.name} started again on {first.address}: it reads the records written while it "
        "was down",
        wrong,
    )
    if not wrong:
        _say(
            f"   nothing lost, nothing duplicated: {len(acks)} acknowledged, "
            f"{len(subscriber.events)} delivered once each across the failover"
        )
    return wrong


def main() -> int:
    args = _arguments()
    try:
        psycopg.connect(args.dsn, connect_timeout=5).close()
    except psycopg.OperationalError as error:
        _say(f"no PostgreSQL server at {args.dsn}: {str(error).strip()}")
        _say("start one, or point --dsn / LIAISON_DEMO_DSN at one (user with CREATE on the db)")
        return 2
    if args.keep:
        args.keep.mkdir(parents=True, exist_ok=True)
        wrong = asyncio.run(demo(args.dsn, args.keep, args.records, keep=True))
    else:
        with tempfile.TemporaryDirectory(prefix="liaison-replicas-") as directory:
            wrong = asyncio.run(demo(args.dsn, Path(directory), args.records, keep=False))
    if wrong:
        _say(f"== Demo FAILED: {len(wrong)} check(s) wrong")
        return 1
    _say("== Demo passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
