-- The agents' open_cases / open_helps counters always equal what they count,
-- whatever mix of lifecycle calls (refused ones included) ran before.
\set ON_ERROR_STOP 1
\set QUIET 1
SET client_min_messages = warning;
BEGIN;
DROP EXTENSION IF EXISTS swarm CASCADE;
CREATE EXTENSION swarm;
CREATE EXTENSION IF NOT EXISTS pgtap;
SELECT plan(5);

DO $$
BEGIN
    PERFORM swarm.add_agent('a' || i, 'Agent ' || i, 'pg:3, net:3', capacity => 3) FROM generate_series(1, 8) i;
    PERFORM swarm.update_agent(i, help_capacity => 2) FROM generate_series(1, 8) i;
    PERFORM swarm.add_group('pg', 'pg:3', 'global');
END $$;

-- 2,000 random lifecycle calls; each runs in its own subtransaction and may be refused.
DO $$
DECLARE
    op int;
    c bigint;
    r bigint;
    a bigint;
    done int := 0;
    refused int := 0;
BEGIN
    PERFORM setseed(0.42);
    FOR i IN 1..2000 LOOP
        op := floor(random() * 10)::int;
        c := 1 + floor(random() * greatest((SELECT max(case_id) FROM swarm.cases), 1))::bigint;
        r := 1 + floor(random() * greatest((SELECT max(request_id) FROM swarm.collab_requests), 1))::bigint;
        a := 1 + floor(random() * 8)::bigint;
        BEGIN
            CASE op
                WHEN 0 THEN PERFORM swarm.open_case('T-' || i, 's', 'P2', 'pg:2');
                WHEN 1 THEN PERFORM swarm.assign_case(c, a);
                WHEN 2 THEN PERFORM swarm.transfer_case(c, a, 'random');
                WHEN 3 THEN PERFORM swarm.request_help(c, CASE WHEN random() < 0.5 THEN 'pg' END, 'net:2');
                WHEN 4 THEN PERFORM swarm.accept_request(r, a);
                WHEN 5 THEN PERFORM swarm.resolve_request(r);
                WHEN 6 THEN PERFORM swarm.cancel_request(r);
                WHEN 7 THEN PERFORM swarm.resolve_case(c);
                WHEN 8 THEN PERFORM swarm.reopen_case(c);
                ELSE PERFORM swarm.close_case(c);
            END CASE;
            done := done + 1;
        EXCEPTION WHEN others THEN
            refused := refused + 1;
        END;
    END LOOP;
    RAISE NOTICE 'random workload: % calls done, % refused', done, refused;
END $$;

SELECT cmp_ok((SELECT count(*) FROM swarm.events WHERE kind IN ('case_assigned', 'request_accepted', 'case_transferred')),
              '>', 50::bigint, 'the workload did real work');
SELECT is((SELECT count(*) FROM swarm.agents a
            WHERE a.open_cases <> (SELECT count(*) FROM swarm.cases c
                                    WHERE c.owner_id = a.agent_id AND c.state IN ('open', 'pending'))),
          0::bigint, 'open_cases equals the open and pending cases each agent owns');
SELECT is((SELECT count(*) FROM swarm.agents a
            WHERE a.open_helps <> (SELECT count(*) FROM swarm.collab_requests r
                                    WHERE r.helper_id = a.agent_id AND r.state = 'accepted')),
          0::bigint, 'open_helps equals the accepted requests each agent helps on');
SELECT is((SELECT count(*) FROM swarm.agents WHERE open_helps > help_capacity),
          0::bigint, 'no agent helps on more requests than its help capacity');
-- Only a reopened case may take its owner past capacity: it goes back to its owner for life.
SELECT is((SELECT count(*) FROM swarm.agents a
            WHERE a.open_cases > a.capacity
              AND NOT EXISTS (SELECT 1 FROM swarm.events e WHERE e.kind = 'case_reopened' AND e.agent_id = a.agent_id)),
          0::bigint, 'assign and transfer never take an agent past its capacity');

SELECT * FROM finish();
ROLLBACK;
