# The escalation worker and DROP: DROP EXTENSION (even in the middle of a
# sweep) leaves it idle, CREATE EXTENSION puts it back to work; DROP
# DATABASE of another database is not held up by it (it absorbs the
# ProcSignalBarrier while it sleeps); DROP DATABASE of a database a worker is
# connected to needs FORCE, which terminates the worker; the server stays up.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use SwarmWorker;
use Test::More;
use Time::HiRes qw(time);

my $node = PostgreSQL::Test::Cluster->new('escalator_drop');
$node->init;
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'swarm'
swarm.escalation_naptime = '1s'
});
$node->start;

# Database "other" has the extension too, to watch the worker from there.
$node->safe_psql('postgres', 'CREATE DATABASE other');
$node->safe_psql('other', 'CREATE EXTENSION swarm');
my $fixture = team_sql();
$node->safe_psql('postgres', $fixture . new_requests_sql());
my $all_escalated = q{
	SELECT count(*) > 0 AND bool_and((SELECT array_agg(e.level ORDER BY e.level) FROM swarm.escalations AS e
	                                   WHERE e.request_id = r.request_id) IS NOT DISTINCT FROM '{1,2,3}')
	  FROM swarm.collab_requests AS r};
my $state = q{SELECT state FROM swarm.escalator_status WHERE database = 'postgres' AND NOT dynamic};

$node->safe_psql('postgres', 'SELECT public.new_requests(2)');
ok($node->poll_query_until('postgres', $all_escalated), 'the worker escalates in database postgres');
my $worker = $node->safe_psql('other', q{SELECT pid FROM swarm.escalator_status WHERE database = 'postgres'});
like($worker, qr/^\d+$/, 'other sees the worker of postgres');

# DROP EXTENSION --------------------------------------------------------------------------
$node->safe_psql('postgres', 'DROP EXTENSION swarm CASCADE');
ok($node->poll_query_until('other', $state, 'extension not installed'), 'DROP EXTENSION: the worker idles');
is($node->safe_psql('other', q{SELECT pid FROM swarm.escalator_status WHERE database = 'postgres'}), $worker,
	'the same worker, still running');
$node->safe_psql('postgres', $fixture);
ok($node->poll_query_until('other', $state, 'sleeping'), 'CREATE EXTENSION: it works again');
$node->safe_psql('postgres', 'SELECT public.new_requests(2)');
ok($node->poll_query_until('postgres', $all_escalated), 'and escalates the new requests');
is($node->safe_psql('postgres', q{SELECT count(*) || ' ' || count(DISTINCT (request_id, level)) FROM swarm.escalations}),
	'6 6', 'each level once');

# DROP EXTENSION in the middle of a sweep: the sweep waits for the dropping
# transaction and fails once it commits (an ERROR in the log); the worker
# lives on and idles.
my $dropper = $node->background_psql('postgres');
$dropper->query_safe('BEGIN; DROP EXTENSION swarm');
ok($node->poll_query_until('other', q{
	SELECT count(*) = 1 FROM pg_stat_activity
	 WHERE backend_type = 'swarm escalator' AND datname = 'postgres' AND wait_event_type = 'Lock'}),
	'a sweep waits for the uncommitted DROP EXTENSION');
$dropper->query_safe('COMMIT');
$dropper->quit;
ok($node->poll_query_until('other', $state, 'extension not installed'), 'after it commits, the worker idles');
is($node->safe_psql('other', q{SELECT pid FROM swarm.escalator_status WHERE database = 'postgres'}), $worker,
	'the same worker');
$node->safe_psql('postgres', $fixture);
ok($node->poll_query_until('other', $state, 'sleeping'), 'and works again after CREATE EXTENSION');

# DROP DATABASE of another database ----------------------------------------------------------
# With a naptime of a minute the worker sleeps long; DROP DATABASE waits until
# every backend has absorbed its ProcSignalBarrier, which the worker does at once.
$node->safe_psql('postgres', q{ALTER SYSTEM SET swarm.escalation_naptime = '60s'});
$node->safe_psql('postgres', 'SELECT pg_reload_conf()');
ok($node->poll_query_until('other', q{
	SELECT state = 'sleeping' AND next_wakeup - last_sweep = interval '60 s' FROM swarm.escalator_status
	 WHERE database = 'postgres'}), 'the worker sleeps for a minute');
$node->safe_psql('postgres', 'CREATE DATABASE victim');
my $t0 = time();
$node->safe_psql('postgres', 'DROP DATABASE victim');
my $took = time() - $t0;
cmp_ok($took, '<', 10, sprintf('DROP DATABASE of another database completes promptly (%.1f s)', $took));
is($node->safe_psql('other', q{SELECT pid FROM swarm.escalator_status WHERE database = 'postgres'}), $worker,
	'the worker is undisturbed');

# A database with a dynamic worker connected: DROP DATABASE needs FORCE.
$node->safe_psql('postgres', 'CREATE DATABASE victim');
$node->safe_psql('victim', 'CREATE EXTENSION swarm');
my $dynamic = $node->safe_psql('victim', 'SELECT swarm.start_escalator()');
ok($node->poll_query_until('other', qq{
	SELECT count(*) = 1 FROM swarm.escalator_status WHERE pid = $dynamic AND database = 'victim' AND dynamic}),
	'a dynamic worker runs in database victim');
my ($rc, $stdout, $stderr) = $node->psql('postgres', 'DROP DATABASE victim');
like($stderr, qr/database "victim" is being accessed by other users/, 'DROP DATABASE refuses while it is connected');
$t0 = time();
$node->safe_psql('postgres', 'DROP DATABASE victim WITH (FORCE)');
$took = time() - $t0;
cmp_ok($took, '<', 10, sprintf('DROP DATABASE ... WITH (FORCE) terminates it promptly (%.1f s)', $took));
ok($node->poll_query_until('other', qq{
	SELECT NOT EXISTS (SELECT 1 FROM swarm.escalator_status WHERE pid = $dynamic)
	   AND NOT EXISTS (SELECT 1 FROM pg_stat_activity WHERE pid = $dynamic)}), 'the dynamic worker is gone');

# DROP DATABASE of the worker's own database -------------------------------------------------
($rc, $stdout, $stderr) = $node->psql('other', 'DROP DATABASE postgres');
like($stderr, qr/database "postgres" is being accessed by other users/, 'without FORCE the worker keeps postgres alive');
my $log_offset = -s $node->logfile;
$t0 = time();
$node->safe_psql('other', 'DROP DATABASE postgres WITH (FORCE)');
$took = time() - $t0;
cmp_ok($took, '<', 10, sprintf('DROP DATABASE postgres WITH (FORCE) succeeds promptly (%.1f s)', $took));
is($node->safe_psql('other', q{SELECT count(*) FROM pg_database WHERE datname = 'postgres'}), '0', 'postgres is gone');
ok($node->poll_query_until('other', qq{
	SELECT NOT EXISTS (SELECT 1 FROM swarm.escalator_status)
	   AND NOT EXISTS (SELECT 1 FROM pg_stat_activity WHERE backend_type = 'swarm escalator')}),
	'the worker was terminated and left the status view');
ok($node->log_contains(qr/terminating background worker "swarm escalator" due to administrator command/, $log_offset),
	'it was terminated');
# it is restarted after 10 s, and fails to connect
$node->wait_for_log(qr/FATAL:  database "postgres" does not exist/, $log_offset);
pass('the restarted worker cannot connect to the dropped database');
is($node->safe_psql('other', 'SELECT 1'), '1', 'the server stays up');
is($node->safe_psql('other', q{SELECT count(*) FROM swarm.escalator_status}), '0', 'no worker is listed');

$node->stop;
done_testing();
