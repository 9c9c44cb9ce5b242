-- The lifecycle API contract: signatures, error paths with their SQLSTATEs,
-- and that a refused call changes nothing.
\set ON_ERROR_STOP 1
\set QUIET 1
SET client_min_messages = warning;
BEGIN;
DROP EXTENSION IF EXISTS swarm CASCADE;
CREATE EXTENSION swarm;
CREATE EXTENSION IF NOT EXISTS pgtap;
SELECT * FROM no_plan();

-- Structure ------------------------------------------------------------------
SELECT has_schema('swarm');
SELECT has_type('swarm', 'skillset', 'the skillset type');
SELECT enum_has_labels('swarm', 'priority', ARRAY['P1', 'P2', 'P3', 'P4']);
SELECT enum_has_labels('swarm', 'case_state', ARRAY['new', 'open', 'pending', 'resolved', 'closed']);
SELECT enum_has_labels('swarm', 'request_state', ARRAY['open', 'offered', 'accepted', 'resolved', 'cancelled']);
SELECT enum_has_labels('swarm', 'presence', ARRAY['online', 'away', 'offline']);
SELECT has_table('swarm', t, 'table swarm.' || t)
  FROM unnest(ARRAY['agents', 'skill_groups', 'group_members', 'cases', 'collab_requests',
                    'request_declines', 'participants', 'events']) AS t;
SELECT has_column('swarm', 'agents', c, 'agents.' || c)
  FROM unnest(ARRAY['agent_id', 'external_ref', 'skills', 'region', 'timezone', 'capacity', 'help_capacity',
                    'presence', 'active']) AS c;
SELECT has_column('swarm', 'cases', c, 'cases.' || c)
  FROM unnest(ARRAY['case_id', 'external_ref', 'needed', 'owner_id', 'state', 'priority', 'handoffs', 'opened_at',
                    'first_response_at', 'resolved_at', 'closed_at', 'customer_ref', 'region', 'kb_ref']) AS c;
SELECT has_column('swarm', 'collab_requests', c, 'collab_requests.' || c)
  FROM unnest(ARRAY['request_id', 'case_id', 'group_id', 'needed', 'helper_id', 'state', 'priority', 'created_at',
                    'accepted_at', 'resolved_at', 'requester_id', 'preferred_id', 'mode', 'escalation_level']) AS c;
SELECT has_column('swarm', 'skill_groups', c, 'skill_groups.' || c)
  FROM unnest(ARRAY['group_id', 'name', 'skills', 'scope', 'region']) AS c;

SELECT has_function('swarm', f, 'function swarm.' || f)
  FROM unnest(ARRAY['add_agent', 'update_agent', 'set_presence', 'add_group', 'add_group_member',
                    'remove_group_member', 'open_case', 'assign_case', 'transfer_case', 'record_response',
                    'request_help', 'accept_request', 'decline_request', 'resolve_request', 'cancel_request',
                    'resolve_case', 'reopen_case', 'close_case']) AS f;
SELECT function_returns('swarm', 'add_agent', ARRAY['text', 'text', 'swarm.skillset', 'text', 'text', 'integer'], 'bigint');
SELECT function_returns('swarm', 'open_case', ARRAY['text', 'text', 'swarm.priority', 'swarm.skillset', 'text', 'text', 'text'], 'bigint');
SELECT function_returns('swarm', 'request_help',
    ARRAY['bigint', 'text', 'swarm.skillset', 'text', 'swarm.priority', 'text', 'bigint'], 'bigint');

-- Every SQL-language function pins search_path; the lifecycle functions are volatile.
SELECT is(count(*), 0::bigint, 'every plpgsql/sql function in swarm pins search_path')
  FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace JOIN pg_language l ON l.oid = p.prolang
 WHERE n.nspname = 'swarm' AND l.lanname IN ('plpgsql', 'sql')
   AND NOT coalesce(EXISTS (SELECT 1 FROM unnest(p.proconfig) c WHERE c LIKE 'search_path=%'), false);
SELECT volatility_is('swarm', f, 'volatile', f || ' is volatile')
  FROM unnest(ARRAY['add_agent', 'open_case', 'assign_case', 'request_help', 'accept_request', 'resolve_case']) AS f;
SELECT is(count(*), 0::bigint, 'every swarm table and function has a comment')
  FROM (SELECT c.oid FROM pg_class c WHERE c.relnamespace = 'swarm'::regnamespace AND c.relkind = 'r'
           AND obj_description(c.oid, 'pg_class') IS NULL
        UNION ALL
        SELECT p.oid FROM pg_proc p WHERE p.pronamespace = 'swarm'::regnamespace
           AND obj_description(p.oid, 'pg_proc') IS NULL) AS missing;

-- No swarm table is writable by PUBLIC.
SELECT ok(NOT has_table_privilege('public', format('swarm.%I', t), 'INSERT, UPDATE, DELETE, TRUNCATE'),
          'PUBLIC cannot write swarm.' || t)
  FROM unnest(ARRAY['agents', 'skill_groups', 'group_members', 'cases', 'collab_requests',
                    'request_declines', 'participants', 'events']) AS t;

-- Every table and sequence is registered for pg_dump.
SELECT is((SELECT count(*) FROM unnest((SELECT extconfig FROM pg_extension WHERE extname = 'swarm'))),
          (SELECT count(*) FROM pg_class WHERE relnamespace = 'swarm'::regnamespace AND relkind IN ('r', 'S')),
          'every swarm table and sequence is in extconfig');

-- Fixture -------------------------------------------------------------------------
SELECT lives_ok($$SELECT swarm.add_agent('u1', 'Ana', 'pg:5', 'emea', 'Europe/Lisbon', 1)$$, 'add_agent');      -- 1
SELECT lives_ok($$SELECT swarm.add_agent('u2', 'Bo', 'pg:3, net:4')$$, 'add_agent with defaults');              -- 2
SELECT lives_ok($$SELECT swarm.add_agent('u3', 'Cy', 'net:4')$$, 'add_agent');                                   -- 3
SELECT lives_ok($$SELECT swarm.add_group('pg', 'pg:3', 'global')$$, 'add_group global');
SELECT lives_ok($$SELECT swarm.add_group('net', 'net:3', 'regional', 'emea')$$, 'add_group regional');
SELECT lives_ok($$SELECT swarm.open_case('T-1', 'one', 'P2', 'pg:3')$$, 'open_case');                           -- case 1
SELECT lives_ok($$SELECT swarm.open_case('T-2', 'two', 'P3', 'pg:3')$$, 'open_case');                           -- case 2

-- Agents --------------------------------------------------------------------------
SELECT throws_ok($$SELECT swarm.add_agent('u1', 'Dup', 'pg:1')$$, '23505',
                 'agent with external_ref "u1" already exists', 'duplicate agent external_ref');
SELECT throws_ok($$SELECT swarm.add_agent(NULL, 'X', 'pg:1')$$, '22004', 'external_ref must not be null', 'null external_ref');
SELECT throws_ok($$SELECT swarm.add_agent(' ', 'X', 'pg:1')$$, '22023', 'external_ref must not be empty', 'blank external_ref');
SELECT throws_ok($$SELECT swarm.add_agent('u9', NULL, 'pg:1')$$, '22004', 'name must not be null', 'null name');
SELECT throws_ok($$SELECT swarm.add_agent('u9', 'X', NULL)$$, '22004', 'skills must not be null', 'null skills');
SELECT throws_ok($$SELECT swarm.add_agent('u9', 'X', 'pg:1', 'emea', 'Mars/Olympus')$$, '22023',
                 'time zone "Mars/Olympus" not recognized', 'invalid time zone');
SELECT throws_ok($$SELECT swarm.add_agent('u9', 'X', 'pg:1', 'emea', 'UTC+3')$$, '22023',
                 'time zone "UTC+3" not recognized', 'POSIX offset time zone');
SELECT lives_ok($$SELECT swarm.add_agent('u8', 'Lower', 'pg:1', 'emea', 'europe/berlin')$$, 'lower-case IANA name');
SELECT is((SELECT timezone FROM swarm.agents WHERE external_ref = 'u8'), 'Europe/Berlin', 'time zones are stored canonically');
DELETE FROM swarm.agents WHERE external_ref = 'u8';
SELECT throws_ok($$SELECT swarm.add_agent('u9', 'X', 'pg:1', 'emea', 'UTC', -1)$$, '22023',
                 'capacity must not be negative: -1', 'negative capacity');
SELECT throws_ok($$SELECT swarm.add_agent('u9', 'X', 'pg:9')$$, '22P02', NULL, 'invalid skillset literal');
SELECT throws_ok($$SELECT swarm.set_presence(1, 'busy')$$, '22023', 'invalid presence "busy" for agent 1', 'invalid presence');
SELECT throws_ok($$SELECT swarm.set_presence(99, 'away')$$, '42704', 'agent 99 does not exist', 'presence of unknown agent');
SELECT throws_ok($$SELECT swarm.set_presence(NULL, 'away')$$, '22004', 'agent must not be null', 'presence of null agent');
SELECT throws_ok($$SELECT swarm.update_agent(99, name => 'x')$$, '42704', 'agent 99 does not exist', 'update unknown agent');
SELECT throws_ok($$SELECT swarm.update_agent(1, timezone => 'Nowhere')$$, '22023',
                 'time zone "Nowhere" not recognized', 'update with invalid time zone');
SELECT throws_ok($$SELECT swarm.update_agent(1, help_capacity => -2)$$, '22023',
                 'capacity must not be negative: -2', 'update with negative help capacity');
SELECT is((SELECT count(*) FROM swarm.agents), 3::bigint, 'refused agent calls added nothing');

-- Groups --------------------------------------------------------------------------
SELECT throws_ok($$SELECT swarm.add_group('pg', 'pg:1')$$, '23505', 'group "pg" already exists', 'duplicate group');
SELECT throws_ok($$SELECT swarm.add_group('x', 'pg:1', 'galactic')$$, '22023', 'invalid scope "galactic" for group "x"', 'bad scope');
SELECT throws_ok($$SELECT swarm.add_group('x', 'pg:1', 'global', 'emea')$$, '22023',
                 'global group "x" cannot have a region', 'global group with a region');
SELECT throws_ok($$SELECT swarm.add_group_member('nope', 1)$$, '42704', 'group "nope" does not exist', 'member of unknown group');
SELECT throws_ok($$SELECT swarm.add_group_member('pg', 99)$$, '42704', 'agent 99 does not exist', 'unknown member');
SELECT throws_ok($$SELECT swarm.remove_group_member('pg', 1)$$, '42704', 'agent 1 is not a member of group "pg"', 'remove non-member');

-- Cases ---------------------------------------------------------------------------
SELECT throws_ok($$SELECT swarm.open_case('T-1', 'dup', 'P1', '')$$, '23505',
                 'case with external_ref "T-1" already exists', 'duplicate case external_ref');
SELECT throws_ok($$SELECT swarm.open_case('T-9', 'x', NULL, '')$$, '22004', 'priority must not be null', 'null priority');
SELECT throws_ok($$SELECT swarm.open_case('T-9', '', 'P1', '')$$, '22023', 'subject must not be empty', 'empty subject');
SELECT throws_ok($$SELECT swarm.open_case('T-9', 'x', 'P5', '')$$, '22P02', NULL, 'unknown priority');
SELECT throws_ok($$SELECT swarm.open_case('T-9', 'x', 'P1', NULL)$$, '22004', 'needed must not be null', 'null needed');
SELECT throws_ok($$SELECT swarm.assign_case(99, 1)$$, '42704', 'case 99 does not exist', 'assign unknown case');
SELECT throws_ok($$SELECT swarm.assign_case(1, 99)$$, '42704', 'agent 99 does not exist', 'assign to unknown agent');
SELECT throws_ok($$SELECT swarm.assign_case(NULL, 1)$$, '22004', 'case_id must not be null', 'assign null case');
SELECT throws_ok($$SELECT swarm.request_help(1, 'pg')$$, '55000', 'cannot request help on case 1: it has no owner',
                 'request help on an unowned case');
SELECT throws_ok($$SELECT swarm.transfer_case(1, 2, 'why')$$, '55000', 'cannot transfer case 1: it has no owner',
                 'transfer an unowned case');
SELECT throws_ok($$SELECT swarm.resolve_case(1)$$, '55000', 'cannot resolve case 1: it has no owner', 'resolve an unowned case');
SELECT lives_ok($$SELECT swarm.assign_case(1, 1)$$, 'assign case 1 to agent 1');
SELECT throws_ok($$SELECT swarm.assign_case(1, 2)$$, '55000', 'case 1 already has an owner', 'assign an owned case');
SELECT throws_ok($$SELECT swarm.assign_case(2, 1)$$, '53400', 'agent 1 is at capacity', 'assign beyond capacity');
SELECT throws_ok($$SELECT swarm.transfer_case(1, 1, 'why')$$, '22023', 'agent 1 already owns case 1', 'transfer to the owner');
SELECT throws_ok($$SELECT swarm.transfer_case(1, 2, NULL)$$, '22004', 'reason must not be null', 'transfer without a reason');
SELECT throws_ok($$SELECT swarm.transfer_case(1, 2, '')$$, '22023', 'reason must not be empty', 'transfer with an empty reason');
SELECT lives_ok($$SELECT swarm.update_agent(3, active => false)$$, 'deactivate agent 3');
SELECT throws_ok($$SELECT swarm.transfer_case(1, 3, 'why')$$, '55000', 'agent 3 is not active', 'transfer to an inactive agent');
SELECT throws_ok($$SELECT swarm.assign_case(2, 3)$$, '55000', 'agent 3 is not active', 'assign to an inactive agent');
SELECT lives_ok($$SELECT swarm.update_agent(3, active => true)$$, 'reactivate agent 3');
SELECT throws_ok($$SELECT swarm.reopen_case(1)$$, '55000', 'cannot reopen case 1: it is open', 'reopen an open case');
SELECT throws_ok($$SELECT swarm.close_case(1)$$, '55000', 'cannot close case 1: it is open', 'close an open case');
SELECT throws_ok($$SELECT swarm.record_response(99)$$, '42704', 'case 99 does not exist', 'respond to unknown case');
SELECT throws_ok($$SELECT swarm.record_response(1, now() - interval '1 day')$$, '22023', NULL, 'a response before the case opened');
SELECT is((SELECT handoffs FROM swarm.cases WHERE case_id = 1), 0, 'refused transfers counted no handoff');

-- Requests ------------------------------------------------------------------------
SELECT throws_ok($$SELECT swarm.request_help(1)$$, '22023', 'a request for help on case 1 needs a group or needed skills',
                 'request without group or skills');
SELECT throws_ok($$SELECT swarm.request_help(1, needed => '')$$, '22023',
                 'a request for help on case 1 needs a group or needed skills', 'request with empty skills');
SELECT throws_ok($$SELECT swarm.request_help(1, 'nope')$$, '42704', 'group "nope" does not exist', 'request to unknown group');
SELECT throws_ok($$SELECT swarm.request_help(1, 'pg', mode => 'shout')$$, '22023',
                 'invalid mode "shout" for a request on case 1', 'bad mode');
SELECT throws_ok($$SELECT swarm.request_help(1, 'pg', preferred => 99)$$, '42704', 'agent 99 does not exist', 'unknown preferred');
SELECT throws_ok($$SELECT swarm.request_help(1, 'pg', preferred => 1)$$, '22023',
                 'agent 1 owns case 1 and cannot be its own preferred helper', 'owner as preferred helper');
SELECT throws_ok($$SELECT swarm.request_help(99, 'pg')$$, '42704', 'case 99 does not exist', 'request on unknown case');
SELECT lives_ok($$SELECT swarm.request_help(1, 'pg')$$, 'request 1 to group pg');
SELECT throws_ok($$SELECT swarm.request_help(1, 'pg')$$, '23505',
                 'case 1 already has an active request for this specialty', 'second active request to the same group');
SELECT lives_ok($$SELECT swarm.request_help(1, needed => 'net:3')$$, 'request 2 by skills');
SELECT throws_ok($$SELECT swarm.request_help(1, needed => 'net:3')$$, '23505',
                 'case 1 already has an active request for this specialty', 'second active request for the same skills');
SELECT throws_ok($$SELECT swarm.accept_request(1, 1)$$, '22023', 'agent 1 owns case 1 and cannot accept its own request 1',
                 'owner accepts its own request');
SELECT throws_ok($$SELECT swarm.accept_request(99, 2)$$, '42704', 'request 99 does not exist', 'accept unknown request');
SELECT throws_ok($$SELECT swarm.accept_request(1, 99)$$, '42704', 'agent 99 does not exist', 'accept by unknown agent');
SELECT throws_ok($$SELECT swarm.resolve_request(1)$$, '55000', 'cannot resolve request 1: it is open', 'resolve an open request');
SELECT throws_ok($$SELECT swarm.decline_request(1, 1)$$, '22023', 'agent 1 owns case 1 and cannot decline its request 1',
                 'owner declines its own request');
SELECT lives_ok($$SELECT swarm.decline_request(1, 3, 'busy')$$, 'agent 3 declines request 1');
SELECT throws_ok($$SELECT swarm.decline_request(1, 3)$$, '23505', 'agent 3 has already declined request 1', 'decline twice');
SELECT lives_ok($$SELECT swarm.update_agent(2, help_capacity => 1)$$, 'agent 2 may help on one request');
SELECT lives_ok($$SELECT swarm.accept_request(1, 2)$$, 'agent 2 accepts request 1');
SELECT throws_ok($$SELECT swarm.transfer_case(1, 2, 'x')$$, '55000', 'agent 2 is helping on case 1 and cannot become its owner',
                 'transfer to an agent helping on the case');
SELECT throws_ok($$SELECT swarm.accept_request(1, 3)$$, '55000', 'request 1 is already accepted by agent 2', 'accept twice');
SELECT throws_ok($$SELECT swarm.accept_request(2, 2)$$, '53400', 'agent 2 is at help capacity', 'accept beyond help capacity');
SELECT throws_ok($$SELECT swarm.decline_request(1, 3)$$, '55000', 'cannot decline request 1: it is accepted',
                 'decline an accepted request');
SELECT lives_ok($$SELECT swarm.resolve_request(1, 'done')$$, 'resolve request 1');
SELECT throws_ok($$SELECT swarm.cancel_request(1)$$, '55000', 'cannot cancel request 1: it is resolved', 'cancel a resolved request');
SELECT throws_ok($$SELECT swarm.resolve_request(1)$$, '55000', 'cannot resolve request 1: it is resolved', 'resolve twice');
SELECT lives_ok($$SELECT swarm.cancel_request(2, 'not needed')$$, 'cancel request 2');
SELECT throws_ok($$SELECT swarm.accept_request(2, 3)$$, '55000', 'cannot accept request 2: it is cancelled',
                 'accept a cancelled request');
SELECT is((SELECT count(*) FROM swarm.participants WHERE role = 'helper'), 1::bigint, 'only the accepted helper joined');

-- Offered requests are reserved for the agent they are offered to.
SELECT lives_ok($$SELECT swarm.request_help(1, 'net')$$, 'request 3 to group net');
UPDATE swarm.collab_requests SET state = 'offered', offered_to = 3, offered_at = now() WHERE request_id = 3;
SELECT lives_ok($$SELECT swarm.update_agent(2, help_capacity => 3)$$, 'agent 2 may help more');
SELECT throws_ok($$SELECT swarm.accept_request(3, 2)$$, '55000', 'request 3 is offered to agent 3, not to agent 2',
                 'accept a request offered to someone else');
SELECT lives_ok($$SELECT swarm.decline_request(3, 3, 'busy')$$, 'the offered agent declines');
SELECT is((SELECT state::text || coalesce(offered_to::text, '-') FROM swarm.collab_requests WHERE request_id = 3), 'open-',
          'a declined offer reopens the request');
SELECT lives_ok($$SELECT swarm.accept_request(3, 2)$$, 'anyone qualified can now accept it');

-- Resolve, reopen, close -------------------------------------------------------------
SELECT lives_ok($$SELECT swarm.resolve_case(1, 'KB-1')$$, 'resolve case 1');
SELECT throws_ok($$SELECT swarm.resolve_case(1)$$, '55000', 'cannot resolve case 1: it is resolved', 'resolve twice');
SELECT throws_ok($$SELECT swarm.request_help(1, 'pg')$$, '55000', 'cannot request help on case 1: it is resolved',
                 'request help on a resolved case');
SELECT throws_ok($$SELECT swarm.transfer_case(1, 2, 'x')$$, '55000', 'cannot transfer case 1: it is resolved',
                 'transfer a resolved case');
SELECT lives_ok($$SELECT swarm.close_case(1)$$, 'close case 1');
SELECT throws_ok($$SELECT swarm.reopen_case(1)$$, '55000', 'cannot reopen case 1: it is closed', 'reopen a closed case');
SELECT throws_ok($$SELECT swarm.close_case(1)$$, '55000', 'cannot close case 1: it is closed', 'close twice');
SELECT throws_ok($$SELECT swarm.record_response(1)$$, '55000', 'cannot respond to case 1: it is closed', 'respond to a closed case');

-- The audit trail --------------------------------------------------------------------
SELECT throws_ok($$UPDATE swarm.events SET kind = 'x'$$, '55000', 'swarm.events is append-only', 'events refuse UPDATE');
SELECT throws_ok($$DELETE FROM swarm.events$$, '55000', 'swarm.events is append-only', 'events refuse DELETE');
SELECT throws_ok($$TRUNCATE swarm.events$$, '55000', 'swarm.events is append-only', 'events refuse TRUNCATE');
SELECT is((SELECT count(*) FROM swarm.events WHERE kind = 'request_accepted'), 2::bigint, 'one event per acceptance');
SELECT is((SELECT count(*) FROM swarm.events WHERE kind = 'case_opened'), 2::bigint, 'one event per opened case');

-- Notifications: swarm.notify_event checks what NOTIFY checks ----------------------
SELECT has_function('swarm', 'notify_event', ARRAY['text', 'text'], 'notify_event(channel, payload) exists');
SELECT lives_ok($$SELECT swarm.notify_event('swarm_events', '{"kind": "test"}')$$, 'a channel and a payload are accepted');
SELECT throws_ok($$SELECT swarm.notify_event('', 'x')$$, '22023', 'channel name cannot be empty', 'an empty channel is refused');
SELECT throws_ok($$SELECT swarm.notify_event(repeat('c', 64), 'x')$$, '22023', 'channel name too long',
                 'a channel of 64 bytes is refused');
SELECT lives_ok($$SELECT swarm.notify_event(repeat('c', 63), 'x')$$, 'a channel of 63 bytes is accepted');
SELECT throws_ok($$SELECT swarm.notify_event('c', repeat('p', 8000))$$, '22023', 'payload string too long',
                 'a payload of 8000 bytes is refused');
SELECT lives_ok($$SELECT swarm.notify_event('c', repeat('p', 7999))$$, 'a payload of 7999 bytes is accepted');
SELECT is((SELECT swarm.notify_event(NULL, 'x')) IS NULL, true, 'STRICT: a NULL channel sends nothing');
SELECT has_view('swarm', 'event_relay_status', 'event_relay_status exists');
SELECT is((SELECT count(*) FROM swarm.event_relay_status), 1::bigint, 'event_relay_status has one row');

SELECT * FROM finish();
ROLLBACK;
