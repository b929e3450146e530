-- Each scan of the log carries this device's sequence number: the server keeps the highest it stored, and a replica behind it is an older copy of the file (issue 14)
ALTER TABLE scans ADD COLUMN seq INTEGER;
-- The log so far, in the order it was written.
UPDATE scans SET seq = rowid;
CREATE UNIQUE INDEX IF NOT EXISTS scans_by_seq ON scans (seq);
