-- Export files are stored in 1 MiB chunks, which PostgreSQL compresses when it
-- moves them out of line. Its default, pglz, is slow to compress: a
-- 1,000,000-row CSV export (116 MB, 20 MB compressed) spent a tenth of its
-- build time in it. lz4 compresses the same chunks several times faster, to
-- 24 MB (docs/performance.md). It applies to chunks written from now on; a
-- server built without lz4 support keeps pglz.
DO $$
BEGIN
    ALTER TABLE export_chunks ALTER COLUMN data SET COMPRESSION lz4;
EXCEPTION WHEN feature_not_supported THEN
    RAISE NOTICE 'lz4 is not supported by this server: export chunks stay compressed with pglz';
END
$$;
