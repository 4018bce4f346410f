-- A unique job (analytics delivery's `analytics_flush`, install pings,
-- maintenance ticks) that is cancelled, drained or dies keeps no hold on its
-- key: a key left on a dead row blocked every later job under it, and
-- product delivery stopped for good after an operator cancelled or drained
-- the pending delivery job. Done jobs keep their key until pruned (that is
-- what makes a maintenance tick or an update ping run once).
--
-- A trigger, so that every path to "dead" frees the key: the console's
-- cancel and drain, and apalis marking a job Killed or Failed for good.
CREATE FUNCTION free_key_of_dead_job() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    NEW.idempotency_key := NULL;
    RETURN NEW;
END
$$;

CREATE TRIGGER dead_jobs_free_their_key
    BEFORE UPDATE ON apalis.jobs
    FOR EACH ROW
    WHEN (NEW.idempotency_key IS NOT NULL
          AND (NEW.status = 'Killed'
               OR (NEW.status = 'Failed' AND NEW.attempts >= NEW.max_attempts)))
    EXECUTE FUNCTION free_key_of_dead_job();

-- Rows already dead let go of their keys now.
UPDATE apalis.jobs SET idempotency_key = NULL
WHERE idempotency_key IS NOT NULL
  AND (status = 'Killed' OR (status = 'Failed' AND attempts >= max_attempts));
