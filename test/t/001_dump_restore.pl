# pg_dump / pg_restore of a helpdesk database keeps every swarm row and the
# sequences, so ids keep counting after a restore.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('dump');
$node->init;
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'swarm'");
$node->start;

$node->safe_psql('postgres', 'CREATE DATABASE helpdesk');
$node->safe_psql('helpdesk', q{
	CREATE EXTENSION swarm;
	SELECT swarm.add_agent('u' || i, 'Agent ' || i, ('postgres:' || (i % 5 + 1) || ', linux')::swarm.skillset,
	                       CASE WHEN i % 2 = 0 THEN 'emea' ELSE 'amer' END, 'Europe/Berlin')
	  FROM generate_series(1, 6) i;
	SELECT swarm.add_group('pg', 'postgres:3', 'global');
	SELECT swarm.add_group_member('pg', 2, true);
	SELECT swarm.open_case('T-' || i, 'case ' || i, 'P2', '"windows server":2, postgres:3', 'cust' || i, 'emea')
	  FROM generate_series(1, 5) i;
	SELECT swarm.assign_case(i, i) FROM generate_series(1, 4) i;
	SELECT swarm.request_help(1, 'pg');
	SELECT swarm.request_help(2, needed => 'linux:2');
	SELECT swarm.decline_request(1, 3, 'busy');
	SELECT swarm.accept_request(1, 2);
	SELECT swarm.resolve_request(1, 'fixed');
	SELECT swarm.resolve_case(1, 'KB-1');
	SELECT swarm.close_case(1);
	SELECT swarm.transfer_case(3, 5, 'skills');
});

my $dump = $node->basedir . '/helpdesk.dump';
$node->command_ok([ 'pg_dump', '-Fc', '-f', $dump, '-d', $node->connstr('helpdesk') ], 'pg_dump of the helpdesk database');
$node->safe_psql('postgres', 'CREATE DATABASE restored');
$node->command_ok([ 'pg_restore', '--exit-on-error', '-d', $node->connstr('restored'), $dump ], 'pg_restore into a new database');

# Every swarm table has the same rows in both databases.
for my $table (qw(agents skill_groups group_members cases collab_requests request_declines participants events)) {
	my $q = "SELECT count(*) || ':' || md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) FROM swarm.$table t";
	my $before = $node->safe_psql('helpdesk', $q);
	my $after  = $node->safe_psql('restored', $q);
	is($after, $before, "swarm.$table restored identically");
}

# Sequences keep counting.
for my $seq (qw(agents_agent_id_seq cases_case_id_seq collab_requests_request_id_seq events_event_id_seq skill_groups_group_id_seq)) {
	is($node->safe_psql('restored', "SELECT last_value FROM swarm.$seq"),
	   $node->safe_psql('helpdesk', "SELECT last_value FROM swarm.$seq"), "sequence $seq restored");
}
is($node->safe_psql('restored', "SELECT swarm.open_case('T-new', 'after restore', 'P3', 'linux')"),
   '6', 'a new case after the restore gets the next id');
is($node->safe_psql('restored', "SELECT swarm.add_agent('u-new', 'New', 'linux')"), '7', 'so does a new agent');
is($node->safe_psql('restored', "SELECT swarm.request_help(2, 'pg')"), '3', 'and a new request');

# The restored data still obeys the model: the lifecycle goes on.
$node->safe_psql('restored', 'SELECT swarm.accept_request(2, 6)');
is($node->safe_psql('restored', "SELECT state FROM swarm.collab_requests WHERE request_id = 2"), 'accepted',
   'restored requests can be accepted');
is($node->safe_psql('restored', "SELECT handoffs FROM swarm.cases WHERE case_id = 3"), '1', 'handoffs survive the restore');

$node->stop;
done_testing();
