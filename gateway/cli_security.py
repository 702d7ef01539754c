"""``liaison certs`` and ``liaison audit verify | keygen``: local commands that need no running
gateway."""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

from gateway.audit.chain import ChainHead
from gateway.audit.keys import AuditKeyError, create_key_file, read_key_file
from gateway.audit.log import AuditLogError, verify_file
from gateway.security.certs import CertificateAuthority
from gateway.security.signing import SigningKeyError, SigningKeySpec, create_centre_signing_key

__all__ = ["add_security_commands"]

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
_HEAD = re.compile(r"^(\d+):([0-9a-f]{64})$")


def add_security_commands(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Register the commands on the ``liaison`` parser's subcommands."""
    certs = commands.add_parser(
        "certs",
        help="create a development CA and certificates for centres and clients",
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

    audit = commands.add_parser("audit", help="work with a centre's audit log")
    audit_commands = audit.add_subparsers(title="audit commands", metavar="COMMAND", required=True)
    verify = audit_commands.add_parser(
        "verify",
        help="check the audit log's hash chain; report the first bad entry",
        description=(
            "Verify the audit log's hash chain: exit 0 when intact (and print its head, to be "
            "kept elsewhere), 1 at the first edited, deleted or reordered entry, 2 when the file "
            "cannot be read."
        ),
    )
    verify.add_argument("path", type=Path, metavar="PATH", help="the audit log file")
    verify.add_argument(
        "--expect-head",
        metavar="SEQUENCE:HASH",
        help="a head printed by an earlier verify: also detects entries cut off the end",
    )
    verify.add_argument(
        "--key-file",
        type=Path,
        metavar="FILE",
        help="the log's key ([audit] key_file), to verify a keyed log",
    )
    verify.set_defaults(run=_audit_verify)
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
            print("liaison audit verify: --expect-head must be SEQUENCE:HASH", file=sys.stderr)
            return EXIT_USAGE
        expect = ChainHead(int(match.group(1)), match.group(2))
    try:
        key = read_key_file(args.key_file) if args.key_file is not None else None
        report = verify_file(args.path, expect_head=expect, key=key)
    except (AuditLogError, AuditKeyError) as error:
        print(f"liaison audit verify: {error}", file=sys.stderr)
        return EXIT_USAGE
    if report.first_break is None:
        head = report.head
        keyed = ", every MAC checked with the key" if args.key_file is not None else ""
        print(
            f"{args.path}: {report.checked} entries, chain intact{keyed}; "
            f"head {head.sequence}:{head.hash}"
        )
        return EXIT_OK
    broken = report.first_break
    claimed = "" if broken.sequence is None else f" (sequence {broken.sequence})"
    print(
        f"{args.path}: chain broken at entry {broken.position}{claimed}: {broken.reason}; "
        f"the {report.head.sequence} entries before it are intact"
    )
    return EXIT_FAILED


def _audit_keygen(args: argparse.Namespace) -> int:
    try:
        create_key_file(args.path)
    except AuditKeyError as error:
        print(f"liaison audit keygen: {error}", file=sys.stderr)
        return EXIT_USAGE
    print(f"created audit key {args.path} (mode 0600); name it in [audit] key_file")
    return EXIT_OK
