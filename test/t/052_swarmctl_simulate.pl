# swarmctl simulate: a small helpdesk day at high speed runs, leaves
# consistent data, reports what the database holds, and is deterministic:
# two runs with the same seed on fresh databases make the same calls and
# leave the same counts of cases, requests and events by kind.  A run next
# to the escalation worker leaves no escalation level unfired.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('swarmctl_simulate');
$node->init;
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'swarm'");
$node->start;

# Routing's experience component decays with wall-clock time, so in an
# exact tie between two agents the order could depend on how fast the
# calls ran.  Its weight is set to 0 so that the server's answers, and with
# them the runs, depend on the seed alone.  These databases have no
# escalation worker (it serves database postgres).
for my $db (qw(sim_a sim_b sim_c))
{
	$node->safe_psql('postgres', "CREATE DATABASE $db");
	$node->safe_psql($db, q{
		CREATE EXTENSION swarm;
		SELECT swarm.set_routing_weight('experience', 0);
	});
}

# Run simulate; its exit status, stdout and stderr.
sub simulate
{
	my ($db, @args) = @_;
	my ($stdout, $stderr);
	IPC::Run::run([ 'swarmctl', $node->connstr($db), 'simulate', @args ], '<', \undef,
		'>', \$stdout, '2>', \$stderr);
	return ($? >> 8, $stdout, $stderr);
}

# What a run left in the database, as text to compare.
sub snapshot
{
	my ($db) = @_;
	return $node->safe_psql($db, q{
		SELECT 'cases ' || state || ' ' || count(*) FROM swarm.cases GROUP BY state
		UNION ALL
		SELECT 'requests ' || state || ' ' || count(*) FROM swarm.collab_requests GROUP BY state
		UNION ALL
		SELECT 'events ' || kind || ' ' || count(*) FROM swarm.events GROUP BY kind
		UNION ALL
		SELECT 'handoffs ' || sum(handoffs) FROM swarm.cases
		UNION ALL
		SELECT 'articles ' || count(kb_ref) FROM swarm.cases
		ORDER BY 1});
}

my @args = ('--agents', '12', '--hours', '12', '--speed', '1000000', '--seed', '42');
my ($rc, $out_a, $err_a) = simulate('sim_a', @args);
is($rc, 0, 'simulate exits with status 0');
is($err_a, '', 'nothing on stderr');
like($out_a, qr/^simulating 12:00 of a helpdesk with 12 agents \(seed 42\) in database "sim_a"/m, 'it says what it does');
like($out_a, qr/^no escalation worker serves sim_a: requests left unanswered will not escalate$/m,
	'and that no worker escalates here');
is(scalar(() = $out_a =~ /^sim \d\d:00  cases /mg), 12, 'not a terminal: a progress line per simulated hour');
like($out_a, qr/^simulated 12:00 of 12:00 \(seed 42, 12 agents, speed 1e\+06\) in [\d.]+ s$/m, 'a summary');

# The summary tells what the database holds.
my ($opened, $assigned, $transferred, $resolved, $with_kb, $closed) =
  $out_a =~ /^cases:\s+(\d+) opened, (\d+) assigned, (\d+) transferred, (\d+) resolved \((\d+) with a knowledge article\), (\d+) closed$/m;
my ($asked, $accepted, $req_resolved) =
  $out_a =~ /^requests: (\d+) asked \(\d+ pushed, \d+ pulled\), (\d+) accepted \(\d+ grabbed\), \d+ declined, (\d+) resolved/m;
ok(defined $closed && defined $req_resolved, 'the summary has the counts') or diag($out_a);
is($node->safe_psql('sim_a', q{
	SELECT count(*) || ' ' || count(owner_id) || ' ' || sum(handoffs) || ' '
	       || count(resolved_at) || ' ' || count(kb_ref) || ' ' || count(closed_at) FROM swarm.cases}),
	"$opened $assigned $transferred $resolved $with_kb $closed",
	'cases opened, assigned, transferred, resolved, with an article and closed, as the summary says');
is($node->safe_psql('sim_a', q{
	SELECT count(*) || ' ' || count(accepted_at) FROM swarm.collab_requests}), "$asked $accepted",
	'requests asked and accepted, as the summary says');
is($node->safe_psql('sim_a', q{SELECT count(*) FROM swarm.events WHERE kind = 'request_resolved'}), $req_resolved,
	'requests resolved (by their helpers or with the case), as the summary says');
my %events = map { split / / } split /\n/, $node->safe_psql('sim_a',
	q{SELECT kind || ' ' || count(*) FROM swarm.events
	   WHERE event_id > (SELECT max(event_id) FROM swarm.events WHERE kind = 'routing_weight_set') GROUP BY kind});
for my $kind (sort keys %events)
{
	like($out_a, qr/^  \Q$kind\E\s+$events{$kind}$/m, "the summary counts $kind events");
}

# A realistic day: swarming on some cases, not all (this seed's run).
cmp_ok($opened, '>=', 15, 'cases arrived');
cmp_ok($asked, '>', 0, 'owners asked for help');
cmp_ok($asked, '<', $opened / 2, 'on a minority of the cases');
cmp_ok($accepted, '>', 0, 'helpers accepted');
cmp_ok($resolved, '>', 0, 'cases were resolved');
is($node->safe_psql('sim_a', q{SELECT count(DISTINCT region) FROM swarm.agents}), '3', 'agents in three regions');
cmp_ok($node->safe_psql('sim_a', q{SELECT count(DISTINCT timezone) FROM swarm.agents}), '>=', 4,
	'in several time zones');
is($node->safe_psql('sim_a', q{SELECT count(*) FILTER (WHERE scope = 'global') > 0 AND count(*) FILTER (WHERE scope = 'regional') > 0
	FROM swarm.skill_groups}), 't', 'regional and global groups');
cmp_ok($events{presence_changed}, '>', 12, 'agents come and go with their shifts');

# Consistent data ----------------------------------------------------------------------
is($node->safe_psql('sim_a', q{
	SELECT count(*) FROM swarm.agents AS a
	 WHERE a.open_cases <> (SELECT count(*) FROM swarm.cases AS c
	                         WHERE c.owner_id = a.agent_id AND c.state IN ('open', 'pending'))
	    OR a.open_helps <> (SELECT count(*) FROM swarm.collab_requests AS r
	                         WHERE r.helper_id = a.agent_id AND r.state = 'accepted')}), '0',
	'every agent\'s open_cases and open_helps match the cases and requests');
is($node->safe_psql('sim_a', q{
	SELECT count(*) FROM swarm.collab_requests AS r JOIN swarm.cases AS c USING (case_id)
	 WHERE r.state IN ('open', 'offered', 'accepted') AND c.state NOT IN ('open', 'pending')}), '0',
	'no request is still active on a case that is not open');
is($node->safe_psql('sim_a', q{
	SELECT count(*) FROM swarm.cases AS c
	 WHERE c.owner_id IS NOT NULL
	   AND NOT EXISTS (SELECT 1 FROM swarm.participants AS p
	                    WHERE p.case_id = c.case_id AND p.agent_id = c.owner_id AND p.role = 'owner')}), '0',
	'every owner is a participant of its case');
is($node->safe_psql('sim_a', q{
	SELECT (SELECT count(*) FROM swarm.events WHERE kind = 'case_opened') = (SELECT count(*) FROM swarm.cases)
	   AND (SELECT count(*) FROM swarm.events WHERE kind = 'help_requested') = (SELECT count(*) FROM swarm.collab_requests)
	   AND (SELECT count(*) FROM swarm.events WHERE kind = 'case_transferred') = (SELECT sum(handoffs) FROM swarm.cases)}),
	't', 'the audit trail matches the tables');
is($node->safe_psql('sim_a', q{
	SELECT count(*) FROM swarm.events WHERE kind = 'case_transferred' AND coalesce(detail ->> 'reason', '') = ''}), '0',
	'every transfer has a reason');
is($node->safe_psql('sim_a', q{SELECT count(*) FROM swarm.cases WHERE kb_ref IS NOT NULL AND kb_ref !~ '^KB-\d{4}$'}),
	'0', 'articles are named KB-nnnn');

# Deterministic -----------------------------------------------------------------------------
my ($rc_b, $out_b) = simulate('sim_b', @args);
is($rc_b, 0, 'a second run with the same seed');
is(snapshot('sim_b'), snapshot('sim_a'), 'the same cases and requests by state, and events by kind');
my $calls = sub { my ($o) = @_; ($o =~ /(^  function .*?)\n\n/ms)[0] };
ok(defined $calls->($out_a), 'the summary lists the calls by function');
is($calls->($out_b), $calls->($out_a), 'the same calls by function');
is(join("\n", $out_b =~ /^(sim \d\d:00 .*)$/mg), join("\n", $out_a =~ /^(sim \d\d:00 .*)$/mg),
	'the same progress, hour by hour');
is($node->safe_psql('sim_b', q{SELECT string_agg(name || ' ' || skills::text, '; ' ORDER BY agent_id) FROM swarm.agents}),
	$node->safe_psql('sim_a', q{SELECT string_agg(name || ' ' || skills::text, '; ' ORDER BY agent_id) FROM swarm.agents}),
	'the same agents');

my ($rc_c) = simulate('sim_c', @args[0 .. 5], '--seed', '43');
is($rc_c, 0, 'a run with another seed');
isnt(snapshot('sim_c') . $node->safe_psql('sim_c', q{SELECT string_agg(skills::text, ';' ORDER BY agent_id) FROM swarm.agents}),
	snapshot('sim_a') . $node->safe_psql('sim_a', q{SELECT string_agg(skills::text, ';' ORDER BY agent_id) FROM swarm.agents}),
	'makes another helpdesk');

# A database that already has swarm data is refused ------------------------------------------
my ($rc_again, $out_again, $err_again) = simulate('sim_a', @args);
is($rc_again, 1, 'simulate on a database with data: exit status 1');
like($err_again, qr/error: database "sim_a" on \S+ already has swarm data \(12 agents, 8 groups, \d+ cases\)/,
	'it says why');
like($err_again, qr/hint: simulate builds its own helpdesk: run it on a new database/, 'and what to do');

# Next to the escalation worker -------------------------------------------------------------
# Database postgres has the worker.  Unanswered requests escalate while the
# simulation runs (their targets are compressed with the clock); afterwards
# no level that came due is left unfired.
$node->safe_psql('postgres', 'CREATE EXTENSION swarm');
ok($node->poll_query_until('postgres', q{SELECT count(*) = 1 FROM swarm.escalator_status WHERE state = 'sleeping'}),
	'the worker serves postgres');
my ($rc_w, $out_w, $err_w) = simulate('postgres', '--agents', '12', '--hours', '6', '--speed', '7200', '--seed', '42');
is($rc_w, 0, 'a run next to the worker');
like($out_w, qr/^escalation worker: (sleeping|sweeping)$/m, 'it reports the worker');
ok($node->poll_query_until('postgres', q{
	SELECT count(*) = 0 FROM swarm.collab_requests
	 WHERE state IN ('open', 'offered') AND next_escalation_at < clock_timestamp() - interval '1 second'}),
	'no escalation level is left unfired');
is($node->safe_psql('postgres', q{
	SELECT (SELECT count(*) FROM swarm.escalations)
	     = (SELECT count(*) FROM swarm.events WHERE kind = 'request_escalated')}), 't',
	'one event per escalation');

$node->stop;
done_testing();
