-- strata state, schema version 3 (PostgreSQL): what `strata serve` needs to watch tags
-- for an organisation, queue work for several workers and lose no event.
-- Applied migrations must never be edited: add a new numbered file instead.

-- Every tag some managed repository references, polled once per interval whoever
-- references it. `next_check` is claimed by moving it forward (rows picked with
-- FOR UPDATE SKIP LOCKED), so one worker checks it.
CREATE TABLE watch (
    registry      text        NOT NULL,
    repository    text        NOT NULL,
    tag           text        NOT NULL,
    active        boolean     NOT NULL DEFAULT true,
    next_check    timestamptz NOT NULL,
    last_checked  timestamptz,
    failures      bigint      NOT NULL DEFAULT 0 CHECK (failures >= 0),
    last_error    text,
    PRIMARY KEY (registry, repository, tag)
);

CREATE INDEX watch_due ON watch (next_check) WHERE active;

-- A move acted on: the pipeline (update, cascade) ran for it. Moves recorded before this
-- version are history, not work.
ALTER TABLE tag_move ADD COLUMN handled_at timestamptz;
UPDATE tag_move SET handled_at = observed_at;
CREATE INDEX tag_move_unhandled ON tag_move (id) WHERE handled_at IS NULL;

-- What happened to a move, step by step (detected, proposed, cascade, published…). The
-- id keeps steps recorded at the same instant in the order they were recorded.
CREATE TABLE move_step (
    id       bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    move_id  bigint      NOT NULL REFERENCES tag_move (id) ON DELETE CASCADE,
    at       timestamptz NOT NULL,
    step     text        NOT NULL,
    detail   text
);

CREATE INDEX move_step_by_move ON move_step (move_id, at);

-- Webhook events, stored before they are acknowledged.
CREATE TABLE event (
    id           bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    source       text        NOT NULL,
    received_at  timestamptz NOT NULL,
    body         text        NOT NULL,
    state        text        NOT NULL CHECK (state IN ('new', 'done', 'ignored', 'failed')),
    note         text,
    done_at      timestamptz
);

CREATE INDEX event_new ON event (id) WHERE state = 'new';

-- The work queue. A job is leased by one worker until `lease_until`; an expired lease is
-- taken over. At most one open job per key (a move seen twice is one job).
CREATE TABLE job (
    id           bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind         text        NOT NULL,
    key          text        NOT NULL,
    payload      text        NOT NULL,
    state        text        NOT NULL CHECK (state IN ('queued', 'leased', 'done', 'failed')),
    priority     bigint      NOT NULL DEFAULT 0,
    run_after    timestamptz NOT NULL,
    lease_owner  text,
    lease_until  timestamptz,
    attempts     bigint      NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    created_at   timestamptz NOT NULL,
    finished_at  timestamptz,
    error        text,
    CHECK ((state = 'leased') = (lease_owner IS NOT NULL AND lease_until IS NOT NULL))
);

CREATE UNIQUE INDEX job_open_key ON job (key) WHERE state IN ('queued', 'leased');
CREATE INDEX job_ready ON job (state, run_after);
