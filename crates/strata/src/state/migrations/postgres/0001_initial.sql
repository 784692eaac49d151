-- strata state, schema version 1 (PostgreSQL). The same tables and meaning as the SQLite
-- schema of the same version.
--
-- Timestamps are timestamptz (microsecond precision, as SQLite's integer microseconds).
-- Ids are identities. Counts are bigint. Digests are `algorithm:hex` text. Enumerations
-- are lowercase text guarded by CHECK constraints so a hand-edited row cannot hold a
-- state the code does not know.
-- Applied migrations must never be edited: add a new numbered file instead.

-- One row per tag strata has resolved, with what it points at now.
CREATE TABLE tag (
    id              bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    registry        text        NOT NULL,
    repository      text        NOT NULL,
    tag             text        NOT NULL,
    current_digest  text        NOT NULL,
    -- When the tag was first observed at current_digest in its current stint.
    current_since   timestamptz NOT NULL,
    first_checked   timestamptz NOT NULL,
    last_checked    timestamptz NOT NULL,
    UNIQUE (registry, repository, tag)
);

-- Tells strata's schema from another application's tables in the same schema.
COMMENT ON TABLE tag IS 'strata state database';

-- Every digest a tag was observed at, with the first and last observation.
CREATE TABLE tag_digest (
    tag_id      bigint      NOT NULL REFERENCES tag (id) ON DELETE CASCADE,
    digest      text        NOT NULL,
    first_seen  timestamptz NOT NULL,
    last_seen   timestamptz NOT NULL,
    PRIMARY KEY (tag_id, digest),
    CHECK (first_seen <= last_seen)
);

-- Every observed move: the tag changed between from_last_seen and observed_at.
CREATE TABLE tag_move (
    id              bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tag_id          bigint      NOT NULL REFERENCES tag (id) ON DELETE CASCADE,
    from_digest     text        NOT NULL,
    to_digest       text        NOT NULL,
    from_last_seen  timestamptz NOT NULL,
    observed_at     timestamptz NOT NULL,
    CHECK (from_digest <> to_digest)
);

CREATE INDEX tag_move_by_tag ON tag_move (tag_id, observed_at);

-- Branches strata pushed and the pull requests it opened for them.
CREATE TABLE proposal (
    id          bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- The repository as the caller names it (remote URL or local path).
    repository  text        NOT NULL,
    branch      text        NOT NULL,
    group_key   text        NOT NULL,
    old_digest  text        NOT NULL,
    new_digest  text        NOT NULL,
    forge       text        NOT NULL CHECK (forge IN ('github', 'gitlab', 'gitea')),
    commit_sha  text,
    pr_number   bigint      CHECK (pr_number > 0),
    pr_url      text,
    pr_state    text        CHECK (pr_state IN ('open', 'merged', 'closed')),
    created_at  timestamptz NOT NULL,
    updated_at  timestamptz NOT NULL,
    UNIQUE (repository, branch),
    CHECK ((pr_number IS NULL) = (pr_state IS NULL) AND (pr_url IS NULL) = (pr_state IS NULL))
);

CREATE INDEX proposal_by_group ON proposal (group_key);
CREATE INDEX proposal_by_pr_state ON proposal (pr_state);

-- One rebuild cascade: a moved root image and everything built on it.
CREATE TABLE cascade_run (
    id               bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    root_image       text        NOT NULL,
    old_root_digest  text        NOT NULL,
    new_root_digest  text        NOT NULL,
    status           text        NOT NULL
        CHECK (status IN ('running', 'succeeded', 'failed', 'cancelled')),
    started_at       timestamptz NOT NULL,
    finished_at      timestamptz,
    CHECK ((status = 'running') = (finished_at IS NULL))
);

CREATE INDEX cascade_run_by_status ON cascade_run (status);

-- The images of a cascade and how far each has got.
CREATE TABLE cascade_node (
    run_id        bigint      NOT NULL REFERENCES cascade_run (id) ON DELETE CASCADE,
    image         text        NOT NULL,
    level         bigint      NOT NULL CHECK (level >= 0),
    state         text        NOT NULL
        CHECK (state IN ('pending', 'triggered', 'published', 'failed', 'skipped')),
    attempts      bigint      NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    triggered_at  timestamptz,
    finished_at   timestamptz,
    updated_at    timestamptz NOT NULL,
    message       text,
    new_digest    text,
    PRIMARY KEY (run_id, image),
    CHECK ((state = 'published') = (new_digest IS NOT NULL))
);
