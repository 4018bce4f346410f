-- Each user's formats: date order, 12 or 24 hour clock, and the first day of
-- their week (empty: the installation's setting).
ALTER TABLE users
    ADD COLUMN date_format text NOT NULL DEFAULT 'iso' CHECK (date_format IN ('iso', 'dmy', 'mdy')),
    ADD COLUMN clock text NOT NULL DEFAULT '24h' CHECK (clock IN ('24h', '12h')),
    ADD COLUMN week_start text NOT NULL DEFAULT '' CHECK (week_start IN ('', 'monday', 'sunday'));
