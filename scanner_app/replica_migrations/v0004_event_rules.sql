-- What each event requires of the codes its gates take (protocol 3): rotating codes only
CREATE TABLE IF NOT EXISTS event_rules (
    event             TEXT PRIMARY KEY,
    rotating_required INTEGER NOT NULL,   -- 1: static codes are refused (static_code)
    seq               INTEGER NOT NULL
) STRICT;
