-- Invoices from unbilled time. A draft holds its entries (so no other draft
-- takes them) and its lines; issuing gives it the next number of its year
-- (invoice_sequences, incremented in the issuing transaction: gapless, and
-- concurrent issuers wait on the year's row) and freezes its entries.

ALTER TABLE settings
    ADD COLUMN seller_name            text NOT NULL DEFAULT '' CHECK (char_length(seller_name) <= 200),
    ADD COLUMN seller_address         text NOT NULL DEFAULT '' CHECK (char_length(seller_address) <= 1000),
    ADD COLUMN seller_tax_id          text NOT NULL DEFAULT '' CHECK (char_length(seller_tax_id) <= 100),
    ADD COLUMN seller_bank            text NOT NULL DEFAULT '' CHECK (char_length(seller_bank) <= 500),
    ADD COLUMN invoice_number_pattern text NOT NULL DEFAULT '{YYYY}-{seq:4}' CHECK (char_length(invoice_number_pattern) <= 50);

CREATE TABLE invoice_sequences (
    year integer PRIMARY KEY,
    last integer NOT NULL
);

CREATE TABLE invoices (
    id           bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    client_id    bigint      NOT NULL REFERENCES clients (id),
    status       text        NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'issued', 'paid', 'cancelled')),
    -- Given at issue, kept when cancelled.
    number       text        UNIQUE,
    period_from  date        NOT NULL,
    period_to    date        NOT NULL CHECK (period_to >= period_from),
    grouping     text        NOT NULL CHECK (grouping IN ('project', 'task', 'entry')),
    currency     text        NOT NULL,
    -- A share of the lines' net, in hundredths of a percent (1000 = 10 %).
    discount_bp  integer     NOT NULL DEFAULT 0 CHECK (discount_bp BETWEEN 0 AND 10000),
    note         text        NOT NULL DEFAULT '' CHECK (char_length(note) <= 2000),
    -- The seller's details as they were at issue.
    seller       jsonb,
    issued_on    date,
    paid_on      date,
    created_by   bigint      REFERENCES users (id) ON DELETE SET NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    CHECK ((status = 'draft') = (number IS NULL)),
    CHECK ((status = 'draft') = (issued_on IS NULL)),
    CHECK ((status = 'paid') = (paid_on IS NOT NULL))
);
CREATE INDEX invoices_status ON invoices (status, id DESC);
CREATE INDEX invoices_client ON invoices (client_id);

CREATE TABLE invoice_lines (
    id          bigint  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    invoice_id  bigint  NOT NULL REFERENCES invoices (id) ON DELETE CASCADE,
    position    integer NOT NULL,
    description text    NOT NULL CHECK (char_length(description) BETWEEN 1 AND 500),
    -- Hours in hundredths (125 = 1.25 h), the price per hour in cents, the
    -- tax rate in hundredths of a percent.
    centihours  bigint  NOT NULL CHECK (centihours >= 0 AND centihours <= 100000000),
    unit_cents  bigint  NOT NULL CHECK (unit_cents >= 0 AND unit_cents <= 100000000),
    tax_bp      integer NOT NULL CHECK (tax_bp BETWEEN 0 AND 10000)
);
CREATE INDEX invoice_lines_invoice ON invoice_lines (invoice_id, position);

-- The rendered PDF of an issued invoice (built by the worker; a rebuild
-- replaces it with the same bytes).
CREATE TABLE invoice_documents (
    invoice_id bigint      PRIMARY KEY REFERENCES invoices (id) ON DELETE CASCADE,
    pdf        bytea       NOT NULL,
    built_at   timestamptz NOT NULL DEFAULT now()
);

ALTER TABLE time_entries ADD COLUMN invoice_id bigint REFERENCES invoices (id) ON DELETE SET NULL;
CREATE INDEX time_entries_invoice ON time_entries (invoice_id) WHERE invoice_id IS NOT NULL;

-- An entry on an issued or paid invoice cannot change or go, whoever asks
-- (pages, API, timesheet, importer); only its link to the invoice may be
-- cleared (a cancellation). SQLSTATE TT001 becomes a 409 with a message.
CREATE FUNCTION time_entries_frozen_when_invoiced() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    frozen text;
BEGIN
    SELECT number INTO frozen FROM invoices
     WHERE id = OLD.invoice_id AND status IN ('issued', 'paid');
    IF frozen IS NULL THEN
        RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
    END IF;
    IF TG_OP = 'UPDATE'
       AND (NEW.user_id, NEW.project_id, NEW.task_id, NEW.started_at, NEW.ended_at, NEW.notes, NEW.tags, NEW.billable)
           IS NOT DISTINCT FROM
           (OLD.user_id, OLD.project_id, OLD.task_id, OLD.started_at, OLD.ended_at, OLD.notes, OLD.tags, OLD.billable) THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'time entry % is on invoice %', OLD.id, frozen
        USING ERRCODE = 'TT001', DETAIL = frozen;
END
$$;
CREATE TRIGGER time_entries_frozen_when_invoiced
    BEFORE UPDATE OR DELETE ON time_entries
    FOR EACH ROW WHEN (OLD.invoice_id IS NOT NULL)
    EXECUTE FUNCTION time_entries_frozen_when_invoiced();
