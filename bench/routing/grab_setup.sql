-- bench/routing/grab_setup.sql: before the grab benchmark (after the latency
-- one): capacities large enough that no grab hits a help-capacity limit, and
-- snapshots of the open queue and of the participants so that every run
-- starts from the same state (grab_reset.sql).
\set ON_ERROR_STOP 1
SET client_min_messages = warning;
UPDATE swarm.agents SET help_capacity = 1000000;
CREATE TABLE bench.queue_snap AS SELECT request_id FROM swarm.collab_requests WHERE state = 'open';
ALTER TABLE bench.queue_snap ADD PRIMARY KEY (request_id);
CREATE TABLE bench.participants_snap AS SELECT case_id, agent_id, role FROM swarm.participants;
ALTER TABLE bench.participants_snap ADD PRIMARY KEY (case_id, agent_id, role);
CREATE TABLE bench.waits (run text NOT NULL, wait text NOT NULL);

-- sample the wait events of the other sessions every 50 ms for secs seconds
CREATE PROCEDURE bench.sample_waits(tag text, secs double precision)
LANGUAGE plpgsql AS $$
DECLARE
    stop timestamptz := clock_timestamp() + secs * interval '1 second';
BEGIN
    WHILE clock_timestamp() < stop LOOP
        INSERT INTO bench.waits
        SELECT tag, coalesce(wait_event_type || ':' || wait_event, 'CPU')
          FROM pg_stat_activity
         WHERE datname = current_database() AND pid <> pg_backend_pid() AND state = 'active'
           AND backend_type = 'client backend';
        COMMIT;
        PERFORM pg_sleep(0.05);
    END LOOP;
END
$$;
SELECT count(*) AS open_requests FROM bench.queue_snap;
