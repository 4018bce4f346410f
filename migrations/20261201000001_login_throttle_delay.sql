-- The login throttle answers with a growing delay instead of a hard lock:
-- it needs the time of the last failure of each key.
ALTER TABLE login_throttle ADD COLUMN last_failure_at timestamptz NOT NULL DEFAULT now();
