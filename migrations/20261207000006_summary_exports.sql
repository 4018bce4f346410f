-- An export is either every matching entry or the report's grouped summary
-- (its groups, subtotals and total).
ALTER TABLE exports
    ADD COLUMN layout text NOT NULL DEFAULT 'entries' CHECK (layout IN ('entries', 'summary'));
