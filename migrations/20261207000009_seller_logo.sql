-- The seller's logo, printed on invoices, and the paper invoices are printed
-- on. A logo is never changed in place: an upload adds a row and points the
-- settings at it, and an issued invoice's seller snapshot names the row it
-- was issued with (seller->>'seller_logo_id'), so its PDF rebuilds with the
-- same logo after the seller changed theirs. Rows no snapshot and no
-- settings name are deleted when the logo changes.

CREATE TABLE seller_logos (
    id           bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    content_type text        NOT NULL CHECK (content_type IN ('image/png', 'image/jpeg')),
    bytes        bytea       NOT NULL CHECK (octet_length(bytes) <= 524288),
    width        integer     NOT NULL CHECK (width > 0),
    height       integer     NOT NULL CHECK (height > 0),
    created_at   timestamptz NOT NULL DEFAULT now()
);

ALTER TABLE settings
    ADD COLUMN seller_logo_id bigint REFERENCES seller_logos (id),
    ADD COLUMN invoice_paper  text NOT NULL DEFAULT 'a4' CHECK (invoice_paper IN ('a4', 'letter'));

-- The snapshot lookup of the clean-up.
CREATE INDEX invoices_seller_logo ON invoices (((seller ->> 'seller_logo_id')::bigint))
    WHERE seller ? 'seller_logo_id';
