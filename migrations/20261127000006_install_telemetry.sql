-- Install telemetry bookkeeping: what was last sent, so a version change sends
-- one `telemetry.update` and the Telemetry page can say when the last ping left.
ALTER TABLE installation
    ADD COLUMN last_ping_at      timestamptz,
    ADD COLUMN last_ping_version text;
