-- Venue layouts and staff PINs (protocol 3): each layout's zone tree, access points and events, as the server sends them, the replica's protocol-2 zones and gate zones becoming one provisional layout until the server's arrive; the staff's personal kiosk PINs
CREATE TABLE IF NOT EXISTS layouts (
    code   TEXT PRIMARY KEY,
    name   TEXT NOT NULL,
    zones  TEXT NOT NULL,   -- JSON list of zones: code, name, parent, capacity
    access TEXT NOT NULL,   -- JSON object: gate name -> list of zone codes
    events TEXT NOT NULL,   -- JSON list of event codes
    seq    INTEGER NOT NULL
) STRICT;
CREATE TABLE IF NOT EXISTS staff (
    name     TEXT PRIMARY KEY,
    role     TEXT NOT NULL,
    pin_hash TEXT NOT NULL,   -- scrypt$N$r$p$salt$hash: never the PIN
    seq      INTEGER NOT NULL
) STRICT;
CREATE TABLE IF NOT EXISTS rotation_keys (
    rkid BLOB PRIMARY KEY,   -- 4 bytes: shared.rotating.rotation_key_id
    key  BLOB NOT NULL,      -- 32 bytes: each right's one-time secret is derived from it
    seq  INTEGER NOT NULL
) STRICT;
-- What a protocol-2 replica knows is its venue's one layout (protocol-2 gates are served only
-- while their venue has one): kept as the provisional layout '' (no server code is empty), so
-- the gate decides at once, offline too, as it did before the upgrade. The first layout the
-- server sends replaces it (Replica.apply_changes).
INSERT INTO layouts (code, name, zones, access, events, seq)
SELECT
    '',
    'provisional (protocol 2)',
    (SELECT json_group_array(json_object(
        'code', code, 'name', name, 'parent', parent, 'capacity', capacity)) FROM zones),
    (SELECT json_group_object(name, json(zones)) FROM gates),
    (SELECT json_group_array(code) FROM events),
    0
WHERE EXISTS (SELECT 1 FROM events) OR EXISTS (SELECT 1 FROM gates);
-- The feed sent the server's layouts past this replica's cursor while it spoke protocol 2:
-- everything is pulled again from change 0, over what the replica holds (upserts; usage keeps
-- the later of the gate's and the server's).
INSERT OR REPLACE INTO meta (key, value) VALUES ('cursor', '0');
