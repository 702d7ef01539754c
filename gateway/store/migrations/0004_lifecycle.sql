-- Schema version 4: each record's retention dates (decision 0016). Lifecycle metadata, not
-- content: kept per record, moved by extensions without a new version, removed with the
-- record's withdrawal. Records stored before this version have no row: they never expire
-- until their originating centre gives them dates.

CREATE TABLE lifecycle (
    record_id TEXT PRIMARY KEY,
    review_due_us INTEGER NOT NULL,
    expires_at_us INTEGER NOT NULL
) WITHOUT ROWID;

CREATE INDEX lifecycle_by_review ON lifecycle (review_due_us) WHERE review_due_us > 0;
CREATE INDEX lifecycle_by_expiry ON lifecycle (expires_at_us) WHERE expires_at_us > 0;
