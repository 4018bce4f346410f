-- apalis-postgres 1.0.0 leaves two indexes on apalis.jobs that duplicate
-- others: LIdx on lock_by (the same as its idx_apalis_jobs_lock_by) and
-- unique_job_id on id (the same as the primary key). Its
-- 20260824233636_streamline_indices migration dropped their siblings (TIdx,
-- SIdx, JTIdx, Idx) but not these two, so every job insert and every change
-- of a job's lock kept them up to date for nothing. Without them a job
-- insert is 6-9 % faster (pgbench, same run: docs/performance.md). No
-- constraint depends on either.
DROP INDEX IF EXISTS apalis.lidx;
DROP INDEX IF EXISTS apalis.unique_job_id;
