-- Schema version 1 of the embedded store.
--
-- Only the writer thread changes these tables. Versions are never updated or deleted: the
-- sequence is both the commit order and the Subscribe cursor, so it must stay stable forever.

-- Every stored version of every record. AUTOINCREMENT (not a plain rowid) guarantees that a
-- sequence number is never handed out twice, even after the newest rows are gone.
CREATE TABLE versions (
    sequence INTEGER PRIMARY KEY AUTOINCREMENT,
    record_id TEXT NOT NULL,
    version INTEGER NOT NULL,
    kind TEXT NOT NULL,
    originating_centre TEXT NOT NULL,
    committed_at_us INTEGER NOT NULL,
    content_sha256 BLOB NOT NULL,
    blob BLOB NOT NULL,
    UNIQUE (record_id, version)
);

-- Duplicate detection looks a content hash up among all versions of a record. UNIQUE because a
-- record never stores the same content twice; a bug that tried would fail its transaction.
CREATE UNIQUE INDEX versions_by_content ON versions (record_id, content_sha256);

-- The latest version of each record: what Get (without a version) and Search read. Rows are
-- small, so a WITHOUT ROWID table saves the separate primary-key b-tree on every upsert.
CREATE TABLE heads (
    record_id TEXT PRIMARY KEY,
    version INTEGER NOT NULL,
    sequence INTEGER NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    originating_centre TEXT NOT NULL,
    committed_at_us INTEGER NOT NULL
) WITHOUT ROWID;

-- Search pages are in sequence order; these let a filtered search walk its matches in order.
CREATE INDEX heads_by_kind ON heads (kind, sequence);
CREATE INDEX heads_by_centre ON heads (originating_centre, sequence);
CREATE INDEX heads_by_committed_at ON heads (committed_at_us);

-- Search keys of each record's LATEST version only; replaced whenever a new version is stored.
-- The primary key starts with record_id so that replacing a record's keys is one range delete.
CREATE TABLE document_keys (
    record_id TEXT NOT NULL,
    number TEXT NOT NULL,
    issuing_state TEXT NOT NULL,
    PRIMARY KEY (record_id, number, issuing_state)
) WITHOUT ROWID;

CREATE INDEX document_keys_by_number ON document_keys (number, issuing_state);

CREATE TABLE name_keys (
    record_id TEXT NOT NULL,
    family TEXT NOT NULL,
    birth_year INTEGER NOT NULL,
    birth_month INTEGER NOT NULL,
    birth_day INTEGER NOT NULL,
    PRIMARY KEY (record_id, family, birth_year, birth_month, birth_day)
) WITHOUT ROWID;

CREATE INDEX name_keys_by_family ON name_keys (family, birth_year);
