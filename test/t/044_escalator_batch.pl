# The escalation worker on a burst: many requests due at the same instant are
# escalated a batch (swarm.escalation_batch_size requests) per sweep, each
# batch set-based in one subtransaction, not one per request.  A request whose
# escalation fails does not hold up its batch: the others escalate, once; it
# is logged and put off a minute, and escalates once it can.  Every
# escalation sends its two notifications, in order on each channel.
use strict;
use warnings;
use JSON::PP;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use SwarmWorker;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('escalator_batch');
$node->init;
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'swarm'
swarm.escalation_naptime = '30s'
swarm.escalation_batch_size = 100
});
$node->start;

ok($node->poll_query_until('postgres',
		"SELECT count(*) = 1 FROM pg_stat_activity WHERE backend_type = 'swarm escalator' AND datname = 'postgres'"),
	'the preloaded worker runs in database postgres');

# Requests are acceptable within 2 seconds: the default ladder fires at 1.5 s,
# 2 s and 3 s.  Requests made in one transaction share their created_at, so
# their levels are due at the same instants.  A trigger refuses the
# escalation events of the requests listed in public.refused.
$node->safe_psql('postgres', team_sql() . new_requests_sql() . q{
	CREATE TABLE public.refused (request_id bigint PRIMARY KEY);
	CREATE FUNCTION public.refuse_event() RETURNS trigger LANGUAGE plpgsql AS $$
	BEGIN
	    IF EXISTS (SELECT 1 FROM public.refused WHERE request_id = NEW.request_id) THEN
	        RAISE EXCEPTION 'escalation of request % refused by the test', NEW.request_id;
	    END IF;
	    RETURN NEW;
	END
	$$;
	CREATE TRIGGER refuse_escalation BEFORE INSERT ON swarm.events FOR EACH ROW
	    WHEN (NEW.kind = 'request_escalated') EXECUTE FUNCTION public.refuse_event();
	INSERT INTO public.refused VALUES (123);
});

my $listener = $node->background_psql('postgres');
$listener->query_safe('LISTEN swarm_escalations; LISTEN swarm_events');
my $log_offset = -s $node->logfile;

# 250 requests at once: 3 batches of at most 100 per level, 750 escalations
$node->safe_psql('postgres', 'SELECT count(*) FROM public.new_requests(250)');
ok($node->poll_query_until('postgres', q{
	SELECT count(*) = 249 FROM swarm.collab_requests AS r
	 WHERE (SELECT array_agg(e.level ORDER BY e.level) FROM swarm.escalations AS e WHERE e.request_id = r.request_id)
	       = '{1,2,3}'}), '249 requests reach levels 1, 2 and 3');
is(escalations_of($node, 1, 250), '747 747', 'each level once');
is($node->safe_psql('postgres', q{
	SELECT escalation_level || ' ' || (next_escalation_at > now() + interval '30 s') FROM swarm.collab_requests
	 WHERE request_id = 123}), '0 true', 'the refused request is not escalated, and put off a minute');
ok($node->wait_for_log(qr/WARNING:  could not escalate request 123: escalation of request 123 refused by the test/,
		$log_offset), 'the worker logs it');
my @warnings = (slurp_file($node->logfile, $log_offset) =~ /could not escalate request (\d+)/g);
is_deeply([ sort { $a <=> $b } keys %{ { map { $_ => 1 } @warnings } } ], [123], 'and no other request');

# Batches, not requests: the level 1 escalations of the 249 were made in a few
# (sub)transactions (the batch with request 123 in it was split while looking
# for it), where one subtransaction per request would have given 249.
my $xids = $node->safe_psql('postgres',
	'SELECT count(DISTINCT xmin::text) FROM swarm.escalations WHERE level = 1');
cmp_ok($xids, '<=', 20, "the 249 level-1 escalations were made in $xids transactions or subtransactions");

# the refused request escalates once it can: woken at the commit that makes it due
$node->safe_psql('postgres', q{
	DELETE FROM public.refused;
	UPDATE swarm.collab_requests SET next_escalation_at = now() WHERE request_id = 123;
	SELECT swarm.wake_escalator(now());
});
ok($node->poll_query_until('postgres', q{
	SELECT array_agg(level ORDER BY level) = '{1,2,3}' FROM swarm.escalations WHERE request_id = 123}),
	'request 123 escalates through every level');
is(escalations_of($node, 1, 250), '750 750', 'in all every level of every request, once');
is($node->safe_psql('postgres', q{
	SELECT count(*) || ' ' || count(DISTINCT (request_id, detail ->> 'level')) FROM swarm.events
	 WHERE kind = 'request_escalated'}), '750 750', 'one event per escalation');
ok($node->poll_query_until('postgres', q{
	SELECT escalations = 750 AND state = 'sleeping' FROM swarm.escalator_status WHERE NOT dynamic}),
	'escalator_status counts the 750');

# Notifications: one on each channel per escalation, in order on each channel
my $out = $listener->query_safe('SELECT 1');
my @esc = map { decode_json($_) }
  ($out =~ /Asynchronous notification "swarm_escalations" with payload "(.*?)" received/g);
my @events = grep { $_->{kind} eq 'request_escalated' } map { decode_json($_) }
  ($out =~ /Asynchronous notification "swarm_events" with payload "(.*?)" received/g);
is(scalar(@esc), 750, '750 notifications on swarm_escalations');
is(scalar(@events), 750, '750 request_escalated notifications on swarm_events');
is(scalar(keys %{ { map { ("$_->{request_id}:$_->{level}" => 1) } @esc } }), 750, 'one per request and level');
my %last;
my $in_order = 1;
for my $p (@esc)
{
	$in_order = 0 if ($last{ $p->{request_id} } // 0) >= $p->{level};
	$last{ $p->{request_id} } = $p->{level};
}
ok($in_order, "each request's levels in order");
is_deeply([ map { $_->{event_id} } @events ], [ sort { $a <=> $b } map { $_->{event_id} } @events ],
	'the events in the order of their ids');
is($node->safe_psql('postgres', q{
	SELECT count(*) FROM swarm.events WHERE kind = 'request_escalated' AND event_id IN (} .
	join(',', map { $_->{event_id} } @events) . ')'), '750', 'as recorded in swarm.events');
my ($p) = grep { $_->{request_id} == 200 && $_->{level} == 2 } @esc;
is($node->safe_psql('postgres', qq{
	SELECT count(*) FROM swarm.escalations
	 WHERE request_id = 200 AND level = 2 AND due_at = '$p->{due_at}' AND escalated_at = '$p->{escalated_at}'}), '1',
	'a payload has the due and escalation times recorded in swarm.escalations');
is($p->{case_id}, 200, 'and the case');
$listener->quit;

$node->stop;
done_testing();
