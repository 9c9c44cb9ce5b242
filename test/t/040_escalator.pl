# The escalation background worker: it escalates within a second of the due
# time (it sleeps until then, however long the naptime), sends NOTIFY
# swarm_escalations, follows a reload of its settings (naptime, enabled), and
# works alongside a second, dynamic worker without ever firing a level twice.
use strict;
use warnings;
use JSON::PP;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use SwarmWorker;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('escalator');
$node->init;
# A long naptime: escalating on time shows that the worker sleeps until the
# next escalation is due and is woken when a commit schedules an earlier one.
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'swarm'
swarm.escalation_naptime = '30s'
});
$node->start;

# The worker works in database postgres; it idles until the extension exists.
ok($node->poll_query_until('postgres',
		"SELECT count(*) = 1 FROM pg_stat_activity WHERE backend_type = 'swarm escalator' AND datname = 'postgres'"),
	'the preloaded worker runs in database postgres');

# Requests are acceptable within 2 seconds: the default ladder fires at 1.5 s
# (75 %), 2 s (100 %) and 3 s (150 %).  Requests have no group and no global
# group exists, so "widen" changes nothing; P2 has no policy, so after
# raise_priority nothing more is due.  Request n is on case n.
$node->safe_psql('postgres', team_sql() . new_requests_sql());

# On time, with NOTIFY -------------------------------------------------------------------
my $listener = $node->background_psql('postgres');
$listener->query_safe('LISTEN swarm_escalations');
$node->safe_psql('postgres', 'SELECT public.new_requests(5)');
ok($node->poll_query_until('postgres', all_escalated(1, 5)), 'five requests reach levels 1, 2 and 3');
is(escalations_of($node, 1, 5), '15 15', 'fifteen escalations, none twice');
is($node->safe_psql('postgres', q{
	SELECT count(*) FILTER (WHERE escalated_at < due_at) || ' '
	       || count(*) FILTER (WHERE escalated_at - due_at >= interval '1 second')
	  FROM swarm.escalations}), '0 0', 'no escalation early, none a second or more late');
is($node->safe_psql('postgres', q{
	SELECT bool_and(e.due_at - r.created_at = CASE e.level WHEN 1 THEN interval '1.5 s' WHEN 2 THEN interval '2 s'
	                                                       ELSE interval '3 s' END)
	  FROM swarm.escalations AS e JOIN swarm.collab_requests AS r USING (request_id)}), 't',
	'due at 75 %, 100 % and 150 % of the 2 second target');
is($node->safe_psql('postgres', q{
	SELECT escalations >= 15 AND last_lag_ms >= 0 AND last_lag_ms < 1000 AND last_sweep IS NOT NULL
	  FROM swarm.escalator_status WHERE NOT dynamic}), 't', 'the worker made them (escalator_status counts them)');
is($node->safe_psql('postgres', q{SELECT count(*) FROM swarm.events WHERE kind = 'request_escalated'}), '15',
	'one request_escalated event each');
is($node->safe_psql('postgres', q{SELECT count(*) FROM swarm.collab_requests WHERE priority = 'P2' AND escalation_level = 3}),
	'5', 'level 3 raised the priority');
ok($node->poll_query_until('postgres', q{
	SELECT state = 'sleeping' AND next_wakeup - last_sweep = interval '30 s' FROM swarm.escalator_status WHERE NOT dynamic}),
	'with nothing due it sleeps for the naptime');

my $out = $listener->query_safe('SELECT 1');
my @payloads = map { decode_json($_) }
  ($out =~ /Asynchronous notification "swarm_escalations" with payload "(.*?)" received/g);
is(scalar(@payloads), 15, 'the listener got fifteen notifications');
is_deeply([ sort map { "$_->{request_id}:$_->{level}" } @payloads ],
	[ map { my $r = $_; map { "$r:$_" } 1 .. 3 } 1 .. 5 ], 'one per request and level');
is_deeply([ map { $_->{level} } grep { $_->{request_id} == 3 } @payloads ], [ 1, 2, 3 ], 'in order');
my ($p) = grep { $_->{request_id} == 4 && $_->{level} == 2 } @payloads;
is($p->{case_id}, 4, 'a payload has the case id');
is_deeply($p->{actions}, [ 'widen', 'notify_leads' ], 'the actions');
like($p->{due_at}, qr/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d/, 'the due time');
like($p->{escalated_at}, qr/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d/, 'and the time of the escalation');
is($node->safe_psql('postgres', qq{
	SELECT count(*) FROM swarm.escalations
	 WHERE request_id = 4 AND level = 2 AND due_at = '$p->{due_at}' AND escalated_at = '$p->{escalated_at}'}), '1',
	'as recorded in swarm.escalations');
$listener->quit;

# Reload: the naptime ----------------------------------------------------------------------
$node->safe_psql('postgres', q{ALTER SYSTEM SET swarm.escalation_naptime = '2s'});
$node->safe_psql('postgres', 'SELECT pg_reload_conf()');
ok($node->poll_query_until('postgres', 'SHOW swarm.escalation_naptime', '2s'), 'a new session sees the new naptime');
ok($node->poll_query_until('postgres', q{
	SELECT state = 'sleeping' AND next_wakeup - last_sweep = interval '2 s' FROM swarm.escalator_status WHERE NOT dynamic}),
	'the worker sleeps for the new naptime');
my $worker = $node->safe_psql('postgres', 'SELECT pid FROM swarm.escalator_status WHERE NOT dynamic');
$node->safe_psql('postgres', 'SELECT public.new_requests(2)');
ok($node->poll_query_until('postgres', all_escalated(6, 7)), 'and keeps escalating');
is($node->safe_psql('postgres', q{
	SELECT count(*) FROM swarm.escalations WHERE request_id IN (6, 7) AND escalated_at - due_at < interval '1 s'}), '6',
	'on time');
is($node->safe_psql('postgres', 'SELECT pid FROM swarm.escalator_status WHERE NOT dynamic'), $worker,
	'the same worker: a reload does not restart it');

# Reload: escalation_enabled ----------------------------------------------------------------
$node->safe_psql('postgres', 'ALTER SYSTEM SET swarm.escalation_enabled = off');
$node->safe_psql('postgres', 'SELECT pg_reload_conf()');
ok($node->poll_query_until('postgres', q{SELECT state FROM swarm.escalator_status WHERE NOT dynamic}, 'disabled'),
	'escalation_enabled = off: the worker is disabled');
$node->safe_psql('postgres', 'SELECT public.new_requests(3)');
# wait until all three levels are due (3 s), and two naptimes more
ok($node->poll_query_until('postgres', q{
	SELECT clock_timestamp() > max(created_at) + interval '7 s' FROM swarm.collab_requests WHERE request_id BETWEEN 8 AND 10}),
	'the levels of requests 8-10 are all due');
is(escalations_of($node, 8, 10), '0 0', 'while disabled nothing escalates');
is($node->safe_psql('postgres', q{SELECT count(*) FROM swarm.collab_requests WHERE request_id BETWEEN 8 AND 10
	AND escalation_level = 0 AND next_escalation_level = 1 AND next_escalation_at < now()}), '3', 'they are due and waiting');
$node->safe_psql('postgres', 'ALTER SYSTEM RESET swarm.escalation_enabled');
$node->safe_psql('postgres', 'SELECT pg_reload_conf()');
ok($node->poll_query_until('postgres', all_escalated(8, 10)), 'enabled again: the overdue levels fire');
is(escalations_of($node, 8, 10), '9 9', 'each once');
is($node->safe_psql('postgres', q{
	SELECT bool_and(e.escalated_at > e.due_at + interval '2 s') FROM swarm.escalations AS e WHERE request_id BETWEEN 8 AND 10}),
	't', '(late, as they were held back)');

# A second worker ----------------------------------------------------------------------------
my $made_before = $node->safe_psql('postgres', 'SELECT sum(escalations) FROM swarm.escalator_status');
my $second = $node->safe_psql('postgres', 'SELECT swarm.start_escalator()');
like($second, qr/^\d+$/, 'start_escalator returns a pid');
ok($node->poll_query_until('postgres', qq{
	SELECT count(*) = 1 FROM swarm.escalator_status WHERE pid = $second AND dynamic AND database = 'postgres'
	   AND state = 'sleeping'}), 'the second worker runs in this database');
is($node->safe_psql('postgres', q{SELECT count(*) FROM swarm.escalator_status WHERE database = 'postgres'}), '2',
	'two workers now');
# twenty requests at once, then ten more
$node->safe_psql('postgres', 'SELECT public.new_requests(20)');
$node->safe_psql('postgres', 'SELECT public.new_requests(10)');
ok($node->poll_query_until('postgres', all_escalated(11, 40)), 'thirty requests escalate through every level');
is(escalations_of($node, 11, 40), '90 90', 'ninety escalations, none twice');
is($node->safe_psql('postgres', q{
	SELECT count(*) || ' ' || count(DISTINCT (request_id, level)) FROM swarm.escalations}), '120 120',
	'no duplicate anywhere');
is($node->safe_psql('postgres', q{SELECT count(*) FROM swarm.events WHERE kind = 'request_escalated'}), '120',
	'one event per escalation');
is($node->safe_psql('postgres', 'SELECT sum(escalations) FROM swarm.escalator_status') - $made_before, 90,
	'the two workers made exactly the ninety between them');
is($node->safe_psql('postgres', q{
	SELECT count(*) FROM swarm.escalations WHERE request_id BETWEEN 11 AND 40 AND escalated_at - due_at >= interval '1 s'}),
	'0', 'all on time');
my ($rc, $stdout, $stderr) = $node->psql('postgres', q{
	INSERT INTO swarm.escalations (request_id, level, actions, due_at) VALUES (11, 1, '{renotify}', now())});
like($stderr, qr/duplicate key value violates unique constraint "escalations_pkey"/,
	'the primary key makes a second escalation of a level impossible');

is($node->safe_psql('postgres', 'SELECT swarm.stop_escalator()'), '1', 'stop_escalator stops the dynamic worker');
ok($node->poll_query_until('postgres', qq{
	SELECT NOT EXISTS (SELECT 1 FROM swarm.escalator_status WHERE pid = $second)
	   AND NOT EXISTS (SELECT 1 FROM pg_stat_activity WHERE pid = $second)}), 'it is gone');
is($node->safe_psql('postgres', 'SELECT pid FROM swarm.escalator_status'), $worker, 'the preloaded worker stays');
is($node->safe_psql('postgres', 'SELECT swarm.stop_escalator()'), '0', 'it is not stopped by stop_escalator');
$node->safe_psql('postgres', 'SELECT public.new_requests(1)');
ok($node->poll_query_until('postgres', all_escalated(41, 41)), 'and goes on escalating alone');

# A due request locked by another transaction is skipped; the worker should
# wait for it without spinning: over three seconds it uses little CPU.
sub cpu_ticks
{
	my ($pid) = @_;
	open(my $fh, '<', "/proc/$pid/stat") or die "cannot read /proc/$pid/stat: $!";
	my @f = split ' ', (split /\)/, <$fh>)[-1];
	close($fh);
	return $f[11] + $f[12];    # utime + stime, in clock ticks
}
$node->safe_psql('postgres', 'SELECT public.new_requests(1)');
my $holder = $node->background_psql('postgres');
$holder->query_safe('BEGIN; SELECT 1 FROM swarm.collab_requests WHERE request_id = 42 FOR UPDATE');
ok($node->poll_query_until('postgres', q{
	SELECT clock_timestamp() > next_escalation_at + interval '0.5 s' FROM swarm.collab_requests WHERE request_id = 42}),
	'request 42 is due while another transaction holds it');
SKIP:
{
	skip 'needs /proc', 1 unless -r "/proc/$worker/stat";
	my $ticks = cpu_ticks($worker);
	$node->poll_query_until('postgres', q{
		SELECT clock_timestamp() > next_escalation_at + interval '3.5 s' FROM swarm.collab_requests WHERE request_id = 42});
	$ticks = cpu_ticks($worker) - $ticks;
	cmp_ok($ticks, '<', 20, "the worker does not spin while the request is locked ($ticks ticks in 3 s)");
}
is(escalations_of($node, 42, 42), '0 0', 'the locked request is left alone');
$holder->query_safe('COMMIT');
$holder->quit;
ok($node->poll_query_until('postgres', all_escalated(42, 42)), 'once released, it escalates');
is(escalations_of($node, 1, 42), '126 126', 'in all: every level of every request once');

$node->stop;
done_testing();
