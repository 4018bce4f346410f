-- PDF reports: a third export format, laid out on the paper the person chose.
ALTER TABLE exports DROP CONSTRAINT exports_format_check;
ALTER TABLE exports ADD CONSTRAINT exports_format_check CHECK (format IN ('csv', 'xlsx', 'pdf'));
ALTER TABLE exports
    ADD COLUMN paper text CHECK (paper IN ('a4', 'letter')),
    ADD CONSTRAINT exports_paper_for_pdf CHECK ((format = 'pdf') = (paper IS NOT NULL));
