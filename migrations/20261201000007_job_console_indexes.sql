-- The console's job list stays a short index scan with a million finished
-- jobs (measured in `make bench`, J1):
-- every state but done is rare, so a list of one of them reads this index,
-- which holds only the unfinished and dead jobs;
CREATE INDEX jobs_console_unfinished ON apalis.jobs ((coalesce(done_at, run_at)) DESC, id DESC)
    WHERE status <> 'Done';
-- a queue's jobs, newest first;
CREATE INDEX jobs_console_queue ON apalis.jobs (job_type, (coalesce(done_at, run_at)) DESC, id DESC);
-- the jobs a request enqueued.
CREATE INDEX jobs_request_id ON apalis.jobs ((metadata -> 'request_id'));
