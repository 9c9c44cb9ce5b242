# swarmctl status: its tables parsed and compared with a fixture whose
# counts are known: cases and requests by state, SLA targets at risk and
# breached, agents by presence, and the escalation worker (running in one
# database, missing in the other).
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('swarmctl_status');
$node->init;
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'swarm'");
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION swarm');
$node->safe_psql('postgres', 'CREATE DATABASE helpdesk');

# The fixture, in database helpdesk (which no escalation worker serves, so
# nothing changes under the test).  SLA targets: P1 1 ms (whatever runs is
# breached), P2 10 hours (what started 8 hours ago is at risk: 75 % is
# 7.5 hours), P3 100 hours (nothing at risk).
$node->safe_psql('helpdesk', q{
	CREATE EXTENSION swarm;
	SELECT swarm.set_sla_policy('P1', '1 ms', '1 ms', '1 ms', '1 ms'),
	       swarm.set_sla_policy('P2', '10 hours', '10 hours', '10 hours', '10 hours'),
	       swarm.set_sla_policy('P3', '100 hours', '100 hours', '100 hours', '100 hours');
	SELECT swarm.add_agent('u-ana', 'Ana', 'pg:5, net:3, db:3', capacity => 20),       -- 1
	       swarm.add_agent('u-bo', 'Bo', 'pg:4'),                                      -- 2
	       swarm.add_agent('u-cy', 'Cy', 'net:4'),                                     -- 3
	       swarm.add_agent('u-di', 'Di', 'db:4');                                      -- 4
	SELECT swarm.set_presence(4, 'offline');
	SELECT swarm.open_case('T-' || i, 'case ' || i, CASE i WHEN 2 THEN 'P1' WHEN 3 THEN 'P2' ELSE 'P3' END::swarm.priority,
	                       'pg:3') FROM generate_series(1, 7) AS i;
	SELECT swarm.assign_case(i, 1) FROM generate_series(2, 7) AS i;
	-- case 1 stays new; 2 (P1) and 3 (P2) and 7 open; 4 pending; 5 resolved; 6 closed
	SELECT swarm.record_response(2);
	SELECT swarm.pause_sla(4, 'waiting on the customer');
	SELECT swarm.resolve_case(5), swarm.resolve_case(6);
	SELECT swarm.close_case(6);
	-- case 3 and its request started 8 hours ago
	UPDATE swarm.cases SET opened_at = now() - interval '8 hours' WHERE case_id = 3;
	SELECT swarm.sla_refresh_case(3);
	SELECT swarm.request_help(2, needed => 'net:3', mode => 'pull');   -- 1: open, P1
	SELECT swarm.request_help(3, needed => 'pg:3');                    -- 2: offered (to Bo), P2
	SELECT swarm.offer_request(2);
	UPDATE swarm.collab_requests SET created_at = now() - interval '8 hours' WHERE request_id = 2;
	SELECT swarm.sla_refresh_request(2);
	SELECT swarm.request_help(7, needed => 'pg:3');                    -- 3: accepted
	SELECT swarm.accept_request(3, 2);
	SELECT swarm.request_help(7, needed => 'net:3');                   -- 4: resolved
	SELECT swarm.accept_request(4, 3);
	SELECT swarm.resolve_request(4);
	SELECT swarm.request_help(7, needed => 'db:2');                    -- 5: cancelled
	SELECT swarm.cancel_request(5, 'solved it myself');
});

# Run swarmctl status; its output split into sections by title.
sub status_of
{
	my ($db) = @_;
	my ($stdout, $stderr);
	IPC::Run::run([ 'swarmctl', '-d', $db, '-h', $node->host, '-p', $node->port, 'status' ],
		'>', \$stdout, '2>', \$stderr);
	is($? >> 8, 0, "status of $db: exit status 0");
	is($stderr, '', "status of $db: nothing on stderr");
	my %section;
	for my $block (split /\n\n/, $stdout)
	{
		my ($title, @rest) = split /\n/, $block;
		$section{$title} = join("\n", @rest);
	}
	return ($stdout, \%section);
}

# The rows of a table: first column => the other columns.
sub rows_of
{
	my ($table) = @_;
	my %rows;
	my @lines = split /\n/, $table;
	shift @lines for 1 .. 2;    # header and rule
	for (@lines)
	{
		last if /^\s*$/;
		s/^\s+//;
		my ($name, @values) = split /\s{2,}/;
		$rows{$name} = \@values;
	}
	return \%rows;
}

my ($out, $s) = status_of('helpdesk');
like($out, qr/^swarm 0\.1\.0 in database "helpdesk" on \S+, \d{4}-\d\d-\d\d \d\d:\d\d:\d\d/, 'a heading');
like($out, qr/^agents: 3 online, 0 away, 1 offline \(4 active\)$/m, 'agents by presence');

my $cases = rows_of($s->{Cases});
is_deeply({ map { $_ => $cases->{$_}[0] } keys %$cases },
	{ new => 1, open => 3, pending => 1, resolved => 1, closed => 1, 'open work (new, open, pending)' => 5 },
	'cases by state');
my $requests = rows_of($s->{Requests});
is_deeply({ map { $_ => $requests->{$_}[0] } keys %$requests },
	{ open => 1, offered => 1, accepted => 1, resolved => 1, cancelled => 1, 'active (open, offered, accepted)' => 3 },
	'requests by state');
my $sla = rows_of($s->{'SLA targets still running (swarm.sla_due)'});
is_deeply($sla,
	{
		'case first response' => [ 1, 0 ],    # case 3 (case 2 responded, case 4 is paused)
		'case resolution' => [ 1, 1 ],        # case 3 at risk, case 2 breached
		'request accept' => [ 1, 1 ],         # request 2 at risk, request 1 breached
		'request resolution' => [ 1, 1 ],
		'total' => [ 4, 3 ],
	},
	'SLA targets at risk and breached');
is_deeply($sla->{total}, [
		split /\|/, $node->safe_psql('helpdesk', q{
		SELECT count(*) FILTER (WHERE state = 'at_risk') || '|' || count(*) FILTER (WHERE state = 'breached')
		  FROM swarm.sla_due(now(), 1000)}) ],
	'the totals are what sla_due says');
like($s->{'Escalation worker'}, qr/^  not running for database "helpdesk": unanswered requests will not escalate/,
	'no worker serves helpdesk: status says so');
# Request 1 (P1) is past its first level since 0.75 ms after it was made;
# request 2's first level (75 % of 10 hours) came 30 minutes ago.
my ($due, $overdue) = $s->{'Escalation worker'} =~ /requests with an escalation due and not made: (\d+) \(the oldest overdue by (\d+) ms\)/;
is($due, 2, 'and that two requests have an escalation due');
cmp_ok($overdue, '>=', 30 * 60 * 1000, 'the oldest for 30 minutes');

# In database postgres the preloaded worker runs.
ok($node->poll_query_until('postgres', q{SELECT count(*) = 1 FROM swarm.escalator_status WHERE state = 'sleeping'}),
	'the worker sleeps in postgres');
($out, $s) = status_of('postgres');
my $worker = $node->safe_psql('postgres', 'SELECT pid FROM swarm.escalator_status');
my $esc = rows_of($s->{'Escalation worker'});
ok(exists $esc->{$worker}, 'the worker is listed by its pid') or diag($out);
like(join(' ', @{ $esc->{$worker} // [] }), qr/^(sleeping|sweeping) preloaded 0 /, 'with its state, kind and escalations');
like($s->{'Escalation worker'}, qr/requests with an escalation due and not made: 0 \(the oldest overdue by 0 ms\)/,
	'nothing due');
like($s->{Cases}, qr/open work \(new, open, pending\)\s+0$/m, 'an empty helpdesk');

$node->stop;
done_testing();
