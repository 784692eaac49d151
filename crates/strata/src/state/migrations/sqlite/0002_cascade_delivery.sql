-- strata state, schema version 2 (SQLite): one running cascade per root, enforced by the
-- database, and what carried each rebuilt image's new pins.
-- Applied migrations must never be edited: add a new numbered file instead.

-- Databases written before this rule may hold several running cascades of one root (two
-- starts raced). The newest one covers the others: the older ones become cancelled.
UPDATE cascade_run
SET status = 'cancelled',
    finished_at = CAST(strftime('%s', 'now') AS INTEGER) * 1000000
WHERE status = 'running'
  AND id NOT IN (SELECT max(id) FROM cascade_run WHERE status = 'running' GROUP BY root_image);

-- At most one running cascade per root: a second start fails here instead of claiming the
-- same images as the first.
CREATE UNIQUE INDEX cascade_run_one_running_per_root
    ON cascade_run (root_image) WHERE status = 'running';

-- Where an image's new pins went before its rebuild was triggered: the commit (and the
-- branch or ref it was pushed to) or the pull request that carries them.
ALTER TABLE cascade_node ADD COLUMN pin_commit TEXT;
ALTER TABLE cascade_node ADD COLUMN pin_ref TEXT;
ALTER TABLE cascade_node ADD COLUMN pin_pull_request TEXT;
