-- demo/demo.sql: a small helpdesk walked through the swarm lifecycle.
-- Run by `make demo`.  On the throwaway cluster it commits and then shows a
-- request escalating live; on your own server (psql -v rollback=1) it runs
-- in one transaction that is rolled back, so the database is left as it was.
\set ON_ERROR_STOP 1
\pset footer off
SET client_min_messages = notice;
-- swarm's operators (@>, &&, ...) live in schema swarm: put it on the search_path.
SET search_path = public, swarm;
BEGIN;

-- try(sql): run one call and say how it was refused, without aborting the demo.
CREATE FUNCTION pg_temp.try(call text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE call;
    RETURN 'accepted';
EXCEPTION WHEN others THEN
    RETURN format('refused, SQLSTATE %s: %s', SQLSTATE, SQLERRM);
END $$;

\echo
\echo '== 1. The team: agents in three regions, each with skills (name:level, 1-5)'
SELECT swarm.add_agent('u-ana',   'Ana (Lisbon)',      'postgres:5, linux:4, replication:4', 'emea', 'Europe/Lisbon')    AS ana   \gset
SELECT swarm.add_agent('u-omar',  'Omar (Cairo)',      'networking:5, linux:3, vpn:4',       'emea', 'Africa/Cairo')     AS omar  \gset
SELECT swarm.add_agent('u-maria', 'Maria (Chicago)',   'billing:5, "sales tax":4',           'amer', 'America/Chicago')  AS maria \gset
SELECT swarm.add_agent('u-dave',  'Dave (Denver)',     'postgres:3, kubernetes:5, linux:4',  'amer', 'America/Denver')   AS dave  \gset
SELECT swarm.add_agent('u-kenji', 'Kenji (Tokyo)',     'postgres:4, replication:5',          'apac', 'Asia/Tokyo')       AS kenji \gset
SELECT swarm.add_agent('u-li',    'Li (Singapore)',    'networking:4, kubernetes:3',         'apac', 'Asia/Singapore')   AS li    \gset
SELECT agent_id, name, region, timezone, skills FROM swarm.agents ORDER BY agent_id;

\echo '== 2. Specialty groups: a global one follows the sun, regional ones serve their region'
SELECT swarm.add_group('postgres-experts', 'postgres:4, replication:3', 'global')  AS g1 \gset
SELECT swarm.add_group('network-emea',     'networking:4',              'regional', 'emea') AS g2 \gset
SELECT swarm.add_group('billing',          'billing:3',                 'regional', 'amer') AS g3 \gset
SELECT swarm.add_group_member('postgres-experts', :kenji, lead => true),
       swarm.add_group_member('postgres-experts', :dave),
       swarm.add_group_member('postgres-experts', :ana),
       swarm.add_group_member('network-emea', :omar, lead => true),
       swarm.add_group_member('billing', :maria, lead => true) \g /dev/null
SELECT g.name AS "group", g.scope, coalesce(g.region, '(all)') AS region, g.skills,
       string_agg(a.name || CASE WHEN m.lead THEN ' (lead)' ELSE '' END, ', ' ORDER BY a.agent_id) AS members
  FROM swarm.skill_groups g JOIN swarm.group_members m USING (group_id) JOIN swarm.agents a USING (agent_id)
 GROUP BY g.group_id ORDER BY g.group_id;

\echo '== 3. A P2 case arrives: replication lag after a failover (needs postgres:4, replication:3)'
SELECT swarm.open_case('T-1001', 'Replica 40 minutes behind after failover', 'P2',
                       'postgres:4, replication:3', customer_ref => 'acme', region => 'emea') AS c1 \gset
\echo '   How well does each agent match what the case needs? (swarm.match_score)'
SELECT a.name, a.skills, round(swarm.match_score(a.skills, c.needed)::numeric, 2) AS match,
       a.skills @> c.needed AS "covers all", a.skills && c.needed AS "shares a skill"
  FROM swarm.agents a, swarm.cases c WHERE c.case_id = :c1
 ORDER BY match DESC, a.agent_id;

\echo '   Routing ranks the eligible owners (swarm.route_case) and says why:'
SELECT r.agent_id, a.name, r.score, r.reasons->>'match' AS match, r.reasons->>'region' AS region,
       r.reasons->>'load' AS load, r.reasons->>'availability' AS availability
  FROM swarm.route_case(:c1, 5) WITH ORDINALITY AS r JOIN swarm.agents a USING (agent_id)
 ORDER BY r.ordinality;
\echo '   swarm.auto_assign gives the case to the best one: Ana, who matches fully and works in the case''s region.'
\echo '   She owns it for the case''s whole life.'
SELECT swarm.auto_assign(:c1) AS owner_id \gset
SELECT name AS owner FROM swarm.agents WHERE agent_id = :owner_id;
SELECT swarm.record_response(:c1) \g /dev/null

\echo '== 4. Ana is stuck on the network side and swarms: she asks network-emea for help'
SELECT swarm.request_help(:c1, 'network-emea', note => 'Is the WAN link dropping WAL traffic?') AS r1 \gset
\echo '   ...and, in the same case, asks for a second pair of eyes on replication (pull: anyone qualified)'
SELECT swarm.request_help(:c1, needed => 'replication:4', mode => 'pull') AS r2 \gset
\echo '   Helpers suggested for the network request (swarm.suggest_helpers; the owner is never one):'
SELECT s.agent_id, a.name, s.score, s.reasons
  FROM swarm.suggest_helpers(:r1, 3) WITH ORDINALITY AS s JOIN swarm.agents a USING (agent_id)
 ORDER BY s.ordinality;
SELECT request_id, coalesce(g.name, '(skills)') AS "asked", r.needed, r.priority, r.mode, r.state
  FROM swarm.collab_requests r LEFT JOIN swarm.skill_groups g USING (group_id)
 WHERE r.case_id = :c1 ORDER BY request_id;

\echo '   Ana cannot help herself:'
SELECT pg_temp.try(format('SELECT swarm.accept_request(%s, %s)', :r1, :ana)) AS "accept_request(r1, Ana)";

\echo '   Push: the network request is offered to the best helper, who accepts it.'
SELECT swarm.offer_request(:r1) AS offered_to \gset
SELECT name AS "offered to" FROM swarm.agents WHERE agent_id = :offered_to;
SELECT swarm.accept_request(:r1, :omar) \g /dev/null
\echo '   Pull: Kenji grabs the most urgent request he is qualified for (swarm.grab_request).'
SELECT swarm.grab_request(:kenji) AS "request grabbed by Kenji";
\echo '   A second acceptance of the same request is refused:'
SELECT pg_temp.try(format('SELECT swarm.accept_request(%s, %s)', :r2, :dave)) AS "accept_request(r2, Dave)";
SELECT swarm.resolve_request(:r1, 'MTU mismatch on the new WAN link; fixed') \g /dev/null

\echo '   Who swarmed on the case (helpers stay participants until it closes):'
SELECT a.name, p.role, p.left_at IS NULL AS "still on the case"
  FROM swarm.participants p JOIN swarm.agents a USING (agent_id)
 WHERE p.case_id = :c1 ORDER BY p.joined_at, a.agent_id;

\echo '== 5. Ana resolves the case and captures a knowledge article; help still under way ends with it'
SELECT swarm.resolve_case(:c1, kb_ref => 'KB-0042') \g /dev/null
SELECT swarm.close_case(:c1) \g /dev/null
SELECT request_id, state, helper_id, summary FROM swarm.collab_requests WHERE case_id = :c1 ORDER BY request_id;

\echo '== 6. A billing case lands with the wrong owner and is transferred once (a counted handoff)'
SELECT swarm.open_case('T-1002', 'Invoice shows the wrong sales tax', 'P3', 'billing:3, "sales tax":3',
                       customer_ref => 'globex', region => 'amer') AS c2 \gset
SELECT swarm.assign_case(:c2, :dave) \g /dev/null
SELECT swarm.transfer_case(:c2, :maria, 'billing specialist needed') \g /dev/null
SELECT case_id, external_ref, state, (SELECT name FROM swarm.agents WHERE agent_id = owner_id) AS owner, handoffs
  FROM swarm.cases WHERE case_id = :c2;

\echo '== 7. The audit trail: every change is an event (and a NOTIFY on swarm_events)'
SELECT e.event_id, e.kind, e.case_id, e.request_id, a.name AS agent, e.detail
  FROM swarm.events e LEFT JOIN swarm.agents a USING (agent_id)
 WHERE e.case_id IS NOT NULL ORDER BY e.event_id;

\if :rollback
ROLLBACK;
\echo '(the demo ran in one transaction and rolled back: the database is as it was)'
\quit
\endif
COMMIT;

\echo
\echo '== 8. Escalation, live: nobody takes a P1 request, and the escalation worker steps in'
\echo '   SLA for P1 on the 24x7 calendar: first response 15 min, resolution 4 h, acceptance 4 s (for the demo), request resolution 1 h.'
SELECT swarm.set_sla_policy('P1', '15 min', '4 hours', '4 seconds', '1 hour') \g /dev/null
SELECT CASE WHEN count(*) = 0 THEN swarm.start_escalator() END AS started_escalator
  FROM swarm.escalator_status WHERE database = current_database() \g /dev/null
SELECT swarm.open_case('T-1003', 'Primary down after a disk failure', 'P1', 'postgres:4', 'acme', 'emea') AS c3 \gset
SELECT swarm.assign_case(:c3, :ana) \g /dev/null
SELECT swarm.request_help(:c3, 'network-emea', note => 'Storage network?') AS r3 \gset
\echo '   The default ladder: at risk (75% of 4 s) renotify; breached widen and notify leads; at 150% raise priority.'
SELECT level, at_fraction, actions FROM swarm.ladder_for('P1', NULL);
LISTEN swarm_escalations;
\echo '   Waiting 7 seconds; each escalation arrives as a NOTIFY on swarm_escalations:'
SELECT pg_sleep(7) \g /dev/null
SELECT e.level, e.actions, round(extract(epoch FROM e.escalated_at - e.due_at) * 1000) AS "lag (ms)",
       ev.detail - 'level' - 'actions' - 'due_at' AS effect
  FROM swarm.escalations e
  JOIN swarm.events ev ON ev.request_id = e.request_id AND ev.kind = 'request_escalated'
                      AND (ev.detail ->> 'level')::int = e.level
 WHERE e.request_id = :r3 ORDER BY e.level;
SELECT pid, state, escalations, round(last_lag_ms::numeric, 1) AS "last lag (ms)" FROM swarm.escalator_status
 WHERE database = current_database();
SELECT swarm.stop_escalator() \g /dev/null
