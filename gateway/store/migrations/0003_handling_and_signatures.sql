-- Schema version 3: each version's handling, as need-to-know and routing read it without
-- parsing the record, and the originating centre's signature of each version.
--
-- Existing versions get their handling from their own blobs (the liaison_* functions are
-- registered by the store on the connection that migrates) and no signature: versions stored
-- before signing existed stay unsigned, and are not forwarded to peers (who verify).

ALTER TABLE versions ADD COLUMN handling_code INTEGER NOT NULL DEFAULT 0;
ALTER TABLE versions ADD COLUMN releasable_to TEXT NOT NULL DEFAULT '';
ALTER TABLE versions ADD COLUMN signature BLOB NOT NULL DEFAULT x'';

UPDATE versions
SET handling_code = liaison_handling_code(blob), releasable_to = liaison_releasable_to(blob);
