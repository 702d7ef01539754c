-- Schema version 2: the payloads stored by Ingest, so that ingesting one again stores nothing.
--
-- An ingestion is written in the same transaction as its records: either both exist or neither.
-- Like versions, ingestions are never updated or deleted.

-- One row per (adapter, payload) ever ingested. The payload itself is not kept: its hash is the
-- idempotency key, and the records decoded from it are in `versions`.
CREATE TABLE ingestions (
    id INTEGER PRIMARY KEY,
    adapter TEXT NOT NULL,
    payload_sha256 BLOB NOT NULL,
    ingested_at_us INTEGER NOT NULL,
    UNIQUE (adapter, payload_sha256)
);

-- The acknowledgement of each record of an ingestion, in decode order: the stored version it
-- resolved to (new, or a duplicate of a version stored before). Everything else an ack carries
-- (record id, version, commit time, content hash) is read from that version.
CREATE TABLE ingestion_acks (
    ingestion_id INTEGER NOT NULL REFERENCES ingestions (id),
    position INTEGER NOT NULL,
    sequence INTEGER NOT NULL REFERENCES versions (sequence),
    PRIMARY KEY (ingestion_id, position)
) WITHOUT ROWID;
