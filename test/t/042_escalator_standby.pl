# A streaming standby runs no escalation worker (it starts when recovery has
# finished) and escalates nothing: it only replays the primary's escalations.
# Requests that the primary left due, unescalated, are escalated by the
# standby once it is promoted, each level exactly once.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use SwarmWorker;
use Test::More;

my $primary = PostgreSQL::Test::Cluster->new('primary');
$primary->init(allows_streaming => 1);
$primary->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'swarm'
swarm.escalation_naptime = '1s'
});
$primary->start;

# Requests are acceptable within 2 seconds: levels at 1.5 s, 2 s and 3 s.
$primary->safe_psql('postgres', team_sql() . new_requests_sql());

my $count = q{SELECT count(*) || ' ' || count(DISTINCT (request_id, level)) FROM swarm.escalations};
my $workers = q{SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'swarm escalator'};

$primary->backup('bk');
my $standby = PostgreSQL::Test::Cluster->new('standby');
$standby->init_from_backup($primary, 'bk', has_streaming => 1);
$standby->start;

# The primary escalates; the standby replays it.
$primary->safe_psql('postgres', 'SELECT public.new_requests(5)');
ok($primary->poll_query_until('postgres', all_escalated(1, 5)), 'the primary escalates requests 1-5');
$primary->wait_for_catchup($standby);
is($standby->safe_psql('postgres', 'SELECT pg_is_in_recovery()'), 't', 'the standby is in recovery');
is($standby->safe_psql('postgres', $count), '15 15', 'the standby has the fifteen escalations, replayed');
is($standby->safe_psql('postgres', $count), $primary->safe_psql('postgres', $count), 'the same as the primary');
is($standby->safe_psql('postgres', $workers), '0', 'no escalation worker runs on the standby');
is($standby->safe_psql('postgres', 'SELECT count(*) FROM swarm.escalator_status'), '0', 'escalator_status is empty there');
is($primary->safe_psql('postgres', $workers), '1', 'one runs on the primary');

# Routing on the standby reads the tables (no trigger runs there to keep a
# routing cache coherent) and ranks as the primary, which uses its cache.
my $routing = q{SELECT string_agg(c.case_id || '>' || r.agent_id || ':' || r.score, ' '
                                  ORDER BY c.case_id, r.score DESC, r.agent_id)
                  FROM swarm.cases AS c, swarm.route_case(c.case_id, 10) AS r
                 WHERE c.state IN ('new', 'open', 'pending')};
my $ranked = $primary->safe_psql('postgres', $routing);
isnt($ranked, '', 'the primary ranks owners for the open cases');
is($standby->safe_psql('postgres', $routing), $ranked, 'the standby ranks them the same');
my ($rc, $out, $err) = $standby->psql('postgres', q{SELECT swarm.escalate_due(now(), 10)});
like($err, qr/read-only transaction/, 'escalate_due cannot run on the standby');

# The primary stops escalating: new requests become due and stay unescalated.
$primary->safe_psql('postgres', 'ALTER SYSTEM SET swarm.escalation_enabled = off');
$primary->safe_psql('postgres', 'SELECT pg_reload_conf()');
ok($primary->poll_query_until('postgres', 'SELECT state FROM swarm.escalator_status', 'disabled'),
	'the primary\'s worker is disabled');
$primary->safe_psql('postgres', 'SELECT public.new_requests(4)');
ok($primary->poll_query_until('postgres', q{
	SELECT clock_timestamp() > max(created_at) + interval '5 s' FROM swarm.collab_requests}),
	'all levels of requests 6-9 are due');
is($primary->safe_psql('postgres', $count), '15 15', 'the primary escalated none of them');
$primary->wait_for_catchup($standby);
is($standby->safe_psql('postgres', $count), '15 15', 'nor did the standby');
is($standby->safe_psql('postgres', q{
	SELECT count(*) FROM swarm.collab_requests WHERE request_id BETWEEN 6 AND 9
	   AND state = 'open' AND escalation_level = 0 AND next_escalation_level = 1 AND next_escalation_at < now()}), '4',
	'the standby sees the four requests due and waiting');
is($standby->safe_psql('postgres', $workers), '0', 'still no worker there');

# Promotion: the worker starts on the new primary and escalates what is due.
$primary->stop;
$standby->promote;
is($standby->safe_psql('postgres', 'SELECT pg_is_in_recovery()'), 'f', 'the standby is promoted');
ok($standby->poll_query_until('postgres', q{
	SELECT count(*) = 1 FROM swarm.escalator_status WHERE database = 'postgres' AND NOT dynamic}),
	'a worker starts on the promoted node');
ok($standby->poll_query_until('postgres', all_escalated(6, 9)), 'it escalates requests 6-9');
is($standby->safe_psql('postgres', $count), '27 27', 'every level once: 15 before, 12 now');
is($standby->safe_psql('postgres', q{SELECT count(*) FROM swarm.events WHERE kind = 'request_escalated'}), '27',
	'one event each');
is($standby->safe_psql('postgres', 'SELECT escalations FROM swarm.escalator_status'), '12', 'the new worker made twelve');
is($standby->safe_psql('postgres', $workers), '1', 'one worker on the promoted node');
my ($cached, $read) = split /\n/, $standby->safe_psql('postgres', "$routing; SET swarm.routing_cache = off; $routing");
isnt($cached, '', 'once promoted it routes with its cache');
is($cached, $read, 'as it does reading the tables');

# and it goes on with new requests
my $ids = $standby->safe_psql('postgres', q{SELECT min(id) || ' ' || max(id) FROM public.new_requests(2) AS id});
my ($from, $to) = split / /, $ids;
ok($standby->poll_query_until('postgres', all_escalated($from, $to)), "new requests $from-$to escalate too");
is($standby->safe_psql('postgres', $count), '33 33', 'each level once');
is($standby->safe_psql('postgres', qq{
	SELECT count(*) FROM swarm.escalations WHERE request_id BETWEEN $from AND $to AND escalated_at - due_at < interval '1 s'}),
	'6', 'on time');

$standby->stop;
done_testing();
