# Every lifecycle call sends NOTIFY swarm_events with a JSON payload
# {kind, event_id, case_id, request_id, agent_id, at}; a refused call sends nothing.
# The event relay sends them (test/t/004_event_relay.pl), so the listener
# waits until they arrive.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use SwarmNotify;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('notify');
$node->init;
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'swarm'");
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION swarm');

my $psql = $node->background_psql('postgres', on_error_stop => 0);
my @seen;
push @seen, parse_notifications(scalar $psql->query(q{
	LISTEN swarm_events;
	SELECT swarm.add_agent('u1', 'Ana', 'pg:4');
	SELECT swarm.add_agent('u2', 'Bo', 'pg:3');
	SELECT swarm.open_case('T-1', 'one', 'P1', 'pg:3');
	SELECT swarm.assign_case(1, 1);
	SELECT swarm.request_help(1, needed => 'pg:3');
	SELECT swarm.accept_request(1, 1);
	SELECT swarm.accept_request(1, 2);
}), 'swarm_events');
like($psql->{stderr}, qr/agent 1 owns case 1 and cannot accept its own request 1/, 'the refused call failed');
collect_notifications($psql, 'swarm_events', 6, \@seen);
# anything more would arrive with the next statements' results
push @seen, parse_notifications(scalar($psql->query('SELECT 1')), 'swarm_events');
$psql->quit;

my @payloads = map { $_->[1] } @seen;
is(scalar(@payloads), 6, 'six calls that changed something sent six notifications');
is_deeply([ map { $_->{kind} } @payloads ],
	[qw(agent_added agent_added case_opened case_assigned help_requested request_accepted)],
	'notifications carry the event kinds in order');

my $accepted = $payloads[-1];
is($accepted->{case_id}, 1, 'payload has the case id');
is($accepted->{request_id}, 1, 'payload has the request id');
is($accepted->{agent_id}, 2, 'payload has the agent id');
like($accepted->{at}, qr/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d/, 'payload has an ISO 8601 time');
my $ids_match = $node->safe_psql('postgres',
	"SELECT count(*) FROM swarm.events WHERE event_id IN (" . join(',', map { $_->{event_id} } @payloads) . ")");
is($ids_match, 6, 'payload event ids are the recorded events');

$node->stop;
done_testing();
