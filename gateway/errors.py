"""The one error tree of Liaison, and the gateway's refusals.

Every exception class in Liaison descends from :class:`~liaison.rules.errors.LiaisonError`
(``tests/test_error_tree.py`` walks the packages and fails on a class outside this tree or
missing from this drawing). :data:`gateway.services.statuses.STATUS_CODES` is the one table that
gives the refusals their gRPC status; a class inherits its nearest listed ancestor's, anything
else is INTERNAL with a generic message. This module is pure (no gRPC), so that every layer can
raise these::

    LiaisonError (liaison.rules.errors)     the root of every Liaison exception
    ├── InvalidArgumentError (rules)        INVALID_ARGUMENT, google.rpc.BadRequest field violations
    │   └── ScreeningInputError (screening.records)  screened records that cannot be joined
    ├── ForeignRecordError (rules)          PERMISSION_DENIED, google.rpc.ErrorInfo: a record of
    │                                       another centre, submitted as this centre's own
    ├── SetupError (rules)                  a configuration, key, certificate or policy is unusable
    │   ├── ConfigError (config)            the centre file
    │   ├── SettingsError (federation.settings)  its federation and security tables
    │   ├── ScreeningSettingsError (screening.settings)  its [screening] table
    │   ├── LifecycleSettingsError (lifecycle.settings)  its [lifecycle] table
    │   ├── TelemetryConfigError (telemetry.settings)  an OTEL_* variable
    │   ├── PolicyError (security.policy)   grants that contradict each other
    │   ├── TlsError (security.tls)         certificates and keys of the listener
    │   ├── PlaintextRefusedError (security.tls)  plaintext asked for beyond loopback
    │   ├── SigningKeyError (signing)       a signing key file
    │   ├── AuditKeyError (audit.keys)      the audit log's key file
    │   └── CheckpointStartError (federation.checkpoints)  the audit log no longer reaches the
    │                                       centre's own last checkpoint
    ├── GatewayError                        a refusal the gateway explains to its caller
    │   ├── NotFoundError                   NOT_FOUND (also for a record the caller may not read)
    │   ├── PermissionDeniedError           PERMISSION_DENIED: the caller may not do this
    │   │   ├── CheckpointRefusedError (federation.checkpoints)  a deposit it may not make
    │   │   └── OriginConflictError (store.transaction)  an ingested record of another centre
    │   ├── ConflictError                   ABORTED: a version precondition no longer holds
    │   ├── FailedPreconditionError         FAILED_PRECONDITION: not possible as set up
    │   │   └── RecordWithdrawnError (store.transaction)  an ingested record that was withdrawn
    │   ├── DeadlineExceededError           DEADLINE_EXCEEDED: the caller's deadline passed first
    │   ├── LimitExceededError              RESOURCE_EXHAUSTED: a configured input limit
    │   ├── UnimplementedError              UNIMPLEMENTED: a protocol feature the gateway does
    │   │                                   not offer (a message compression over gRPC-Web)
    │   ├── UnavailableError                UNAVAILABLE: retry; nothing of the request was kept
    │   │   ├── PreparationFailedError (store.preparation_pool)  a preparation worker ended
    │   │   ├── ScreeningWorkerError (services.screening_worker)  the screening worker process
    │   │   │                                   ended, or its index is being rebuilt
    │   │   └── PeerUnavailableError (federation.forwarder)  a peer did not answer
    │   ├── UnauditedError                  UNAVAILABLE: done (the records are stored) but not
    │   │                                   audited; the retry gets the original acknowledgement
    │   └── InternalError                   INTERNAL: a defect (an adapter that raised), logged
    │                                       where it happened; the message says whose
    ├── StoreError (store.base)             UNAVAILABLE, with a generic message: the store could
    │   └── StoreClosedError (store.base)   not complete; nothing of the transaction was kept
    ├── AuditError                          the audit log or its checkpoints
    │   ├── AuditLogError (audit.log)       cannot be opened or written: audited actions fail
    │   ├── EntryFormatError (audit.entry)  a stored entry is not in canonical form
    │   │   └── _DuplicateKeyError (audit.entry)
    │   ├── CheckpointError (audit.checkpoints)  malformed, or its signature does not verify
    │   ├── CheckpointFileError (audit.checkpoints)  a checkpoint file cannot be read
    │   └── CheckpointBookError (audit.checkpoint_book)  the checkpoint table
    ├── SignatureError (signing)            a record or statement signature does not verify
    ├── IdentityError (security.identity)   a certificate or text names no valid identity
    ├── ServeError (server)                 the gateway could not start
    ├── EncodeNotSupportedError (adapters.base)  the adapter's format cannot be written
    ├── UnknownAdapterError (adapters.registry)  no adapter has the requested name
    ├── ClientError (client)                a call from the Python client failed
    │   ├── InvalidRecordError              INVALID_ARGUMENT
    │   ├── RecordNotFoundError             NOT_FOUND
    │   ├── VersionConflictError            ABORTED
    │   ├── StreamLimitError                RESOURCE_EXHAUSTED
    │   └── GatewayUnavailableError         UNAVAILABLE, or no connection
    │       └── HandshakeError              the TLS handshake failed, and why
    │           ├── ClientCertificateRequiredError
    │           ├── ClientCertificateRefusedError
    │           ├── GatewayCertificateUntrustedError
    │           ├── WrongCentreError
    │           └── PlaintextGatewayError
    ├── UsageError (cli.exits)              what the user asked for (exit code 2)
    ├── RefusedError (cli.exits)            what the command cannot do (exit code 1)
    └── RecordFileError (cli.jsonio)        a record file that cannot be read as records
        └── _DuplicateKeyError (cli.jsonio)

    DecodeStopped (adapters.collector)      not an error: the signal that ends a decode at its
                                            error limit. A BaseException, like GeneratorExit, so
                                            that an adapter's ``except Exception`` lets it pass.

Messages never carry record content: ids, field paths and limits only, because statuses end up in
client logs and traces, where personal data must not go.
"""

from __future__ import annotations

from liaison.rules.errors import (
    FieldViolation,
    ForeignRecordError,
    InvalidArgumentError,
    LiaisonError,
    SetupError,
)

__all__ = [
    "AuditError",
    "ConflictError",
    "DeadlineExceededError",
    "FailedPreconditionError",
    "FieldViolation",
    "ForeignRecordError",
    "GatewayError",
    "InternalError",
    "InvalidArgumentError",
    "LiaisonError",
    "LimitExceededError",
    "NotFoundError",
    "PermissionDeniedError",
    "SetupError",
    "UnauditedError",
    "UnavailableError",
    "UnimplementedError",
]


class GatewayError(LiaisonError):
    """A refusal with a message safe to show to the caller; its status is in STATUS_CODES."""


class NotFoundError(GatewayError):
    """The record (or version) does not exist, or the caller may not know that it does."""


class PermissionDeniedError(GatewayError):
    """The caller may not do this, whatever the request says."""


class ConflictError(GatewayError):
    """The submitter's expected version is no longer the latest."""


class FailedPreconditionError(GatewayError):
    """The request is well formed but cannot be served as the gateway is set up; retrying the
    same request will not help."""


class DeadlineExceededError(GatewayError):
    """The caller's deadline passed before the gateway could finish; nothing was kept."""


class LimitExceededError(GatewayError):
    """A configured input limit was exceeded."""


class UnimplementedError(GatewayError):
    """The request asks for a protocol feature the gateway does not offer (a message compressed
    with an encoding it did not agree to); the same request without it is served."""


class InternalError(GatewayError):
    """A defect on the gateway's side (an adapter that raised instead of reporting); it was
    logged where it happened, and the message names whose defect it is, never the data."""


class UnavailableError(GatewayError):
    """The gateway could not do it now (the store could not commit, a worker ended); nothing of
    the request was kept, and retrying may succeed."""


class UnauditedError(GatewayError):
    """The request was carried out - its records are stored - but its audit entry could not be
    written. An action that is not audited must not be reported as done, and must not be
    reported as failed either (it was not): the caller retries, and the retry - recognised as a
    duplicate - is answered with the original acknowledgement and audited."""


class AuditError(LiaisonError):
    """The audit log, one of its entries or checkpoints is unusable."""
