-- The case / request lifecycle: states, participants, handoffs and events.
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS swarm CASCADE;
CREATE EXTENSION swarm;
RESET client_min_messages;
\set SHOW_CONTEXT never

-- agents and groups
SELECT swarm.add_agent('u1', 'Ana', 'postgres:5, linux:4', 'emea', 'Europe/Lisbon') AS ana,
       swarm.add_agent('u2', 'Omar', 'networking:5', 'emea', 'Africa/Cairo', capacity => 1) AS omar,
       swarm.add_agent('u3', 'Kenji', 'postgres:4, replication:5', 'apac', 'Asia/Tokyo') AS kenji,
       swarm.add_agent('u4', 'Maria', 'billing:5', 'amer') AS maria;
SELECT agent_id, external_ref, name, skills, region, timezone, capacity, help_capacity, presence, active
  FROM swarm.agents ORDER BY agent_id;
SELECT swarm.add_group('pg', 'postgres:4', 'global') AS pg,
       swarm.add_group('net', 'networking:3', 'regional', 'emea') AS net;
SELECT swarm.add_group_member('pg', 3, true), swarm.add_group_member('net', 2);
SELECT swarm.add_group_member('pg', 3, false);   -- a second add changes the lead flag
SELECT group_id, agent_id, lead FROM swarm.group_members ORDER BY 1, 2;
SELECT swarm.remove_group_member('net', 2);
SELECT count(*) FROM swarm.group_members WHERE group_id = 2;
SELECT swarm.add_group_member('net', 2, true);

-- presence and updates
SELECT swarm.set_presence(1, 'away'), swarm.set_presence(1, 'away'), swarm.set_presence(1, 'online');
SELECT count(*) AS presence_events FROM swarm.events WHERE kind = 'presence_changed';
SELECT swarm.update_agent(4, skills => 'billing:5, "sales tax":4', help_capacity => 1);
SELECT skills, help_capacity, capacity, name FROM swarm.agents WHERE agent_id = 4;

-- a case from new to closed
SELECT swarm.open_case('T-1', 'Replica lagging', 'P2', 'postgres:4, replication:3', 'acme', 'emea') AS c1;
SELECT case_id, state, owner_id, priority, needed, customer_ref, region, handoffs FROM swarm.cases;
SELECT swarm.assign_case(1, 1);
SELECT state, owner_id, first_response_at IS NULL AS no_response_yet FROM swarm.cases WHERE case_id = 1;
SELECT swarm.record_response(1) = now() AS first_response_now;
SELECT first_response_at IS NOT NULL AS first_response_recorded FROM swarm.cases WHERE case_id = 1;
SELECT swarm.record_response(1, now() + interval '1 hour') = first_response_at AS kept_first FROM swarm.cases WHERE case_id = 1;

-- requests: by group (needed defaults to the group's skills) and by skills
SELECT swarm.request_help(1, 'net', note => 'WAN?') AS r1;
SELECT swarm.request_help(1, needed => 'replication:4', priority => 'P1', mode => 'pull') AS r2;
SELECT swarm.request_help(1, 'pg', preferred => 3) AS r3;
SELECT request_id, case_id, requester_id, group_id, needed, preferred_id, priority, mode, state, note
  FROM swarm.collab_requests ORDER BY request_id;

-- decline, accept, resolve, cancel
SELECT swarm.decline_request(1, 3, 'not my area');
SELECT agent_id, reason FROM swarm.request_declines;
SELECT swarm.accept_request(1, 2);
SELECT swarm.accept_request(2, 3);
SELECT request_id, state, helper_id, accepted_at IS NOT NULL AS accepted FROM swarm.collab_requests ORDER BY 1;
SELECT swarm.resolve_request(1, 'MTU mismatch');
SELECT swarm.cancel_request(3, 'solved meanwhile');
SELECT request_id, state, summary, cancel_reason FROM swarm.collab_requests ORDER BY 1;
-- with the group's request cancelled, a new one to the same group is allowed
SELECT swarm.request_help(1, 'pg') AS r4;

SELECT case_id, agent_id, role, left_at IS NULL AS on_case FROM swarm.participants ORDER BY agent_id, role;

-- transfer: a counted handoff, the old owner leaves, the new one joins
SELECT swarm.transfer_case(1, 3, 'replication expert takes over');  -- refused: 3 is helping on it
SELECT swarm.transfer_case(1, 4, 'customer moved to the billing team');
SELECT owner_id, handoffs FROM swarm.cases WHERE case_id = 1;
SELECT agent_id, role, left_at IS NULL AS on_case FROM swarm.participants WHERE case_id = 1 ORDER BY agent_id, role;

-- resolve: request 4 (open) is cancelled, request 2 (accepted) ends with the case
SELECT swarm.resolve_case(1, 'KB-42');
SELECT state, kb_ref, resolved_at IS NOT NULL AS resolved FROM swarm.cases WHERE case_id = 1;
SELECT request_id, state, summary, cancel_reason FROM swarm.collab_requests ORDER BY 1;
SELECT swarm.reopen_case(1);
SELECT state, resolved_at IS NULL AS cleared, owner_id FROM swarm.cases WHERE case_id = 1;
SELECT swarm.resolve_case(1);
SELECT kb_ref FROM swarm.cases WHERE case_id = 1;  -- kept from the first resolution
SELECT swarm.close_case(1);
SELECT state, closed_at IS NOT NULL AS closed FROM swarm.cases WHERE case_id = 1;
SELECT count(*) FILTER (WHERE left_at IS NULL) AS still_on_case, count(*) AS participants
  FROM swarm.participants WHERE case_id = 1;

-- capacity: Omar has capacity 1
SELECT swarm.open_case('T-2', 'VPN down', 'P1', 'networking:4') AS c2,
       swarm.open_case('T-3', 'VPN slow', 'P3', 'networking:3') AS c3;
SELECT swarm.assign_case(2, 2);
SELECT swarm.assign_case(3, 2);
SELECT swarm.assign_case(3, 1);
SELECT swarm.transfer_case(3, 2, 'network');

-- invalid transitions leave everything as it was
SELECT swarm.close_case(2);
SELECT swarm.reopen_case(1);
SELECT swarm.accept_request(4, 2);
SELECT state FROM swarm.cases WHERE case_id = 2;

-- the load counters agree with the cases and requests they count
SELECT a.agent_id, a.open_cases, a.open_helps,
       a.open_cases = (SELECT count(*) FROM swarm.cases c WHERE c.owner_id = a.agent_id AND c.state IN ('open', 'pending'))
       AND a.open_helps = (SELECT count(*) FROM swarm.collab_requests r WHERE r.helper_id = a.agent_id AND r.state = 'accepted')
       AS consistent
  FROM swarm.agents a ORDER BY a.agent_id;

-- the audit trail: one event per change, in order
SELECT kind, case_id, request_id, agent_id FROM swarm.events ORDER BY event_id;
SELECT count(*) AS events, count(DISTINCT event_id) AS distinct_ids FROM swarm.events;

-- the trail is append-only
UPDATE swarm.events SET kind = 'x' WHERE event_id = 1;
DELETE FROM swarm.events;
TRUNCATE swarm.events;
SELECT count(*) > 0 AS kept FROM swarm.events;
