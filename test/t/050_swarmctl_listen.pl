# swarmctl listen: one JSON object per line for every notification on
# swarm_events and swarm_escalations; a dropped connection is reported on
# stderr and recovered; SIGINT and SIGTERM end it with status 0; --kinds and
# --format text; a warning when no escalation worker serves the database.
use strict;
use warnings;
use IPC::Run;
use JSON::PP;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('swarmctl_listen');
$node->init;
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'swarm'");
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION swarm');

# Every swarmctl started, so that none outlives a test that fails midway
# (a listener reconnects for ever).
my @started;
END { $_->kill_kill for grep { $_->pumpable } @started; }

# Start swarmctl with the node's connection string; returns the handle and
# references to its stdout and stderr.
sub start_swarmctl
{
	my (@args) = @_;
	my ($out, $err) = ('', '');
	my $h = IPC::Run::start([ 'swarmctl', $node->connstr('postgres'), @args ],
		'<', \undef, '>', \$out, '2>', \$err);
	push @started, $h;
	return ($h, \$out, \$err);
}

# Wait until the stream matches; fail the test (not die) on a timeout.
sub wait_for
{
	my ($h, $stream, $re, $what) = @_;
	my $timeout = IPC::Run::timeout($PostgreSQL::Test::Utils::timeout_default);
	ok(pump_until($h, $timeout, $stream, $re), $what);
}

# The JSON lines printed so far, decoded.
sub lines_of
{
	my ($out) = @_;
	return map { decode_json($_) } grep { $_ ne '' } split /\n/, $$out;
}

# Events from API calls -----------------------------------------------------------
my ($h, $out, $err) = start_swarmctl('listen');
wait_for($h, $err, qr/listening on swarm_events, swarm_escalations in database "postgres"/,
	'listen says on stderr what it listens on');
unlike($$err, qr/no escalation worker/, 'the preloaded worker serves postgres: no warning');

$node->safe_psql('postgres', q{
	SELECT swarm.add_agent('u1', 'Ana', 'pg:4');
	SELECT swarm.add_agent('u2', 'Bo', 'pg:3');
	SELECT swarm.open_case('T-1', 'one', 'P3', 'pg:3');
	SELECT swarm.assign_case(1, 1);
	SELECT swarm.request_help(1, needed => 'pg:3');
	SELECT swarm.accept_request(1, 2);
});
wait_for($h, $out, qr/request_accepted.*\n/, 'the six events arrive');
my @lines = lines_of($out);
is(scalar(@lines), 6, 'one line per notification');
is_deeply([ map { $_->{channel} } @lines ], [ ('swarm_events') x 6 ], 'each names its channel');
is_deeply([ map { $_->{payload}{kind} } @lines ],
	[qw(agent_added agent_added case_opened case_assigned help_requested request_accepted)],
	'payloads are the events, in order');
like($lines[0]{pid}, qr/^\d+$/, 'each has the notifying backend pid');
is($lines[-1]{payload}{request_id}, 1, 'the payload is the JSON object swarm sent');
is($node->safe_psql('postgres',
		'SELECT string_agg(event_id::text, \',\' ORDER BY event_id) FROM swarm.events'),
	join(',', map { $_->{payload}{event_id} } @lines), 'event ids are the recorded events');

# Someone else's NOTIFY with a payload that is not JSON: embedded as a string.
$node->safe_psql('postgres', q[NOTIFY swarm_events, 'not {json']);
wait_for($h, $out, qr/not \{json/, 'a foreign payload arrives');
@lines = lines_of($out);
is($lines[-1]{payload}, 'not {json', 'a payload that is not JSON becomes a JSON string');

# Escalations -----------------------------------------------------------------------
# Nobody but the owner has the skill, so the request escalates: the default
# ladder fires at 75 %, 100 % and 150 % of a one-second acceptance target.
$node->safe_psql('postgres', q{
	SELECT swarm.set_sla_policy('P2', '1 hour', '1 day', '1 second', '1 hour');
	SELECT swarm.add_agent('u3', 'Cy', 'cobol:5');
	SELECT swarm.open_case('T-2', 'two', 'P2', 'cobol:3');
	SELECT swarm.assign_case(2, 3);
	SELECT swarm.request_help(2, needed => 'cobol:4');
});
wait_for($h, $out, qr/"channel":"swarm_escalations".*"level" : 3/, 'three escalations arrive');
my @esc = grep { $_->{channel} eq 'swarm_escalations' } lines_of($out);
is_deeply([ map { $_->{payload}{level} } @esc ], [ 1, 2, 3 ], 'levels 1, 2 and 3 on swarm_escalations');
is($esc[0]{payload}{request_id}, 2, 'for request 2');
is_deeply($esc[0]{payload}{actions}, ['renotify'], 'with the actions');
is(scalar(grep { ref $_->{payload} && ($_->{payload}{kind} // '') eq 'request_escalated' } lines_of($out)),
	3, 'and a request_escalated event each on swarm_events');

# A dropped connection is recovered -------------------------------------------------
# (The listener is found by its query: the test harness sets PGAPPNAME,
# which overrides swarmctl's application name, "swarmctl listen".)
my $listener = $node->safe_psql('postgres',
	q{SELECT pid FROM pg_stat_activity WHERE query LIKE 'LISTEN %'});
like($listener, qr/^\d+$/, 'the listener has one backend');
$node->safe_psql('postgres', "SELECT pg_terminate_backend($listener)");
wait_for($h, $err, qr/lost: .*\n(?s:.*)reconnected to database "postgres"/,
	'stderr says the connection was lost and then reconnected');
like($$err, qr/reconnecting in 0\.5 s/, 'after a short backoff');
like($$err, qr/the last event seen was event_id \d+/, 'and which event came last before the gap');
isnt($node->safe_psql('postgres',
		q{SELECT pid FROM pg_stat_activity WHERE query LIKE 'LISTEN %'}),
	$listener, 'a new backend listens');
my $before = () = $$out =~ /\n/g;
$node->safe_psql('postgres', q{SELECT swarm.set_presence(1, 'away')});
wait_for($h, $out, qr/presence_changed/, 'events after the reconnection are printed');
@lines = lines_of($out);
is(scalar(@lines), $before + 1, 'one more line');
is($lines[-1]{payload}{agent_id}, 1, 'for the new event');

# SIGINT ends it with status 0 ----------------------------------------------------------
$h->signal('INT');
$h->finish;
is($h->result(0), 0, 'SIGINT: exit status 0');
like($$err, qr/stopped after \d+ notifications/, 'it says it stopped');
ok($node->poll_query_until('postgres',
		q{SELECT count(*) = 0 FROM pg_stat_activity WHERE query LIKE 'LISTEN %'}),
	'and leaves no session behind');

# --kinds and --format text; SIGTERM ---------------------------------------------------
($h, $out, $err) = start_swarmctl('listen', '--format', 'text', '--kinds', 'case_opened,case_transferred');
wait_for($h, $err, qr/listening on/, 'a second listener starts');
$node->safe_psql('postgres', q{
	SELECT swarm.set_presence(1, 'online');
	SELECT swarm.open_case('T-3', 'three', 'P4', 'pg:2');
	SELECT swarm.assign_case(3, 1);
	SELECT swarm.transfer_case(3, 2, 'Ana goes on leave');
});
wait_for($h, $out, qr/case_transferred.*\n/, 'the selected events arrive');
my @text = split /\n/, $$out;
is(scalar(@text), 2, 'only the kinds asked for');
like($text[0], qr/^\d\d:\d\d:\d\d\.\d{3}  case_opened {11}T-3 P4 "three"$/, 'a readable line: the ticket');
like($text[1], qr/^\d\d:\d\d:\d\d\.\d{3}  case_transferred {6}T-3: Ana -> Bo \(Ana goes on leave\)$/,
	'the agents by name, and the reason');
$h->signal('TERM');
$h->finish;
is($h->result(0), 0, 'SIGTERM: exit status 0');

# Escalations in text: the level, its actions and their effects.
($h, $out, $err) = start_swarmctl('listen', '--format', 'text', '--channels', 'swarm_escalations');
wait_for($h, $err, qr/listening on swarm_escalations/, 'a listener for escalations');
$node->safe_psql('postgres', q{
	SELECT swarm.open_case('T-4', 'four', 'P2', 'cobol:3');
	SELECT swarm.assign_case(4, 3);
	SELECT swarm.request_help(4, needed => 'cobol:4');
});
wait_for($h, $out, qr/level 3 .*\n/, 'its three escalations arrive');
@text = split /\n/, $$out;
like($text[0], qr/^\d\d:\d\d:\d\d\.\d{3}  escalation L1 {9}T-4: request 3 level 1 \(renotify\): told skilled agents again$/,
	'level 1 in words');
like($text[1], qr/  escalation L2 {9}T-4: request 3 level 2 \(widen, notify_leads\): nothing to widen$/,
	'level 2: no group to widen, no leads to tell');
like($text[2], qr/  escalation L3 {9}T-4: request 3 level 3 \(raise_priority\): priority raised to P1$/, 'level 3');
$h->signal('INT');
$h->finish;

# A role that may only LISTEN: ids instead of names, said once.
$node->safe_psql('postgres', 'CREATE ROLE bridge LOGIN');
my ($out3, $err3) = ('', '');
$h = IPC::Run::start([ 'swarmctl', $node->connstr('postgres') . ' user=bridge', 'listen', '--format', 'text' ],
	'>', \$out3, '2>', \$err3);
push @started, $h;
wait_for($h, \$err3, qr/listening on/, 'a role without privileges listens');
like($err3, qr/warning: cannot tell whether an escalation worker runs for database "postgres": permission denied/,
	'it cannot tell whether a worker runs, and says so');
$node->safe_psql('postgres', q{SELECT swarm.set_presence(2, 'away')});
$node->safe_psql('postgres', q{SELECT swarm.set_presence(2, 'online')});
wait_for($h, \$out3, qr/presence_changed(?s:.*)presence_changed.*\n/, 'the events arrive');
like($out3, qr/^\d\d:\d\d:\d\d\.\d{3}  presence_changed {4}  agent 2  event \d+$/m, 'with their ids');
is(scalar(() = $err3 =~ /cannot read the details of the events/g), 1, 'the missing privilege is reported once');
$h->signal('INT');
$h->finish;
is($h->result(0), 0, 'exit status 0');

# No escalation worker for the database: a warning, once -----------------------------------
$node->safe_psql('postgres', 'CREATE DATABASE noworker');
$node->safe_psql('noworker', 'CREATE EXTENSION swarm');
my ($out2, $err2) = ('', '');
$h = IPC::Run::start([ 'swarmctl', $node->connstr('noworker'), 'listen' ], '>', \$out2, '2>', \$err2);
push @started, $h;
wait_for($h, \$err2, qr/listening on/, 'listen starts in a database without a worker');
like($err2, qr/warning: no escalation worker is running for database "noworker": escalations will not arrive/,
	'it warns that escalations will not arrive');
like($err2, qr/hint: .*start_escalator/, 'and says what to do');
$h->signal('INT');
$h->finish;
is($h->result(0), 0, 'exit status 0');
($out2, $err2) = ('', '');
$h = IPC::Run::start([ 'swarmctl', $node->connstr('noworker'), 'listen', '--channels', 'swarm_events' ],
	'>', \$out2, '2>', \$err2);
push @started, $h;
wait_for($h, \$err2, qr/listening on swarm_events in/, '--channels swarm_events');
unlike($err2, qr/no escalation worker/, 'no warning when not listening for escalations');
$h->signal('INT');
$h->finish;

$node->stop;
done_testing();
