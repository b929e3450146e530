-- The gate's replica as release 0.1.0 shipped it (replica schema 1). FROZEN: gates in the field
-- hold files made from exactly this; change the schema with a new step (replica_migrations).
-- Every replicated table carries `seq`, the server change that wrote it.
-- Ids of rights, holders and keys are raw bytes (BLOB); times are Unix seconds unless named _ms.
CREATE TABLE IF NOT EXISTS meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) STRICT;

CREATE TABLE IF NOT EXISTS events (
    code      TEXT PRIMARY KEY,
    name      TEXT NOT NULL,
    starts_at INTEGER,
    ends_at   INTEGER,
    venue     TEXT,
    seq       INTEGER NOT NULL
) STRICT;

CREATE TABLE IF NOT EXISTS zones (
    code     TEXT PRIMARY KEY,
    name     TEXT NOT NULL,
    parent   TEXT,
    capacity INTEGER,
    seq      INTEGER NOT NULL
) STRICT;

CREATE TABLE IF NOT EXISTS gates (
    name        TEXT PRIMARY KEY,
    zones       TEXT NOT NULL,          -- JSON list of zone codes
    event_codes TEXT NOT NULL,          -- JSON list of event codes
    direction   TEXT NOT NULL CHECK (direction IN ('in', 'out')),
    enabled     INTEGER NOT NULL,
    grace_s     INTEGER NOT NULL,
    seq         INTEGER NOT NULL
) STRICT;

CREATE TABLE IF NOT EXISTS rights (
    right_id     BLOB PRIMARY KEY,
    event        TEXT NOT NULL,
    zones        TEXT NOT NULL,         -- JSON list of zone codes
    not_before   INTEGER NOT NULL,
    expires      INTEGER NOT NULL,
    policy       INTEGER NOT NULL,
    kind         INTEGER NOT NULL,
    holder       BLOB,
    seat         TEXT,
    display_name TEXT,
    secret       TEXT,
    seq          INTEGER NOT NULL
) STRICT, WITHOUT ROWID;
-- Plain secrets (codes from another ticketing system) are looked up on every such scan.
CREATE UNIQUE INDEX IF NOT EXISTS rights_by_secret ON rights (secret) WHERE secret IS NOT NULL;
CREATE INDEX IF NOT EXISTS rights_by_holder ON rights (holder) WHERE holder IS NOT NULL;

CREATE TABLE IF NOT EXISTS revocations (
    right_id   BLOB PRIMARY KEY,
    revoked_at INTEGER NOT NULL,
    reason     TEXT NOT NULL,
    seq        INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS blacklist (
    ban_id      TEXT PRIMARY KEY,
    scope       TEXT NOT NULL CHECK (scope IN ('right', 'holder')),
    subject     BLOB NOT NULL,
    reason      TEXT NOT NULL,
    severity    INTEGER NOT NULL,
    valid_from  INTEGER,
    valid_until INTEGER,
    seq         INTEGER NOT NULL
) STRICT;
CREATE INDEX IF NOT EXISTS blacklist_by_subject ON blacklist (scope, subject);

CREATE TABLE IF NOT EXISTS keys (
    kid        BLOB PRIMARY KEY,
    public_key BLOB NOT NULL,
    seq        INTEGER NOT NULL
) STRICT;

CREATE TABLE IF NOT EXISTS usage (
    right_id     BLOB PRIMARY KEY,
    entries      INTEGER NOT NULL,
    inside       INTEGER NOT NULL,
    zone         TEXT,
    last_scan_at INTEGER,
    seq          INTEGER NOT NULL       -- 0 while only this gate knows it
) STRICT, WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS occupancy (
    zone  TEXT PRIMARY KEY,
    count INTEGER NOT NULL
) STRICT;

-- The scan log: written, durably, before the turnstile moves; uploaded later by the sync loop.
CREATE TABLE IF NOT EXISTS scans (
    scan_id       TEXT PRIMARY KEY,     -- client-made UUID: uploads are idempotent by it
    scanned_at_ms INTEGER NOT NULL,
    gate          TEXT NOT NULL,
    direction     TEXT NOT NULL,
    reason        TEXT NOT NULL,
    right_id      BLOB,
    event         TEXT,
    zone          TEXT,
    code_kind     TEXT NOT NULL,
    latency_ms    REAL,
    operator      TEXT,
    detail        TEXT NOT NULL,
    annuls        TEXT,                 -- the scan this record cancels (nobody passed)
    usage_before  TEXT,                 -- JSON: the right's usage before this scan, to annul it
    uploaded      INTEGER NOT NULL DEFAULT 0
) STRICT;
CREATE INDEX IF NOT EXISTS scans_to_upload ON scans (scanned_at_ms) WHERE uploaded = 0;
CREATE INDEX IF NOT EXISTS scans_by_time ON scans (scanned_at_ms);
