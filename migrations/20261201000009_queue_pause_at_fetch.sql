-- A paused queue's jobs are not taken: the fetch (apalis.get_jobs moves due
-- jobs from Pending or Failed to Queued) skips them, here in the database, for
-- every worker process at once and from the pause's commit on.
--
-- This replaces a gate in each worker process in front of the apalis service.
-- That gate stopped apalis from driving a fetch already in flight when the
-- pause came: the fetch kept its transaction open through the whole pause,
-- and after the resume the worker could stall until the next insert woke it
-- (tests/integration/queue.rs,
-- a_pause_during_a_fetch_neither_stalls_the_queue_nor_holds_a_transaction).
--
-- A trigger rather than a replaced apalis.get_jobs, so apalis's function stays
-- as apalis ships it. A row the trigger refuses is neither updated nor
-- returned by the fetch. Jobs already taken (Queued to Running, the start of
-- a fetched job) are not touched: they run.
CREATE FUNCTION skip_paused_fetch() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM queue_pauses WHERE queue = NEW.job_type) THEN
        RETURN NULL;
    END IF;
    RETURN NEW;
END;
$$;

CREATE TRIGGER skip_paused_fetch
    BEFORE UPDATE OF status ON apalis.jobs
    FOR EACH ROW
    WHEN (OLD.status IN ('Pending', 'Failed') AND NEW.status IN ('Queued', 'Running'))
    EXECUTE FUNCTION skip_paused_fetch();

COMMENT ON TABLE queue_pauses IS
    'Paused queues: a row means paused. The fetch skips their jobs (trigger skip_paused_fetch on apalis.jobs); new jobs are still accepted and a job already running finishes. Deleting the row resumes.';
