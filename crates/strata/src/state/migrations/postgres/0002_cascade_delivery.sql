-- strata state, schema version 2 (PostgreSQL): one running cascade per root, enforced by
-- the database, and what carried each rebuilt image's new pins.
-- Applied migrations must never be edited: add a new numbered file instead.
-- (No PostgreSQL database predates this rule, so unlike SQLite's version 2 there are no
-- duplicate running cascades to cancel first.)

-- At most one running cascade per root: a second start fails here instead of claiming the
-- same images as the first.
CREATE UNIQUE INDEX cascade_run_one_running_per_root
    ON cascade_run (root_image) WHERE status = 'running';

-- Where an image's new pins went before its rebuild was triggered: the commit (and the
-- branch or ref it was pushed to) or the pull request that carries them.
ALTER TABLE cascade_node ADD COLUMN pin_commit text;
ALTER TABLE cascade_node ADD COLUMN pin_ref text;
ALTER TABLE cascade_node ADD COLUMN pin_pull_request text;
