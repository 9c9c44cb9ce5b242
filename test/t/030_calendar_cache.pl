# Compiled calendars are cached per backend and dropped on a relcache
# invalidation of swarm.calendars: a change committed by another session is
# seen by the next call of a long-lived session, a rolled-back or still
# uncommitted change is not.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('calendar_cache');
$node->init;
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'swarm'");
$node->append_conf('postgresql.conf', "timezone = 'UTC'");
$node->start;

$node->safe_psql('postgres', q{
	CREATE EXTENSION swarm;
	SELECT swarm.add_calendar('cal', 'UTC', '{"mon": [["09:00","17:00"]], "tue": [["09:00","17:00"]]}');
	SELECT swarm.add_calendar('other', 'UTC', '{"mon": [["09:00","17:00"]]}');
});

# Monday 2026-06-15 16:00 UTC plus two working hours
my $due = q{SELECT swarm.business_add('2026-06-15 16:00+00', '2 hours', 'cal')};

# Session A lives through the whole test and keeps its compiled calendars.
my $a = $node->background_psql('postgres');
$a->query_safe("SET TimeZone = 'UTC'");
my $pid = $a->query_safe('SELECT pg_backend_pid()');
is($a->query_safe($due), '2026-06-16 10:00:00+00', 'A: Monday 16:00 + 2 h is Tuesday 10:00 (calendar compiled)');
is($a->query_safe(q{SELECT swarm.business_add('2026-06-15 16:00+00', '2 hours', 'other')}), '2026-06-22 10:00:00+00',
	'A: another calendar compiled too');

# B commits new hours: A's next call sees them.
$node->safe_psql('postgres', q{SELECT swarm.set_calendar_hours('cal', '{"mon": [["09:00","18:00"]], "tue": [["09:00","17:00"]]}')});
is($a->query_safe($due), '2026-06-15 18:00:00+00', 'A sees the hours B committed (Monday until 18:00)');

# B changes the hours and rolls back: A keeps the committed hours.
$node->safe_psql('postgres', q{
	BEGIN;
	SELECT swarm.set_calendar_hours('cal', '{"mon": [["09:00","20:00"]]}');
	ROLLBACK;
});
is($a->query_safe($due), '2026-06-15 18:00:00+00', 'A does not see a rolled-back change');

# An uncommitted change is not seen either; once rolled back, still not.
my $b = $node->background_psql('postgres');
$b->query_safe("SET TimeZone = 'UTC'");
$b->query_safe('BEGIN');
$b->query_safe(q{SELECT swarm.set_calendar_hours('cal', '{"mon": [["09:00","16:30"]], "tue": [["09:00","17:00"]]}')});
is($b->query_safe($due), '2026-06-16 10:30:00+00', 'B sees its own uncommitted change');
is($a->query_safe($due), '2026-06-15 18:00:00+00', 'A does not see B\'s uncommitted change');
$b->query_safe('ROLLBACK');
is($a->query_safe($due), '2026-06-15 18:00:00+00', 'nor after B rolled it back');
is($b->query_safe($due), '2026-06-15 18:00:00+00', 'B is back to the committed hours after its rollback');

# A savepoint rolled back in B: only what B commits counts.
$b->query_safe('BEGIN');
$b->query_safe('SAVEPOINT s');
$b->query_safe(q{SELECT swarm.add_holiday('cal', '2026-06-15')});
is($b->query_safe($due), '2026-06-16 11:00:00+00', 'B sees its holiday inside the savepoint (Monday off)');
$b->query_safe('ROLLBACK TO SAVEPOINT s');
is($b->query_safe($due), '2026-06-15 18:00:00+00', 'B no longer sees it after ROLLBACK TO SAVEPOINT');
$b->query_safe(q{SELECT swarm.add_yearly_holiday('cal', 6, 15)});
is($a->query_safe($due), '2026-06-15 18:00:00+00', 'A does not see B\'s change before it commits');
$b->query_safe('COMMIT');
is($a->query_safe($due), '2026-06-16 11:00:00+00', 'A sees the yearly holiday B committed (Monday off)');

# Every kind of change is seen: holidays, their removal, the time zone.
$node->safe_psql('postgres', q{SELECT swarm.add_holiday('cal', '2026-06-16')});
is($a->query_safe($due), '2026-06-22 11:00:00+00', 'A sees a single holiday (Tuesday off too)');
$node->safe_psql('postgres', q{SELECT swarm.remove_yearly_holiday('cal', 6, 15)});
is($a->query_safe($due), '2026-06-15 18:00:00+00', 'A sees a yearly holiday removed (Monday on again)');
$node->safe_psql('postgres', q{SELECT swarm.set_calendar_timezone('cal', 'Asia/Tokyo')});
is($a->query_safe($due), '2026-06-22 02:00:00+00',
	'A sees the new time zone (Tuesday 01:00 in Tokyo, a holiday there: next Monday 09:00-11:00 JST)');
$node->safe_psql('postgres', q{SELECT swarm.remove_holiday('cal', '2026-06-16')});
is($a->query_safe($due), '2026-06-16 02:00:00+00', 'A sees a holiday removed (Tuesday 09:00-11:00 JST)');

# Due times of open cases computed in A use the committed calendar.
$node->safe_psql('postgres', q{
	SELECT swarm.set_sla_policy('P2', '2 hours', '1 day', '1 hour', '8 hours', 'cal');
	SELECT swarm.add_agent('u1', 'Ana', 'pg:3');
});
$a->query_safe(q{SELECT swarm.open_case('T-1', 'one', 'P2', 'pg:3')});
$a->query_safe(q{UPDATE swarm.cases SET opened_at = '2026-06-15 16:00+00' WHERE case_id = 1});
$a->query_safe('SELECT swarm.sla_refresh_case(1)');
is($a->query_safe('SELECT first_response_due FROM swarm.cases WHERE case_id = 1'), '2026-06-16 02:00:00+00',
	'A computes a due time on the cached calendar');
$node->safe_psql('postgres', q{SELECT swarm.set_calendar_hours('cal', '{"mon": [["09:00","17:00"]], "tue": [["10:00","17:00"]]}')});
is($a->query_safe('SELECT first_response_due FROM swarm.cases WHERE case_id = 1'), '2026-06-16 03:00:00+00',
	'B\'s calendar change recomputed the open case (Tuesday 10:00-12:00 JST)');
$a->query_safe('SELECT swarm.sla_refresh_case(1)');
is($a->query_safe('SELECT first_response_due FROM swarm.cases WHERE case_id = 1'), '2026-06-16 03:00:00+00',
	'and A recomputes it the same way');
is($a->query_safe($due), '2026-06-16 03:00:00+00', 'as business_add in A does');

# A READ COMMITTED transaction block that already used the calendar: each
# statement sees what was committed before it began, the calendar included.
$a->query_safe('BEGIN');
is($a->query_safe($due), '2026-06-16 03:00:00+00', 'A in a transaction block, calendar cached');
$node->safe_psql('postgres', q{SELECT swarm.set_calendar_hours('cal', '{"mon": [["09:00","17:00"]], "tue": [["11:00","17:00"]]}')});
is($a->query_safe($due), '2026-06-16 04:00:00+00',
	'A sees a change committed meanwhile by its next statement (Tuesday 11:00-13:00 JST)');
is($a->query_safe(q{SELECT segments FROM swarm.calendars WHERE name = 'cal'}), '{1,540,1020,2,660,1020}',
	'A reads the new hours from the table');
is($a->query_safe($due), '2026-06-16 04:00:00+00', 'and computes with them after reading the table');
$a->query_safe('COMMIT');
is($a->query_safe($due), '2026-06-16 04:00:00+00', 'and after its transaction');

# The other calendar was never changed; it is simply compiled again.
is($a->query_safe(q{SELECT swarm.business_add('2026-06-15 16:00+00', '2 hours', 'other')}), '2026-06-22 10:00:00+00',
	'A: the unchanged calendar gives the same answer');

# The extension dropped and created again in B: A compiles the new table's calendar.
$node->safe_psql('postgres', q{
	SET client_min_messages = warning;
	DROP EXTENSION swarm CASCADE;
	CREATE EXTENSION swarm;
	SELECT swarm.add_calendar('cal', 'UTC', '{"mon": [["09:00","16:00"]], "wed": [["09:00","17:00"]]}');
});
is($a->query_safe($due), '2026-06-17 11:00:00+00', 'A sees the calendar of the re-created extension');
is($a->query_safe(q{SELECT count(*) FROM pg_stat_activity WHERE pid = } . $pid), '1', 'A was one session throughout');
is($a->query_safe('SELECT pg_backend_pid()'), $pid, 'the same backend');

$a->quit;
$b->quit;
$node->stop;
done_testing();
