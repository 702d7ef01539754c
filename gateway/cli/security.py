"""``liaison certs`` and ``liaison audit verify | keygen | checkpoints``: the first three are
local commands that need no running gateway; ``checkpoints`` fetches what a peer keeps."""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

from gateway.audit.chain import ChainHead, VerifyReport
from gateway.audit.checkpoints import (
    CheckpointError,
    CheckpointFileError,
    anchor_of,
    checkpoints_document,
    describe,
    read_checkpoint_file,
    verify_checkpoint_with,
)
from gateway.audit.keys import AuditKeyError, create_key_file, read_key_file
from gateway.audit.log import AuditLogError, verify_file
from gateway.audit.postgresql_read import verify_database
from gateway.cli.commands import Commands
from gateway.cli.connection import connect
from gateway.cli.exits import EXIT_OK, EXIT_REFUSED, EXIT_USAGE
from gateway.config import ConfigError, load_config
from gateway.security.certs import CertificateAuthority
from gateway.signing import (
    SigningKeyError,
    SigningKeySpec,
    create_centre_signing_key,
    load_public_key,
)
from gateway.store import StoreError
from gateway.store.postgresql import resolve_dsn
from liaison.v1 import federation_pb2

__all__ = ["add_commands"]

_HEAD = re.compile(r"^(\d+):([0-9a-f]{64})$")


def add_commands(command: Commands) -> None:
    """Add ``certs`` and ``audit`` (with ``verify``, ``checkpoints`` and ``keygen``)."""
    certs = command(
        "certs",
        "create a development CA and certificates for centres and clients",
        client=False,
        exit_codes=False,
        description=(
            "Create (once) a development certificate authority in DIR and issue certificates: "
            "centres get server+client certificates naming urn:liaison:centre:<ID> and a new "
            "Ed25519 record-signing key in DIR/signing (with the TOML to list it), clients get "
            "client certificates naming urn:liaison:client:<NAME>. For demos and tests; "
            "production centres use their own PKI with the same names."
        ),
    )
    certs.add_argument("directory", type=Path, metavar="DIR", help="where the CA and files go")
    certs.add_argument("--centre", action="append", default=[], metavar="ID", help="repeatable")
    certs.add_argument("--client", action="append", default=[], metavar="NAME", help="repeatable")
    certs.add_argument(
        "--host",
        action="append",
        default=[],
        metavar="NAME",
        help="extra DNS name or IP for centre certificates (default: localhost, 127.0.0.1, ::1)",
    )
    certs.set_defaults(run=_certs)

    audit = command("audit", "work with a centre's audit log", client=False, exit_codes=False)
    audit_commands = audit.add_subparsers(title="audit commands", metavar="COMMAND", required=True)
    verify = audit_commands.add_parser(
        "verify",
        help="check the audit log's hash chain (and that it reaches peers' checkpoints)",
        description=(
            "Verify the audit log's hash chain, entry by entry (each must be in canonical form), "
            "and that the log reaches every checkpoint given with the hash the checkpoint "
            "records: exit 0 when intact (and print its head), 1 at the first edited, deleted, "
            "reordered or malformed entry or when entries were cut off the end, 2 when a file "
            "cannot be read or a checkpoint does not verify under the given keys."
        ),
    )
    verify.add_argument(
        "path",
        type=Path,
        nargs="?",
        metavar="PATH",
        help="the audit log file (omit with --config for a centre on PostgreSQL)",
    )
    verify.add_argument(
        "--config",
        type=Path,
        metavar="PATH",
        help="centre TOML file whose [storage] is PostgreSQL: verify the chain its replicas "
        "share in the database",
    )
    verify.add_argument(
        "--checkpoint",
        type=Path,
        action="append",
        default=[],
        metavar="FILE",
        help="checkpoints of this log kept by a peer (`liaison audit checkpoints`); repeatable",
    )
    verify.add_argument(
        "--keys",
        type=Path,
        nargs="+",
        action="extend",
        default=[],
        metavar="PEM",
        help="the centre's public signing key(s) ([[signing.keys]] public_key) that sign its "
        "checkpoints",
    )
    verify.add_argument(
        "--expect-head",
        metavar="SEQUENCE:HASH",
        help="a head printed by an earlier verify: the log must still reach it",
    )
    verify.add_argument(
        "--key-file",
        type=Path,
        metavar="FILE",
        help="the log's key ([audit] key_file), to verify a keyed log",
    )
    verify.set_defaults(run=_audit_verify)
    checkpoints = audit_commands.add_parser(
        "checkpoints",
        help="fetch the audit checkpoints a gateway keeps for a centre, as a checkpoint file",
        description=(
            "Ask a gateway (usually a peer's: it keeps this centre's checkpoints) for the audit "
            "checkpoints it keeps (FederationAdmin.ListCheckpoints) and write them as JSON, "
            "for `liaison audit verify --checkpoint`. TLS options go before `audit`."
        ),
    )
    checkpoints.add_argument(
        "--gateway",
        dest="target",
        default=argparse.SUPPRESS,
        metavar="HOST:PORT",
        help="the gateway to ask (default: --target)",
    )
    checkpoints.add_argument("--centre", default="", metavar="ID", help="only this centre's")
    checkpoints.add_argument(
        "--limit", type=int, default=0, metavar="N", help="at most N per centre (default 100)"
    )
    checkpoints.add_argument(
        "--output", "-o", type=Path, metavar="FILE", help="write here (default: standard output)"
    )
    checkpoints.set_defaults(run=_audit_checkpoints)
    keygen = audit_commands.add_parser(
        "keygen",
        help="create a key file for a keyed (HMAC-SHA256) audit log",
        description=(
            "Write 32 random bytes, as hex, to a new file readable by its owner only; name it in "
            "the centre's [audit] key_file. An existing file is never overwritten."
        ),
    )
    keygen.add_argument("path", type=Path, metavar="FILE", help="the key file to create")
    keygen.set_defaults(run=_audit_keygen)


def _certs(args: argparse.Namespace) -> int:
    directory: Path = args.directory
    if not args.centre and not args.client:
        print("liaison certs: name at least one --centre or --client", file=sys.stderr)
        return EXIT_USAGE
    try:
        if (directory / "ca.pem").exists():
            authority = CertificateAuthority.load(directory)
        else:
            authority = CertificateAuthority.create(directory)
            print(f"created CA {authority.certificate_path}")
        hosts = ("localhost", "127.0.0.1", "::1", *args.host)
        for centre in args.centre:
            issued = authority.issue_centre(centre, hosts=hosts)
            print(f"centre {centre}: {issued.certificate} {issued.private_key}")
            spec, private = create_centre_signing_key(directory / "signing", centre)
            print(f"centre {centre} signing key {spec.key_id}: {private} {spec.public_key}")
            print(_signing_toml(spec, private))
        for client in args.client:
            issued = authority.issue_client(client)
            print(f"client {client}: {issued.certificate} {issued.private_key}")
    except (OSError, ValueError, SigningKeyError) as error:
        print(f"liaison certs: {error}", file=sys.stderr)
        return EXIT_USAGE
    return EXIT_OK


def _signing_toml(spec: SigningKeySpec, private: Path) -> str:
    """What the centre's own file and its peers' files list for the new key."""
    validity = (
        f'public_key = "{spec.public_key}"\n'
        f"not_before = {spec.not_before.strftime('%Y-%m-%dT%H:%M:%SZ')}\n"
        f"not_after = {spec.not_after.strftime('%Y-%m-%dT%H:%M:%SZ')}"
    )
    return (
        "  # in the centre's own file:\n"
        f'  [signing]\n  key_id = "{spec.key_id}"\n  private_key = "{private}"\n'
        f'  [[signing.keys]]\n  id = "{spec.key_id}"\n  '
        + validity.replace("\n", "\n  ")
        + "\n  # in each peer's file, under that centre's [[peers]] entry:\n"
        f'  [[peers.signing_keys]]\n  id = "{spec.key_id}"\n  ' + validity.replace("\n", "\n  ")
    )


def _audit_verify(args: argparse.Namespace) -> int:
    expect: ChainHead | None = None
    if args.expect_head:
        match = _HEAD.fullmatch(args.expect_head)
        if match is None:
            return _usage("--expect-head must be SEQUENCE:HASH")
        expect = ChainHead(int(match.group(1)), match.group(2))
    if args.checkpoint and not args.keys:
        return _usage(
            "--checkpoint needs --keys: the public signing key(s) of the centre whose log this is"
        )
    try:
        key = read_key_file(args.key_file) if args.key_file is not None else None
        checkpoints = [found for path in args.checkpoint for found in read_checkpoint_file(path)]
        public_keys = [load_public_key(path) for path in args.keys]
    except (AuditKeyError, CheckpointFileError, SigningKeyError) as error:
        return _usage(str(error))
    centres = sorted({checkpoint.centre for checkpoint in checkpoints})
    if len(centres) > 1:
        return _usage(
            f"the checkpoints are of several centres ({', '.join(centres)}): give only those of "
            "the centre whose log this is"
        )
    for checkpoint in checkpoints:
        try:
            verify_checkpoint_with(checkpoint, public_keys)
        except CheckpointError as error:
            return _usage(f"{describe(checkpoint)} ({checkpoint.entries} entries): {error}")
    anchors = [anchor_of(c) for c in checkpoints]
    try:
        if args.path is not None:
            report = verify_file(args.path, expect_head=expect, key=key, anchors=anchors)
        else:
            dsn, schema = _database_of(args.config)
            args.path = f"PostgreSQL schema {schema}"
            report = verify_database(dsn, schema, expect_head=expect, key=key, anchors=anchors)
    except (AuditLogError, ConfigError, StoreError) as error:
        return _usage(str(error))
    return _print_report(args, report, checkpoints, anchored=bool(checkpoints or expect))


def _database_of(config: Path | None) -> tuple[str, str]:
    """The DSN and schema of the centre ``config`` describes, which must be on PostgreSQL.

    Raises:
        ConfigError: no file given, or it is not a PostgreSQL centre.
        StoreError: its DSN cannot be resolved.
    """
    if config is None:
        raise ConfigError("give the audit log file, or --config for a centre on PostgreSQL")
    storage = load_config(config).storage
    if storage.backend != "postgresql":
        raise ConfigError(
            f"{config}: [storage] backend is {storage.backend!r}: give the audit log file"
        )
    return resolve_dsn(storage), storage.schema


def _print_report(
    args: argparse.Namespace,
    report: VerifyReport,
    checkpoints: list[federation_pb2.AuditCheckpoint],
    *,
    anchored: bool,
) -> int:
    if report.first_break is None:
        head = report.head
        keyed = ", every MAC checked with the key" if args.key_file is not None else ""
        reached = ""
        if checkpoints:
            furthest = max(checkpoints, key=lambda c: c.entries)
            reached = (
                f", reaches {len(checkpoints)} checkpoint(s) (furthest: {describe(furthest)}, "
                f"{furthest.entries} entries)"
            )
        print(
            f"{args.path}: {report.checked} entries, chain intact{keyed}{reached}; "
            f"head {head.sequence}:{head.hash}"
        )
        if not anchored:
            print(
                "liaison audit verify: note: without --checkpoint (or --expect-head), entries "
                "cut off the end cannot be detected",
                file=sys.stderr,
            )
        return EXIT_OK
    broken = report.first_break
    claimed = "" if broken.sequence is None else f" (sequence {broken.sequence})"
    print(
        f"{args.path}: chain broken at entry {broken.position}{claimed}: {broken.reason}; "
        f"the {report.head.sequence} entries before it are intact"
    )
    return EXIT_REFUSED


def _usage(message: str) -> int:
    print(f"liaison audit verify: {message}", file=sys.stderr)
    return EXIT_USAGE


def _audit_checkpoints(args: argparse.Namespace) -> int:
    if args.limit < 0:
        print("liaison audit checkpoints: --limit must not be negative", file=sys.stderr)
        return EXIT_USAGE
    with connect(args) as connection:
        found = connection.checkpoints(centre=args.centre, limit=args.limit, timeout=args.timeout)
    document = checkpoints_document(found)
    if args.output is None:
        sys.stdout.write(document)
    else:
        try:
            args.output.write_text(document, encoding="utf-8")
        except OSError as error:
            print(
                f"liaison audit checkpoints: cannot write {args.output}: {error.strerror or error}",
                file=sys.stderr,
            )
            return EXIT_USAGE
    whose = f" of {args.centre}" if args.centre else ""
    where = f" to {args.output}" if args.output is not None else ""
    print(f"{len(found)} checkpoint(s){whose} from {args.target}{where}", file=sys.stderr)
    return EXIT_OK


def _audit_keygen(args: argparse.Namespace) -> int:
    try:
        create_key_file(args.path)
    except AuditKeyError as error:
        print(f"liaison audit keygen: {error}", file=sys.stderr)
        return EXIT_USAGE
    print(f"created audit key {args.path} (mode 0600); name it in [audit] key_file")
    return EXIT_OK
