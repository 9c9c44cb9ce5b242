# kill -9 of the escalation worker in the middle of a sweep: the postmaster
# restarts every backend (crash recovery), the worker comes back, the
# sweep's uncommitted escalations are gone, and every request - escalated
# before the crash, halfway through its ladder at the crash, due during it,
# or created after it - ends with each of its levels exactly once.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use SwarmWorker;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('escalator_crash');
$node->init;
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'swarm'
swarm.escalation_naptime = '1s'
restart_after_crash = on
});
$node->start;

# Requests are acceptable within 2 seconds.  The P3 ladder fires level 1 at
# 1.5 s, level 2 at 5 s and level 3 at 6 s: wide enough a gap to catch
# requests between level 1 and level 2.  Request n is on case n.
$node->safe_psql('postgres', team_sql() . q{
	SELECT swarm.set_escalation_rung(1, '{renotify}', at_fraction => 0.75, priority => 'P3');
	SELECT swarm.set_escalation_rung(2, '{widen,notify_leads}', after_due => '3 seconds', priority => 'P3');
	SELECT swarm.set_escalation_rung(3, '{raise_priority}', after_due => '4 seconds', priority => 'P3');
} . new_requests_sql());

ok($node->poll_query_until('postgres', q{SELECT state FROM swarm.escalator_status}, 'sleeping'), 'the worker runs');

# before the crash: requests 1-5 escalate through their ladder
$node->safe_psql('postgres', 'SELECT public.new_requests(5)');
ok($node->poll_query_until('postgres', all_escalated(1, 5)), 'before the crash: requests 1-5 escalate');

# halfway at the crash: requests 6-8 reach level 1
$node->safe_psql('postgres', 'SELECT public.new_requests(3)');
ok($node->poll_query_until('postgres', q{
	SELECT bool_and(escalation_level = 1) FROM swarm.collab_requests WHERE request_id BETWEEN 6 AND 8}),
	'requests 6-8 are at level 1');

# due during the crash: requests 9-11.  A session locks swarm.events, so the
# sweep that escalates them blocks at its first event, its escalations made
# but not committed.
$node->safe_psql('postgres', 'SELECT public.new_requests(3)');
my $locker = $node->background_psql('postgres', on_error_stop => 0);
$locker->query_safe('BEGIN; LOCK TABLE swarm.events IN EXCLUSIVE MODE');
ok($node->poll_query_until('postgres', q{
	SELECT count(*) = 1 FROM pg_stat_activity
	 WHERE backend_type = 'swarm escalator' AND wait_event_type = 'Lock' AND state = 'active'}),
	'the worker is stuck in a sweep');
my $pid = $node->safe_psql('postgres', 'SELECT pid FROM swarm.escalator_status');
is($node->safe_psql('postgres', q{SELECT state FROM swarm.escalator_status}), 'sweeping', 'escalator_status says so');
is($node->safe_psql('postgres', 'SELECT count(*) FROM swarm.escalations WHERE request_id > 8'), '0',
	'nothing of it is visible yet');

my $log_offset = -s $node->logfile;
ok(kill('KILL', $pid), "kill -9 the worker ($pid)");
$node->wait_for_log(qr/background worker "swarm escalator" \(PID $pid\) was terminated by signal 9/, $log_offset);
$node->wait_for_log(qr/all server processes terminated; reinitializing/, $log_offset);
pass('the postmaster restarts every backend');
eval { $locker->quit; };    # its backend is gone too

ok($node->poll_query_until('postgres', qq{
	SELECT count(*) = 1 FROM swarm.escalator_status WHERE pid <> $pid AND state = 'sleeping' AND NOT dynamic}),
	'the worker comes back with a new pid');
my $newpid = $node->safe_psql('postgres', 'SELECT pid FROM swarm.escalator_status');
is($node->safe_psql('postgres', qq{SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'swarm escalator'}), '1',
	'one worker');

# after the crash: three more requests (their ids jump: sequences skip values after a crash)
my $after = $node->safe_psql('postgres', q{SELECT string_agg(id::text, ',') FROM public.new_requests(3) AS id});
like($after, qr/^\d+,\d+,\d+$/, "requests $after after the crash");
ok($node->poll_query_until('postgres', all_escalated(1, 1e9)), 'every request reaches levels 1, 2 and 3');
is($node->safe_psql('postgres', 'SELECT count(*) FROM swarm.collab_requests'), '14', 'fourteen requests');
is($node->safe_psql('postgres', q{SELECT count(*) || ' ' || count(DISTINCT (request_id, level)) FROM swarm.escalations}),
	'42 42', 'forty-two escalations, none twice');
is($node->safe_psql('postgres', q{SELECT count(*) FROM swarm.events WHERE kind = 'request_escalated'}), '42',
	'one event each (the crashed sweep left none)');
is($node->safe_psql('postgres', q{
	SELECT count(DISTINCT (e.request_id, (e.detail ->> 'level')::int)) FROM swarm.events AS e WHERE kind = 'request_escalated'}),
	'42', 'events for distinct levels');
is($node->safe_psql('postgres', q{
	SELECT bool_and(r.escalation_level = 3 AND r.next_escalation_at IS NULL) FROM swarm.collab_requests AS r}), 't',
	'every request is at level 3 with nothing more scheduled');
is($node->safe_psql('postgres', qq{
	SELECT bool_and(e.escalated_at >= s.started_at) FROM swarm.escalations AS e, swarm.escalator_status AS s
	 WHERE e.request_id BETWEEN 9 AND 11 OR e.request_id IN ($after) OR (e.request_id BETWEEN 6 AND 8 AND e.level > 1)}),
	't',
	'what was pending at the crash was escalated by the new worker');
is($node->safe_psql('postgres', q{
	SELECT bool_and(e.escalated_at < s.started_at) FROM swarm.escalations AS e, swarm.escalator_status AS s
	 WHERE e.request_id BETWEEN 1 AND 5 OR (e.request_id BETWEEN 6 AND 8 AND e.level = 1)}), 't',
	'what was done before it stayed done');
is($node->safe_psql('postgres', 'SELECT escalations FROM swarm.escalator_status'), '24',
	'the new worker made the 24 escalations left (its counter started again)');
my @started = (slurp_file($node->logfile) =~ /swarm escalator started/g);
is(scalar(@started), 2, 'the worker started twice in all');

$node->stop;
done_testing();
