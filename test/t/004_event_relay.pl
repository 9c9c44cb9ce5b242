# The event relay: the notifications of committed API calls reach listeners,
# sent by the relay worker, each once; rolled-back work (whole transactions
# or savepoints) sends nothing; with swarm.event_relay off, or in a database
# the relay does not serve, a transaction notifies by itself.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use SwarmNotify;
use Test::More;
use Time::HiRes qw(time);

my $node = PostgreSQL::Test::Cluster->new('relay');
$node->init;
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'swarm'
swarm.database_name = 'postgres'
max_connections = 40
});
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION swarm');
ok($node->poll_query_until('postgres', 'SELECT running FROM swarm.event_relay_status'), 'the relay runs');
my $relay_pid = $node->safe_psql('postgres', 'SELECT pid FROM swarm.event_relay_status');

my $listener = $node->background_psql('postgres');
$listener->query_safe('LISTEN swarm_events');
my @seen;

# committed, rolled back, and a savepoint rolled back inside a committed transaction
$node->safe_psql('postgres', q{
	SELECT swarm.add_agent('a1', 'Ana', 'pg:4');
	SELECT swarm.add_agent('a2', 'Bo', 'pg:3');
});
$node->safe_psql('postgres', q{
	BEGIN;
	SELECT swarm.add_agent('gone', 'Rolled back', 'pg:1');
	ROLLBACK;
	BEGIN;
	SAVEPOINT s;
	SELECT swarm.add_agent('gone2', 'Rolled back to savepoint', 'pg:1');
	ROLLBACK TO SAVEPOINT s;
	SELECT swarm.add_agent('a3', 'Cy', 'pg:2');
	SAVEPOINT t;
	SELECT swarm.add_agent('a4', 'Di', 'pg:2');
	RELEASE SAVEPOINT t;
	COMMIT;
});
collect_notifications($listener, 'swarm_events', 4, \@seen);
push @seen, parse_notifications(scalar($listener->query('SELECT 1')), 'swarm_events');
is(scalar(@seen), 4, 'four committed calls, four notifications');
is_deeply([ map { $_->[1]{agent_id} } @seen ], [ 1, 2, 5, 6 ],
	'only committed work is notified (agents 3 and 4 were rolled back), in order');
is(scalar(grep { $_->[0] == $relay_pid } @seen), 4, 'the relay sent them');

# many sessions at once: every committed event is notified exactly once
$node->safe_psql('postgres', 'CREATE SEQUENCE refs');
$node->pgbench('--no-vacuum --client=4 --jobs=4 --transactions=50', 0,
	[qr{processed: 200/200}], [qr{^$}], 'four clients open 200 cases',
	{ 'open' => q{SELECT swarm.open_case('C-' || nextval('refs'), 'load', 'P3', 'pg:1');} });
@seen = ();
collect_notifications($listener, 'swarm_events', 200, \@seen);
push @seen, parse_notifications(scalar($listener->query('SELECT 1')), 'swarm_events');
my %ids;
$ids{ $_->[1]{event_id} }++ for @seen;
is(scalar(@seen), 200, '200 notifications for 200 cases');
is(scalar(grep { $ids{$_} > 1 } keys %ids), 0, 'none sent twice');
is($node->safe_psql('postgres',
	"SELECT count(*) FROM swarm.events WHERE kind = 'case_opened' AND event_id IN (" . join(',', keys %ids) . ")"),
	200, 'each is a recorded case_opened event');

my ($relayed, $batches) = split /\|/, $node->safe_psql('postgres', 'SELECT relayed, batches FROM swarm.event_relay_status');
cmp_ok($relayed, '>=', 204, 'the status counts the relayed notifications');
cmp_ok($batches, '<=', $relayed, 'in at most as many transactions');

# commits in quick succession: the relay lets them gather after each batch,
# so it sends them in fewer transactions than there were commits
my ($relayed0, $batches0) = split /\|/, $node->safe_psql('postgres', 'SELECT relayed, batches FROM swarm.event_relay_status');
my $t0 = time();
$node->safe_psql('postgres', q{
	DO $$
	BEGIN
		FOR i IN 1..300 LOOP
			PERFORM swarm.open_case('Q-' || i, 'burst', 'P3', 'pg:1');
			COMMIT;
		END LOOP;
	END
	$$;
});
my $burst_ms = 1000 * (time() - $t0);
@seen = ();
collect_notifications($listener, 'swarm_events', 300, \@seen);
push @seen, parse_notifications(scalar($listener->query('SELECT 1')), 'swarm_events');
is(scalar(@seen), 300, '300 commits in a row, 300 notifications');
($relayed, $batches) = split /\|/, $node->safe_psql('postgres', 'SELECT relayed, batches FROM swarm.event_relay_status');
is($relayed - $relayed0, 300, 'all relayed');
# after each batch the relay waits 5 ms: at most one batch per 5 ms of the
# burst (plus the last one), however fast or slow the machine commits
cmp_ok($batches - $batches0, '<=', int($burst_ms / 5) + 2,
	sprintf('in at most one relay transaction per 5 ms (%d for 300 commits in %.0f ms)',
		$batches - $batches0, $burst_ms));

# swarm.event_relay off: the transaction notifies by itself
$node->safe_psql('postgres', 'ALTER SYSTEM SET swarm.event_relay = off; SELECT pg_reload_conf()');
ok($node->poll_query_until('postgres', 'SELECT NOT running FROM swarm.event_relay_status'), 'the relay is off');
my $direct_before = $node->safe_psql('postgres', 'SELECT direct FROM swarm.event_relay_status');
my $pid = $node->safe_psql('postgres', q{SELECT pg_backend_pid() FROM swarm.add_agent('a5', 'Ed', 'pg:1')});
@seen = ();
collect_notifications($listener, 'swarm_events', 1, \@seen);
is(scalar(@seen), 1, 'with the relay off the call is still notified');
is($seen[0][0], $pid, 'by the calling session itself');
is($node->safe_psql('postgres', 'SELECT direct FROM swarm.event_relay_status'), $direct_before + 1,
	'the status counts it as sent directly');

$node->safe_psql('postgres', 'ALTER SYSTEM RESET swarm.event_relay; SELECT pg_reload_conf()');
ok($node->poll_query_until('postgres', 'SELECT running FROM swarm.event_relay_status'), 'the relay is back on');

# another database: the relay serves only swarm.database_name
$node->safe_psql('postgres', 'CREATE DATABASE other');
$node->safe_psql('other', 'CREATE EXTENSION swarm');
my $other = $node->background_psql('other');
$other->query_safe('LISTEN swarm_events');
$pid = $node->safe_psql('other', q{SELECT pg_backend_pid() FROM swarm.add_agent('o1', 'Olga', 'pg:1')});
my @other_seen;
collect_notifications($other, 'swarm_events', 1, \@other_seen);
is(scalar(@other_seen), 1, 'a call in another database is notified there');
is($other_seen[0][0], $pid, 'by the calling session itself');
$other->quit;
$listener->quit;

# the relay exits on SIGTERM and comes back
$node->safe_psql('postgres', "SELECT pg_terminate_backend($relay_pid)");
ok($node->poll_query_until('postgres', "SELECT running AND pid <> $relay_pid FROM swarm.event_relay_status"),
	'a terminated relay is restarted');

$node->stop;
done_testing();
