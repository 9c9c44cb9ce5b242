-- The calendar and SLA API contract: signatures, volatility, every error path
-- with its SQLSTATE and message, and that a refused call changes nothing.
\set ON_ERROR_STOP 1
\set QUIET 1
SET client_min_messages = warning;
BEGIN;
DROP EXTENSION IF EXISTS swarm CASCADE;
CREATE EXTENSION swarm;
CREATE EXTENSION IF NOT EXISTS pgtap;
SET LOCAL TimeZone = 'UTC';
SELECT * FROM no_plan();

-- Structure ------------------------------------------------------------------
SELECT has_table('swarm', t, 'table swarm.' || t) FROM unnest(ARRAY['calendars', 'sla_policies', 'sla_pauses']) AS t;
SELECT has_column('swarm', 'cases', c, 'cases.' || c)
  FROM unnest(ARRAY['customer_tier', 'sla_policy_id', 'first_response_due', 'first_response_risk_at',
                    'resolution_due', 'resolution_risk_at']) AS c;
SELECT has_column('swarm', 'collab_requests', c, 'collab_requests.' || c)
  FROM unnest(ARRAY['sla_policy_id', 'accept_due', 'accept_risk_at', 'resolution_due', 'resolution_risk_at']) AS c;
SELECT has_column('swarm', 'agents', 'calendar_id', 'agents.calendar_id');
SELECT has_index('swarm', 'cases', i, 'index ' || i)
  FROM unnest(ARRAY['cases_first_response_risk_idx', 'cases_resolution_risk_idx']) AS i;
SELECT has_index('swarm', 'collab_requests', i, 'index ' || i)
  FROM unnest(ARRAY['collab_requests_accept_risk_idx', 'collab_requests_resolution_risk_idx']) AS i;
SELECT is((SELECT count(*) FROM swarm.calendars WHERE name = '24x7' AND timezone = 'UTC'), 1::bigint,
          'the built-in 24x7 calendar exists');

-- Signatures -------------------------------------------------------------------
SELECT function_returns('swarm', 'add_calendar', ARRAY['text', 'text', 'jsonb', 'date[]'], 'bigint');
SELECT function_returns('swarm', 'set_calendar_hours', ARRAY['text', 'jsonb'], 'void');
SELECT function_returns('swarm', 'set_calendar_timezone', ARRAY['text', 'text'], 'void');
SELECT function_returns('swarm', 'add_holiday', ARRAY['text', 'date'], 'void');
SELECT function_returns('swarm', 'remove_holiday', ARRAY['text', 'date'], 'void');
SELECT function_returns('swarm', 'add_yearly_holiday', ARRAY['text', 'integer', 'integer'], 'void');
SELECT function_returns('swarm', 'remove_yearly_holiday', ARRAY['text', 'integer', 'integer'], 'void');
SELECT function_returns('swarm', 'business_add', ARRAY['timestamp with time zone', 'interval', 'text'],
                        'timestamp with time zone');
SELECT function_returns('swarm', 'business_time', ARRAY['timestamp with time zone', 'timestamp with time zone', 'text'],
                        'interval');
SELECT function_returns('swarm', 'set_sla_policy',
    ARRAY['swarm.priority', 'interval', 'interval', 'interval', 'interval', 'text', 'text', 'text'], 'bigint');
SELECT function_returns('swarm', 'set_case_priority', ARRAY['bigint', 'swarm.priority'], 'void');
SELECT function_returns('swarm', 'set_request_priority', ARRAY['bigint', 'swarm.priority'], 'void');
SELECT function_returns('swarm', 'set_customer_tier', ARRAY['bigint', 'text'], 'void');
SELECT function_returns('swarm', 'pause_sla', ARRAY['bigint', 'text'], 'void');
SELECT function_returns('swarm', 'resume_sla', ARRAY['bigint'], 'void');
SELECT function_returns('swarm', 'sla_status', ARRAY['bigint'], 'setof record');
SELECT function_returns('swarm', 'request_sla_status', ARRAY['bigint'], 'setof record');
SELECT function_returns('swarm', 'sla_due', ARRAY['timestamp with time zone', 'integer'], 'setof record');
SELECT function_returns('swarm', 'set_agent_calendar', ARRAY['bigint', 'text'], 'void');
-- argument names and defaults, and the columns of the table functions
SELECT is(pg_get_function_arguments(p.oid), args, 'arguments of swarm.' || p.proname)
  FROM pg_proc AS p JOIN (VALUES
    ('add_calendar', 'name text, timezone text, hours jsonb, holidays date[] DEFAULT ''{}''::date[]'),
    ('business_add', 'start timestamp with time zone, amount interval, calendar text'),
    ('business_time', 'from_ts timestamp with time zone, to_ts timestamp with time zone, calendar text'),
    ('set_sla_policy', 'priority swarm.priority, first_response interval, resolution interval, accept interval, '
                       'request_resolution interval, calendar text DEFAULT ''24x7''::text, group_name text DEFAULT NULL::text, '
                       'customer_tier text DEFAULT NULL::text'),
    ('pause_sla', 'case_id bigint, reason text'),
    ('sla_due', 'before timestamp with time zone DEFAULT now(), max integer DEFAULT 1000'),
    ('set_agent_calendar', 'agent bigint, calendar text')) AS t (name, args) ON p.proname = t.name
 WHERE p.pronamespace = 'swarm'::regnamespace;
SELECT is(pg_get_function_result(('swarm.' || f)::regproc), cols, 'result of swarm.' || f)
  FROM (VALUES
    ('sla_status', 'TABLE(target text, due_at timestamp with time zone, state text, elapsed interval, remaining interval)'),
    ('request_sla_status', 'TABLE(target text, due_at timestamp with time zone, state text, elapsed interval, remaining interval)'),
    ('sla_due', 'TABLE(kind text, id bigint, case_id bigint, target text, due_at timestamp with time zone, '
                'risk_at timestamp with time zone, state text)')) AS t (f, cols);

-- Volatility: the arithmetic and the checks are stable, every change is volatile
SELECT volatility_is('swarm', f, 'stable', f || ' is stable')
  FROM unnest(ARRAY['business_add', 'business_time', 'sla_status', 'request_sla_status', 'sla_due']) AS f;
SELECT volatility_is('swarm', f, 'volatile', f || ' is volatile')
  FROM unnest(ARRAY['add_calendar', 'set_calendar_hours', 'set_calendar_timezone', 'add_holiday', 'remove_holiday',
                    'add_yearly_holiday', 'remove_yearly_holiday', 'set_sla_policy', 'set_case_priority',
                    'set_request_priority', 'set_customer_tier', 'pause_sla', 'resume_sla', 'set_agent_calendar']) AS f;
SELECT is_strict('swarm', f, ARRAY['timestamp with time zone', t, 'text'], f || ' is strict')
  FROM (VALUES ('business_add', 'interval'), ('business_time', 'timestamp with time zone')) AS v (f, t);
SELECT is(swarm.business_add(NULL, '1 hour', '24x7'), NULL, 'business_add of NULL is NULL');
SELECT is(swarm.business_time(now(), NULL, '24x7'), NULL, 'business_time of NULL is NULL');
-- (the metrics window functions are the exception: see test/pgtap/metrics_api.sql)
SELECT is((SELECT count(*) FROM pg_proc WHERE pronamespace = 'swarm'::regnamespace AND prosecdef
            AND proname NOT IN ('metrics_daily', 'metrics_requests', 'metrics_agents', 'metrics_sla',
                                'metrics_regions', 'metrics_knowledge', 'metrics_handoffs')), 0::bigint,
          'no SECURITY DEFINER function but the metrics window functions');
SELECT ok(NOT has_table_privilege('public', format('swarm.%I', t), 'INSERT, UPDATE, DELETE, TRUNCATE'),
          'PUBLIC cannot write swarm.' || t)
  FROM unnest(ARRAY['calendars', 'sla_policies', 'sla_pauses']) AS t;
SELECT ok(EXISTS (SELECT 1 FROM unnest((SELECT extconfig FROM pg_extension WHERE extname = 'swarm')) AS c
                   WHERE c = ('swarm.' || t)::regclass), 'swarm.' || t || ' is dumped')
  FROM unnest(ARRAY['calendars', 'sla_policies', 'sla_pauses']) AS t;

-- Fixture -------------------------------------------------------------------------
SELECT lives_ok($$SELECT swarm.add_calendar('office', 'Europe/Berlin', '{"mon": [["09:00","17:00"]], "tue": [["09:00","17:00"]]}')$$,
                'add_calendar');
SELECT lives_ok($$SELECT swarm.add_holiday('office', '2026-12-24')$$, 'add_holiday');
SELECT lives_ok($$SELECT swarm.add_yearly_holiday('office', 12, 25)$$, 'add_yearly_holiday');
SELECT lives_ok($$SELECT swarm.add_yearly_holiday('office', 2, 29)$$, 'Feb 29 is a valid yearly holiday');
SELECT lives_ok($$SELECT swarm.add_agent('u1', 'Ana', 'pg:5')$$, 'add_agent');                                  -- 1
SELECT lives_ok($$SELECT swarm.add_agent('u2', 'Bo', 'pg:4')$$, 'add_agent');                                   -- 2
SELECT lives_ok($$SELECT swarm.add_group('pg', 'pg:3', 'global')$$, 'add_group');
SELECT lives_ok($$SELECT swarm.set_sla_policy('P2', '4 hours', '2 days', '1 hour', '1 day')$$, 'set_sla_policy on 24x7');
SELECT lives_ok($$SELECT swarm.set_sla_policy('P3', '8 hours', '5 days', '8 hours', '3 days', 'office', 'pg', 'gold')$$,
                'set_sla_policy with calendar, group and tier');
SELECT lives_ok($$SELECT swarm.open_case('T-1', 'one', 'P2', 'pg:3')$$, 'open_case');                           -- case 1
SELECT lives_ok($$SELECT swarm.open_case('T-2', 'two', 'P2', 'pg:3', customer_tier => 'gold')$$, 'open_case');  -- case 2
SELECT is((SELECT sla_policy_id FROM swarm.cases WHERE case_id = 1), 1::bigint, 'case 1 has the P2 policy');
SELECT ok((SELECT first_response_due = opened_at + interval '4 hours' AND resolution_due = opened_at + interval '2 days'
                  AND first_response_risk_at = opened_at + interval '3 hours'
                  AND resolution_risk_at = opened_at + interval '36 hours'
             FROM swarm.cases WHERE case_id = 1), 'due and at-risk times set when a case opens');

-- Calendars -----------------------------------------------------------------------
SELECT throws_ok($$SELECT swarm.business_add(now(), '1 hour', 'nope')$$, '42704', 'calendar "nope" does not exist',
                 'business_add on an unknown calendar');
SELECT throws_ok($$SELECT swarm.business_time(now(), now(), 'nope')$$, '42704', 'calendar "nope" does not exist',
                 'business_time on an unknown calendar');
SELECT throws_ok($$SELECT swarm.set_calendar_hours('nope', '{"mon": [["09:00","17:00"]]}')$$, '42704',
                 'calendar "nope" does not exist', 'set_calendar_hours of an unknown calendar');
SELECT throws_ok($$SELECT swarm.set_calendar_timezone('nope', 'UTC')$$, '42704', 'calendar "nope" does not exist',
                 'set_calendar_timezone of an unknown calendar');
SELECT throws_ok($$SELECT swarm.add_holiday('nope', '2026-12-24')$$, '42704', 'calendar "nope" does not exist',
                 'add_holiday to an unknown calendar');
SELECT throws_ok($$SELECT swarm.remove_holiday('nope', '2026-12-24')$$, '42704', 'calendar "nope" does not exist',
                 'remove_holiday from an unknown calendar');
SELECT throws_ok($$SELECT swarm.add_yearly_holiday('nope', 12, 25)$$, '42704', 'calendar "nope" does not exist',
                 'add_yearly_holiday to an unknown calendar');
SELECT throws_ok($$SELECT swarm.remove_yearly_holiday('nope', 12, 25)$$, '42704', 'calendar "nope" does not exist',
                 'remove_yearly_holiday from an unknown calendar');
SELECT throws_ok($$SELECT swarm.set_sla_policy('P1', '1 hour', '1 day', '1 hour', '1 day', 'nope')$$, '42704',
                 'calendar "nope" does not exist', 'a policy on an unknown calendar');
SELECT throws_ok($$SELECT swarm.set_agent_calendar(1, 'nope')$$, '42704', 'calendar "nope" does not exist',
                 'an agent on an unknown calendar');
SELECT throws_ok($$SELECT swarm.set_agent_calendar(99, 'office')$$, '42704', 'agent 99 does not exist',
                 'the calendar of an unknown agent');
-- time zones
SELECT throws_ok($$SELECT swarm.add_calendar('x', 'Mars/Olympus', '{"mon": [["09:00","17:00"]]}')$$, '22023',
                 'time zone "Mars/Olympus" not recognized', 'add_calendar with an invalid time zone');
SELECT throws_ok($$SELECT swarm.add_calendar('x', 'UTC+3', '{"mon": [["09:00","17:00"]]}')$$, '22023',
                 'time zone "UTC+3" not recognized', 'add_calendar with a POSIX offset');
SELECT throws_ok($$SELECT swarm.set_calendar_timezone('office', 'Nowhere')$$, '22023',
                 'time zone "Nowhere" not recognized', 'set_calendar_timezone to an invalid time zone');
SELECT throws_ok($$SELECT swarm.add_calendar('x', NULL, '{"mon": [["09:00","17:00"]]}')$$, '22004',
                 'timezone must not be null', 'add_calendar without a time zone');
SELECT lives_ok($$SELECT swarm.add_calendar('lower', 'europe/berlin', '{"mon": [["09:00","17:00"]]}')$$,
                'a lower-case IANA name');
SELECT is((SELECT timezone FROM swarm.calendars WHERE name = 'lower'), 'Europe/Berlin', 'calendar time zones are canonical');
-- hours
SELECT throws_ok($$SELECT swarm.add_calendar('x', 'UTC', '{"mon": [["09:00","12:00"],["11:00","13:00"]]}')$$, '22023',
                 'segments of "mon" in calendar "x" overlap', 'overlapping segments');
SELECT throws_ok($$SELECT swarm.set_calendar_hours('office', '{"tue": [["13:00","17:00"],["09:00","13:30"]]}')$$, '22023',
                 'segments of "tue" in calendar "office" overlap', 'overlapping segments in set_calendar_hours');
SELECT throws_ok($$SELECT swarm.add_calendar('x', 'UTC', '{"mon": [["17:00","09:00"]]}')$$, '22023',
                 'segment 17:00-09:00 of "mon" in calendar "x" ends before it starts', 'inverted segment');
SELECT throws_ok($$SELECT swarm.add_calendar('x', 'UTC', '{"mon": [["09:00","09:00"]]}')$$, '22023',
                 'segment 09:00-09:00 of "mon" in calendar "x" ends before it starts', 'empty segment');
SELECT throws_ok($$SELECT swarm.add_calendar('x', 'UTC', '{"mon": [["09:00","24:30"]]}')$$, '22023',
                 'invalid end "24:30" of a segment of "mon" in calendar "x"', 'an end after 24:00');
SELECT throws_ok($$SELECT swarm.add_calendar('x', 'UTC', '{"mon": [["24:00","24:00"]]}')$$, '22023',
                 'invalid start "24:00" of a segment of "mon" in calendar "x"', 'a start at 24:00');
SELECT throws_ok($$SELECT swarm.add_calendar('x', 'UTC', '{"mon": [["-1:00","09:00"]]}')$$, '22023',
                 'invalid start "-1:00" of a segment of "mon" in calendar "x"', 'a start before 00:00');
SELECT throws_ok($$SELECT swarm.add_calendar('x', 'UTC', '{"mon": [["08:61","09:00"]]}')$$, '22023',
                 'invalid start "08:61" of a segment of "mon" in calendar "x"', 'minutes beyond 59');
SELECT throws_ok($$SELECT swarm.add_calendar('x', 'UTC', '{}')$$, '22023', 'calendar "x" has no working time',
                 'no working time at all');
SELECT throws_ok($$SELECT swarm.add_calendar('x', 'UTC', '{"sat": [], "sun": []}')$$, '22023',
                 'calendar "x" has no working time', 'only empty days');
SELECT throws_ok($$SELECT swarm.set_calendar_hours('office', '{"mon": []}')$$, '22023',
                 'calendar "office" has no working time', 'set_calendar_hours to no working time');
SELECT throws_ok($$SELECT swarm.add_calendar('x', 'UTC', '{"lundi": [["09:00","17:00"]]}')$$, '22023',
                 'unknown day "lundi" in the hours of calendar "x"', 'unknown day key');
SELECT throws_ok($$SELECT swarm.add_calendar('x', 'UTC', '{"mon": ["09:00","17:00"]}')$$, '22023',
                 'segment "09:00" of "mon" in calendar "x" must be ["HH:MM", "HH:MM"]', 'a segment that is not a pair');
SELECT throws_ok($$SELECT swarm.add_calendar('x', 'UTC', '{"mon": {"from": "09:00"}}')$$, '22023',
                 'hours of "mon" in calendar "x" must be an array of ["HH:MM", "HH:MM"] segments', 'a day that is not an array');
SELECT throws_ok($$SELECT swarm.add_calendar('x', 'UTC', '"09:00-17:00"')$$, '22023',
                 'hours of calendar "x" must be a JSON object of weekdays', 'hours that are not an object');
SELECT throws_ok($$SELECT swarm.add_calendar('x', 'UTC', NULL)$$, '22004', 'hours must not be null', 'null hours');
SELECT throws_ok($$SELECT swarm.set_calendar_hours('office', NULL)$$, '22004', 'hours must not be null',
                 'set_calendar_hours to null');
-- names
SELECT throws_ok($$SELECT swarm.add_calendar('office', 'UTC', '{"mon": [["09:00","17:00"]]}')$$, '23505',
                 'calendar "office" already exists', 'duplicate calendar');
SELECT throws_ok($$SELECT swarm.add_calendar('24x7', 'UTC', '{"mon": [["09:00","17:00"]]}')$$, '23505',
                 'calendar "24x7" already exists', 'a second 24x7');
SELECT throws_ok($$SELECT swarm.add_calendar(NULL, 'UTC', '{"mon": [["09:00","17:00"]]}')$$, '22004',
                 'name must not be null', 'null calendar name');
SELECT throws_ok($$SELECT swarm.add_calendar(' ', 'UTC', '{"mon": [["09:00","17:00"]]}')$$, '22023',
                 'name must not be empty', 'blank calendar name');
SELECT throws_ok(format($$SELECT swarm.add_calendar(%L, 'UTC', '{"mon": [["09:00","17:00"]]}')$$, repeat('c', 64)), '42622',
                 format('calendar name "%s" is longer than 63 characters', repeat('c', 64)), 'calendar name too long');
SELECT throws_ok($$SELECT swarm.add_calendar('x', 'UTC', '{"mon": [["09:00","17:00"]]}', NULL)$$, '22004',
                 'holidays must not be null', 'null holidays');
-- holidays
SELECT throws_ok($$SELECT swarm.add_yearly_holiday('office', 2, 30)$$, '22023',
                 'invalid yearly holiday 2-30 for calendar "office"', 'Feb 30 is not a yearly holiday');
SELECT throws_ok($$SELECT swarm.add_yearly_holiday('office', 13, 1)$$, '22023',
                 'invalid yearly holiday 13-1 for calendar "office"', 'month 13 is not a yearly holiday');
SELECT throws_ok($$SELECT swarm.add_yearly_holiday('office', 4, 31)$$, '22023',
                 'invalid yearly holiday 4-31 for calendar "office"', 'Apr 31 is not a yearly holiday');
SELECT throws_ok($$SELECT swarm.add_yearly_holiday('office', NULL, 1)$$, '22004', 'month must not be null',
                 'null month');
SELECT throws_ok($$SELECT swarm.add_holiday('office', NULL)$$, '22004', 'day must not be null', 'null holiday');
SELECT throws_ok($$SELECT swarm.remove_holiday('office', '2026-12-31')$$, '42704',
                 '2026-12-31 is not a holiday of calendar "office"', 'remove a holiday that is not there');
SELECT throws_ok($$SELECT swarm.remove_yearly_holiday('office', 1, 1)$$, '42704',
                 '1-1 is not a yearly holiday of calendar "office"', 'remove a yearly holiday that is not there');
SELECT lives_ok($$SELECT swarm.remove_holiday('office', '2026-12-24')$$, 'remove_holiday');
SELECT lives_ok($$SELECT swarm.remove_yearly_holiday('office', 2, 29)$$, 'remove_yearly_holiday');
-- the built-in 24x7
SELECT throws_ok($$SELECT swarm.set_calendar_hours('24x7', '{"mon": [["09:00","17:00"]]}')$$, '55000',
                 'calendar "24x7" is built in and cannot be changed', '24x7 hours cannot change');
SELECT throws_ok($$SELECT swarm.set_calendar_timezone('24x7', 'Europe/Berlin')$$, '55000',
                 'calendar "24x7" is built in and cannot be changed', '24x7 time zone cannot change');
SELECT throws_ok($$SELECT swarm.add_holiday('24x7', '2026-12-25')$$, '55000',
                 'calendar "24x7" is built in and cannot be changed', '24x7 takes no holiday');
SELECT throws_ok($$SELECT swarm.add_yearly_holiday('24x7', 12, 25)$$, '55000',
                 'calendar "24x7" is built in and cannot be changed', '24x7 takes no yearly holiday');
SELECT throws_ok($$SELECT swarm.remove_holiday('24x7', '2026-12-25')$$, '55000',
                 'calendar "24x7" is built in and cannot be changed', '24x7 holidays cannot be removed');
SELECT throws_ok($$UPDATE swarm.calendars SET segments = '{1,540,1020}' WHERE name = '24x7'$$, '55000',
                 'calendar "24x7" is built in and cannot be changed', '24x7 cannot be updated directly');
SELECT throws_ok($$DELETE FROM swarm.calendars WHERE name = '24x7'$$, '55000',
                 'calendar "24x7" is built in and cannot be changed', '24x7 cannot be deleted');
-- arithmetic
SELECT throws_ok($$SELECT swarm.business_add(now(), '1 mon', 'office')$$, '22023',
                 'working time cannot be given in months or years', 'business_add in months');
SELECT throws_ok($$SELECT swarm.business_add(now(), '1 year', 'office')$$, '22023',
                 'working time cannot be given in months or years', 'business_add in years');
SELECT throws_ok($$SELECT swarm.business_add(now(), '-1 minute', 'office')$$, '22023',
                 'working time to add must not be negative', 'business_add of a negative amount');
SELECT throws_ok($$SELECT swarm.business_time('-infinity', now(), 'office')$$, '22008',
                 'working time between infinite timestamps is not defined', 'business_time from -infinity');
SELECT is(swarm.business_add('2026-06-15 10:00+00', '1 day', '24x7'), '2026-06-16 10:00+00'::timestamptz,
          'a day is 24 working hours');
SELECT is(swarm.business_time('2026-06-16 10:00+00', '2026-06-15 10:00+00', '24x7'), '-24:00:00'::interval,
          'business_time is negative backwards');
SELECT is(swarm.business_add('2026-06-15 18:00+02', '2 hours', 'office'), '2026-06-16 11:00+02'::timestamptz,
          'business_add on office hours');
SELECT is((SELECT hours FROM swarm.calendars WHERE name = 'office'),
          '{"mon": [["09:00","17:00"]], "tue": [["09:00","17:00"]]}'::jsonb, 'refused changes left the hours alone');
SELECT is((SELECT count(*) FROM swarm.calendars), 3::bigint, 'refused calendars were not added');

-- Policies ------------------------------------------------------------------------
SELECT throws_ok($$SELECT swarm.set_sla_policy('P1', '-1 hour', '1 day', '1 hour', '1 day')$$, '22023',
                 'SLA target first_response must be positive: -01:00:00', 'negative first response target');
SELECT throws_ok($$SELECT swarm.set_sla_policy('P1', '1 hour', '0', '1 hour', '1 day')$$, '22023',
                 'SLA target resolution must be positive: 00:00:00', 'zero resolution target');
SELECT throws_ok($$SELECT swarm.set_sla_policy('P1', '1 hour', '1 day', '1 day -25 hours', '1 day')$$, '22023',
                 'SLA target accept must be positive: 1 day -25:00:00', 'negative accept target');
SELECT throws_ok($$SELECT swarm.set_sla_policy('P1', '1 hour', '1 mon', '1 hour', '1 day')$$, '22023',
                 'SLA target resolution cannot be given in months or years: 1 mon', 'resolution target in months');
SELECT throws_ok($$SELECT swarm.set_sla_policy('P1', '1 hour', '1 day', '1 hour', '1 year')$$, '22023',
                 'SLA target request_resolution cannot be given in months or years: 1 year', 'request target in years');
SELECT throws_ok($$SELECT swarm.set_sla_policy('P1', NULL, '1 day', '1 hour', '1 day')$$, '22004',
                 'first_response must not be null', 'null target');
SELECT throws_ok($$SELECT swarm.set_sla_policy(NULL, '1 hour', '1 day', '1 hour', '1 day')$$, '22004',
                 'priority must not be null', 'null priority');
SELECT throws_ok($$SELECT swarm.set_sla_policy('P1', '1 hour', '1 day', '1 hour', '1 day', NULL)$$, '22004',
                 'calendar must not be null', 'null calendar');
SELECT throws_ok($$SELECT swarm.set_sla_policy('P1', '1 hour', '1 day', '1 hour', '1 day', '24x7', 'nope')$$, '42704',
                 'group "nope" does not exist', 'a policy for an unknown group');
SELECT throws_ok($$SELECT swarm.set_sla_policy('P1', '1 hour', '1 day', '1 hour', '1 day', '24x7', NULL, '')$$, '22023',
                 'customer_tier must not be empty', 'a policy for an empty tier');
SELECT is((SELECT count(*) FROM swarm.sla_policies), 2::bigint, 'refused policies were not added');
SELECT is(swarm.set_sla_policy('P2', '5 hours', '2 days', '1 hour', '1 day'), 1::bigint, 'the same key replaces a policy');
SELECT is((SELECT first_response_due - opened_at FROM swarm.cases WHERE case_id = 1), interval '5 hours',
          'and recomputes the open cases');
SELECT is((SELECT count(*) FROM swarm.sla_policies), 2::bigint, 'without adding one');

-- Tiers and priorities ----------------------------------------------------------------
SELECT throws_ok($$SELECT swarm.set_customer_tier(1, '')$$, '22023', 'customer_tier must not be empty', 'empty tier');
SELECT throws_ok($$SELECT swarm.set_customer_tier(99, 'gold')$$, '42704', 'case 99 does not exist', 'tier of an unknown case');
SELECT throws_ok($$SELECT swarm.set_case_priority(99, 'P1')$$, '42704', 'case 99 does not exist',
                 'priority of an unknown case');
SELECT throws_ok($$SELECT swarm.set_case_priority(1, NULL)$$, '22004', 'priority must not be null', 'null priority');
SELECT throws_ok($$SELECT swarm.set_request_priority(99, 'P1')$$, '42704', 'request 99 does not exist',
                 'priority of an unknown request');
SELECT lives_ok($$SELECT swarm.set_case_priority(1, 'P1')$$, 'a priority without a policy');
SELECT is((SELECT ROW(sla_policy_id, first_response_due, resolution_due)::text FROM swarm.cases WHERE case_id = 1), '(,,)',
          'no policy: no due times');
SELECT is((SELECT count(*) FROM swarm.sla_status(1)), 0::bigint, 'no policy: no targets');
SELECT lives_ok($$SELECT swarm.set_case_priority(1, 'P2')$$, 'back to P2');

-- Pauses --------------------------------------------------------------------------
SELECT throws_ok($$SELECT swarm.pause_sla(1, 'why')$$, '55000', 'cannot pause the SLA of case 1: it is new', 'pause a new case');
SELECT throws_ok($$SELECT swarm.resume_sla(1)$$, '55000', 'cannot resume the SLA of case 1: it is not paused',
                 'resume a new case');
SELECT throws_ok($$SELECT swarm.pause_sla(99, 'why')$$, '42704', 'case 99 does not exist', 'pause an unknown case');
SELECT throws_ok($$SELECT swarm.resume_sla(99)$$, '42704', 'case 99 does not exist', 'resume an unknown case');
SELECT throws_ok($$SELECT swarm.pause_sla(NULL, 'why')$$, '22004', 'case_id must not be null', 'pause a null case');
SELECT lives_ok($$SELECT swarm.assign_case(1, 1)$$, 'assign case 1');
SELECT lives_ok($$SELECT swarm.request_help(1, 'pg')$$, 'request 1');
SELECT throws_ok($$SELECT swarm.resume_sla(1)$$, '55000', 'cannot resume the SLA of case 1: it is not paused',
                 'resume an open case');
SELECT lives_ok($$SELECT swarm.pause_sla(1, 'waiting')$$, 'pause_sla');
SELECT is((SELECT state::text FROM swarm.cases WHERE case_id = 1), 'pending', 'a paused case is pending');
SELECT ok((SELECT first_response_due IS NULL AND resolution_due IS NULL AND first_response_risk_at IS NULL
                  AND resolution_risk_at IS NULL FROM swarm.cases WHERE case_id = 1), 'no due times while paused');
SELECT ok((SELECT accept_due IS NULL AND resolution_due IS NULL FROM swarm.collab_requests WHERE request_id = 1),
          'nor for its open requests');
SELECT is(ARRAY(SELECT state FROM swarm.sla_status(1)), ARRAY['paused', 'paused'], 'sla_status says paused');
SELECT throws_ok($$SELECT swarm.pause_sla(1, 'again')$$, '55000', 'the SLA of case 1 is already paused', 'pause twice');
SELECT throws_ok($$SELECT swarm.request_help(1, needed => 'pg:1')$$, '55000',
                 'cannot request help on case 1: it is pending', 'no new request while paused');
SELECT lives_ok($$SELECT swarm.set_case_priority(1, 'P3')$$, 'a priority change while paused');
SELECT ok((SELECT first_response_due IS NULL FROM swarm.cases WHERE case_id = 1), 'keeps the due times empty');
SELECT lives_ok($$SELECT swarm.set_case_priority(1, 'P2')$$, 'and back');
SELECT lives_ok($$SELECT swarm.resume_sla(1)$$, 'resume_sla');
SELECT is((SELECT state::text FROM swarm.cases WHERE case_id = 1), 'open', 'a resumed case is open');
SELECT ok((SELECT first_response_due >= opened_at + interval '5 hours'
                  AND first_response_due < opened_at + interval '5 hours 1 second' FROM swarm.cases WHERE case_id = 1),
          'due times are back, moved only by the pause''s real (sub-second) length');
SELECT ok((SELECT accept_due IS NOT NULL AND resolution_due IS NOT NULL FROM swarm.collab_requests WHERE request_id = 1),
          'for its requests too');
SELECT throws_ok($$SELECT swarm.resume_sla(1)$$, '55000', 'cannot resume the SLA of case 1: it is not paused',
                 'resume twice');
SELECT is((SELECT count(*) FROM swarm.sla_pauses WHERE case_id = 1 AND resumed_at IS NULL), 0::bigint, 'no open pause left');
-- a second pause in the same transaction (now() has not moved)
SELECT lives_ok($$SELECT swarm.pause_sla(1, 'again, same transaction')$$, 'pause again after a resume in one transaction');
SELECT lives_ok($$SELECT swarm.resume_sla(1)$$, 'and resume again');

-- Resolving a paused case ends its pause --------------------------------------------
SELECT lives_ok($$SELECT swarm.assign_case(2, 2)$$, 'assign case 2');
SELECT lives_ok($$SELECT swarm.pause_sla(2, 'waiting')$$, 'pause case 2');
UPDATE swarm.sla_pauses SET paused_at = now() - interval '1 hour' WHERE case_id = 2;   -- paused an hour ago
SELECT lives_ok($$SELECT swarm.resolve_case(2)$$, 'resolve the paused case');
SELECT is((SELECT count(*) FROM swarm.sla_pauses WHERE case_id = 2 AND resumed_at IS NULL), 0::bigint,
          'a resolved case has no open pause');
SELECT ok((SELECT resolution_due IS NOT NULL FROM swarm.cases WHERE case_id = 2), 'and due times again');
SELECT throws_ok($$SELECT swarm.pause_sla(2, 'why')$$, '55000', 'cannot pause the SLA of case 2: it is resolved',
                 'pause a resolved case');
SELECT throws_ok($$SELECT swarm.resume_sla(2)$$, '55000', 'cannot resume the SLA of case 2: it is not paused',
                 'resume a resolved case');
SELECT throws_ok($$SELECT swarm.set_case_priority(2, 'P1')$$, '55000',
                 'cannot change the priority of case 2: it is resolved', 'priority of a resolved case');
SELECT lives_ok($$SELECT swarm.reopen_case(2)$$, 'reopen case 2');
SELECT lives_ok($$SELECT swarm.pause_sla(2, 'again')$$, 'a reopened case can be paused');
SELECT lives_ok($$SELECT swarm.resume_sla(2)$$, 'and resumed');
SELECT lives_ok($$SELECT swarm.resolve_case(2)$$, 'resolve case 2 again');
SELECT lives_ok($$SELECT swarm.close_case(2)$$, 'close case 2');
SELECT throws_ok($$SELECT swarm.set_case_priority(2, 'P1')$$, '55000',
                 'cannot change the priority of case 2: it is closed', 'priority of a closed case');
SELECT throws_ok($$SELECT swarm.pause_sla(2, 'why')$$, '55000', 'cannot pause the SLA of case 2: it is closed',
                 'pause a closed case');
-- requests that are over
SELECT lives_ok($$SELECT swarm.accept_request(1, 2)$$, 'accept request 1');
SELECT lives_ok($$SELECT swarm.resolve_request(1, 'done')$$, 'resolve request 1');
SELECT throws_ok($$SELECT swarm.set_request_priority(1, 'P1')$$, '55000',
                 'cannot change the priority of request 1: it is resolved', 'priority of a resolved request');

-- Status checks -------------------------------------------------------------------
SELECT throws_ok($$SELECT * FROM swarm.sla_status(99)$$, '42704', 'case 99 does not exist', 'status of an unknown case');
SELECT throws_ok($$SELECT * FROM swarm.sla_status(NULL)$$, '22004', 'case_id must not be null', 'status of a null case');
SELECT throws_ok($$SELECT * FROM swarm.request_sla_status(99)$$, '42704', 'request 99 does not exist',
                 'status of an unknown request');
SELECT throws_ok($$SELECT * FROM swarm.request_sla_status(NULL)$$, '22004', 'request_id must not be null',
                 'status of a null request');
SELECT is(ARRAY(SELECT target FROM swarm.sla_status(1)), ARRAY['first_response', 'resolution'], 'case targets');
SELECT is(ARRAY(SELECT target FROM swarm.request_sla_status(1)), ARRAY['accept', 'resolution'], 'request targets');
SELECT is(ARRAY(SELECT state FROM swarm.request_sla_status(1)), ARRAY['met', 'met'], 'a request helped at once met both');
SELECT is((SELECT count(*) FROM swarm.sla_due(now() + interval '100 days', 1)), 1::bigint, 'sla_due honours max');
SELECT is((SELECT count(*) FROM swarm.sla_due(now() - interval '1 day')), 0::bigint, 'nothing at risk yesterday');

SELECT * FROM finish();
ROLLBACK;
