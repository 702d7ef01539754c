-- Schema version 2: what the replicas of one centre share besides the records - the outbox (the
-- delivery state and recipient ledger of forwarding) and the audit chain (decision 0024).
--
-- The outbox's tables mirror the SQLite outbox file; a due delivery is additionally *leased* by
-- the replica that sends it (lease_owner, lease_until: seconds since the epoch, on the clock
-- the replicas share), so that no other replica sends it meanwhile, and another takes it over
-- once the lease runs out (the sender was killed).

CREATE TABLE outbox_cursor (
    one boolean PRIMARY KEY DEFAULT true CHECK (one),
    routed_through bigint NOT NULL
);
INSERT INTO outbox_cursor (one, routed_through) VALUES (true, 0);

CREATE TABLE deliveries (
    peer text NOT NULL,
    record_id text NOT NULL,
    version bigint NOT NULL,
    sequence bigint NOT NULL,
    state integer NOT NULL,
    attempts integer NOT NULL DEFAULT 0,
    last_error text NOT NULL DEFAULT '',
    receiver_ack bytea,
    reason text NOT NULL DEFAULT '',
    trace_context text NOT NULL DEFAULT '',
    queued_at double precision NOT NULL,
    updated_at double precision NOT NULL,
    next_attempt_at double precision NOT NULL,
    lease_owner text NOT NULL DEFAULT '',
    lease_until double precision NOT NULL DEFAULT 0,
    PRIMARY KEY (peer, record_id, version)
);
CREATE INDEX deliveries_due ON deliveries (peer, state, next_attempt_at, sequence);
CREATE INDEX deliveries_record ON deliveries (record_id);
CREATE INDEX deliveries_sequence ON deliveries (sequence);

CREATE TABLE outbox_audit_pending (
    id bigserial PRIMARY KEY,
    action text NOT NULL,
    outcome text NOT NULL,
    record_ids text NOT NULL,
    detail text NOT NULL,
    noted_at double precision NOT NULL,
    -- The replica writing the note to the audit log (database clock), as for deliveries.
    lease_owner text NOT NULL DEFAULT '',
    lease_until double precision NOT NULL DEFAULT 0
);

-- One keyed hash chain per centre, whichever replica appends: appenders take an advisory lock
-- (liaison-audit:<schema>) for their transaction, read the last entry, chain onto it and insert.
-- position is the entry's sequence; entry its canonical JSON exactly as hashed.
CREATE TABLE audit (
    position bigint PRIMARY KEY,
    entry text NOT NULL
);
