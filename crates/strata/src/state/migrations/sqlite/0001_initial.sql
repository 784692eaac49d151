-- strata state, schema version 1 (SQLite).
--
-- Timestamps are INTEGER microseconds since the Unix epoch (UTC): they sort and compare
-- as numbers, and microseconds is also what a PostgreSQL timestamptz keeps. Digests are
-- `algorithm:hex` text. Enumerations are lowercase text guarded by CHECK constraints so
-- a hand-edited row cannot hold a state the code does not know.
-- Applied migrations must never be edited: add a new numbered file instead.

-- One row per tag strata has resolved, with what it points at now.
CREATE TABLE tag (
    id              INTEGER PRIMARY KEY,
    registry        TEXT    NOT NULL,
    repository      TEXT    NOT NULL,
    tag             TEXT    NOT NULL,
    current_digest  TEXT    NOT NULL,
    -- When the tag was first observed at current_digest in its current stint.
    current_since   INTEGER NOT NULL,
    first_checked   INTEGER NOT NULL,
    last_checked    INTEGER NOT NULL,
    UNIQUE (registry, repository, tag)
) STRICT;

-- Every digest a tag was observed at, with the first and last observation.
CREATE TABLE tag_digest (
    tag_id      INTEGER NOT NULL REFERENCES tag (id) ON DELETE CASCADE,
    digest      TEXT    NOT NULL,
    first_seen  INTEGER NOT NULL,
    last_seen   INTEGER NOT NULL,
    PRIMARY KEY (tag_id, digest),
    CHECK (first_seen <= last_seen)
) STRICT, WITHOUT ROWID;

-- Every observed move: the tag changed between from_last_seen and observed_at.
CREATE TABLE tag_move (
    id              INTEGER PRIMARY KEY,
    tag_id          INTEGER NOT NULL REFERENCES tag (id) ON DELETE CASCADE,
    from_digest     TEXT    NOT NULL,
    to_digest       TEXT    NOT NULL,
    from_last_seen  INTEGER NOT NULL,
    observed_at     INTEGER NOT NULL,
    CHECK (from_digest <> to_digest)
) STRICT;

CREATE INDEX tag_move_by_tag ON tag_move (tag_id, observed_at);

-- Branches strata pushed and the pull requests it opened for them.
CREATE TABLE proposal (
    id          INTEGER PRIMARY KEY,
    -- The repository as the caller names it (remote URL or local path).
    repository  TEXT    NOT NULL,
    branch      TEXT    NOT NULL,
    group_key   TEXT    NOT NULL,
    old_digest  TEXT    NOT NULL,
    new_digest  TEXT    NOT NULL,
    forge       TEXT    NOT NULL CHECK (forge IN ('github', 'gitlab', 'gitea')),
    commit_sha  TEXT,
    pr_number   INTEGER CHECK (pr_number > 0),
    pr_url      TEXT,
    pr_state    TEXT    CHECK (pr_state IN ('open', 'merged', 'closed')),
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    UNIQUE (repository, branch),
    CHECK ((pr_number IS NULL) = (pr_state IS NULL) AND (pr_url IS NULL) = (pr_state IS NULL))
) STRICT;

CREATE INDEX proposal_by_group ON proposal (group_key);
CREATE INDEX proposal_by_pr_state ON proposal (pr_state);

-- One rebuild cascade: a moved root image and everything built on it.
CREATE TABLE cascade_run (
    id               INTEGER PRIMARY KEY,
    root_image       TEXT    NOT NULL,
    old_root_digest  TEXT    NOT NULL,
    new_root_digest  TEXT    NOT NULL,
    status           TEXT    NOT NULL
        CHECK (status IN ('running', 'succeeded', 'failed', 'cancelled')),
    started_at       INTEGER NOT NULL,
    finished_at      INTEGER,
    CHECK ((status = 'running') = (finished_at IS NULL))
) STRICT;

CREATE INDEX cascade_run_by_status ON cascade_run (status);

-- The images of a cascade and how far each has got.
CREATE TABLE cascade_node (
    run_id        INTEGER NOT NULL REFERENCES cascade_run (id) ON DELETE CASCADE,
    image         TEXT    NOT NULL,
    level         INTEGER NOT NULL CHECK (level >= 0),
    state         TEXT    NOT NULL
        CHECK (state IN ('pending', 'triggered', 'published', 'failed', 'skipped')),
    attempts      INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    triggered_at  INTEGER,
    finished_at   INTEGER,
    updated_at    INTEGER NOT NULL,
    message       TEXT,
    new_digest    TEXT,
    PRIMARY KEY (run_id, image),
    CHECK ((state = 'published') = (new_digest IS NOT NULL))
) STRICT, WITHOUT ROWID;
