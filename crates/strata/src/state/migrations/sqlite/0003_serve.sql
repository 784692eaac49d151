-- strata state, schema version 3 (SQLite): what `strata serve` needs to watch tags for
-- an organisation, queue work for several workers and lose no event.
-- Applied migrations must never be edited: add a new numbered file instead.

-- Every tag some managed repository references, polled once per interval whoever
-- references it. `next_check` is claimed by moving it forward, so one worker checks it.
CREATE TABLE watch (
    registry      TEXT    NOT NULL,
    repository    TEXT    NOT NULL,
    tag           TEXT    NOT NULL,
    active        INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
    next_check    INTEGER NOT NULL,
    last_checked  INTEGER,
    failures      INTEGER NOT NULL DEFAULT 0 CHECK (failures >= 0),
    last_error    TEXT,
    PRIMARY KEY (registry, repository, tag)
) STRICT, WITHOUT ROWID;

CREATE INDEX watch_due ON watch (active, next_check);

-- A move acted on: the pipeline (update, cascade) ran for it. Moves recorded before this
-- version are history, not work.
ALTER TABLE tag_move ADD COLUMN handled_at INTEGER;
UPDATE tag_move SET handled_at = observed_at;
CREATE INDEX tag_move_unhandled ON tag_move (handled_at) WHERE handled_at IS NULL;

-- What happened to a move, step by step (detected, proposed, cascade, published…).
CREATE TABLE move_step (
    move_id  INTEGER NOT NULL REFERENCES tag_move (id) ON DELETE CASCADE,
    at       INTEGER NOT NULL,
    step     TEXT    NOT NULL,
    detail   TEXT
) STRICT;

CREATE INDEX move_step_by_move ON move_step (move_id, at);

-- Webhook events, stored before they are acknowledged.
CREATE TABLE event (
    id           INTEGER PRIMARY KEY,
    source       TEXT    NOT NULL,
    received_at  INTEGER NOT NULL,
    body         TEXT    NOT NULL,
    state        TEXT    NOT NULL CHECK (state IN ('new', 'done', 'ignored', 'failed')),
    note         TEXT,
    done_at      INTEGER
) STRICT;

CREATE INDEX event_new ON event (state, id);

-- The work queue. A job is leased by one worker until `lease_until`; an expired lease is
-- taken over. At most one open job per key (a move seen twice is one job).
CREATE TABLE job (
    id           INTEGER PRIMARY KEY,
    kind         TEXT    NOT NULL,
    key          TEXT    NOT NULL,
    payload      TEXT    NOT NULL,
    state        TEXT    NOT NULL CHECK (state IN ('queued', 'leased', 'done', 'failed')),
    priority     INTEGER NOT NULL DEFAULT 0,
    run_after    INTEGER NOT NULL,
    lease_owner  TEXT,
    lease_until  INTEGER,
    attempts     INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    created_at   INTEGER NOT NULL,
    finished_at  INTEGER,
    error        TEXT,
    CHECK ((state = 'leased') = (lease_owner IS NOT NULL AND lease_until IS NOT NULL))
) STRICT;

CREATE UNIQUE INDEX job_open_key ON job (key) WHERE state IN ('queued', 'leased');
CREATE INDEX job_ready ON job (state, run_after);
