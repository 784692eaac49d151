-- strata state, schema version 4 (SQLite): one process drives a running cascade at a
-- time. The driver (`host:pid`) holds the run until `driver_until` and renews it while it
-- works; another process opening the same cascade follows it, and takes it over when the
-- lease runs out or the driver is known to be gone.
-- Applied migrations must never be edited: add a new numbered file instead.

ALTER TABLE cascade_run ADD COLUMN driver TEXT;
ALTER TABLE cascade_run ADD COLUMN driver_until INTEGER;
