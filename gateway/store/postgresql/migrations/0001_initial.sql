-- Schema version 1 of the PostgreSQL store: what SQLite's versions 1-4 hold, in one step.
--
-- Versions are never updated or deleted: the sequence is the commit order and the Subscribe
-- cursor. Writers number versions while holding the feed lock (decision 0019), so sequences are
-- dense and committed in order; the unique constraints below are what makes two replicas unable
-- to store the same (record, version) or the same content twice, whatever a bug decides.

CREATE TABLE versions (
    sequence bigint PRIMARY KEY,
    record_id text NOT NULL,
    version bigint NOT NULL,
    kind text NOT NULL,
    originating_centre text NOT NULL,
    committed_at_us bigint NOT NULL,
    content_sha256 bytea NOT NULL,
    blob bytea NOT NULL,
    handling_code integer NOT NULL,
    releasable_to text NOT NULL,
    signature bytea NOT NULL,
    -- The transaction that committed the version, for operators tracing a commit.
    xid xid8 NOT NULL DEFAULT pg_current_xact_id(),
    CONSTRAINT versions_record_version UNIQUE (record_id, version)
);

CREATE UNIQUE INDEX versions_by_content ON versions (record_id, content_sha256);

-- The latest version of each record: what Get (without a version) and Search read.
CREATE TABLE heads (
    record_id text PRIMARY KEY,
    version bigint NOT NULL,
    sequence bigint NOT NULL UNIQUE,
    kind text NOT NULL,
    originating_centre text NOT NULL,
    committed_at_us bigint NOT NULL
);

CREATE INDEX heads_by_kind ON heads (kind, sequence);
CREATE INDEX heads_by_centre ON heads (originating_centre, sequence);
CREATE INDEX heads_by_committed_at ON heads (committed_at_us);

-- Search keys of each record's latest version only.
CREATE TABLE document_keys (
    record_id text NOT NULL,
    number text NOT NULL,
    issuing_state text NOT NULL,
    PRIMARY KEY (record_id, number, issuing_state)
);

CREATE INDEX document_keys_by_number ON document_keys (number, issuing_state);

CREATE TABLE name_keys (
    record_id text NOT NULL,
    family text NOT NULL,
    birth_year integer NOT NULL,
    birth_month integer NOT NULL,
    birth_day integer NOT NULL,
    PRIMARY KEY (record_id, family, birth_year, birth_month, birth_day)
);

CREATE INDEX name_keys_by_family ON name_keys (family, birth_year);

-- The payloads stored by Ingest: ingesting one again stores nothing.
CREATE TABLE ingestions (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    adapter text NOT NULL,
    payload_sha256 bytea NOT NULL,
    ingested_at_us bigint NOT NULL,
    UNIQUE (adapter, payload_sha256)
);

CREATE TABLE ingestion_acks (
    ingestion_id bigint NOT NULL REFERENCES ingestions (id),
    position integer NOT NULL,
    sequence bigint NOT NULL REFERENCES versions (sequence),
    PRIMARY KEY (ingestion_id, position)
);

-- Each record's retention dates (decision 0016).
CREATE TABLE lifecycle (
    record_id text PRIMARY KEY,
    review_due_us bigint NOT NULL,
    expires_at_us bigint NOT NULL
);

CREATE INDEX lifecycle_by_review ON lifecycle (review_due_us) WHERE review_due_us > 0;
CREATE INDEX lifecycle_by_expiry ON lifecycle (expires_at_us) WHERE expires_at_us > 0;
