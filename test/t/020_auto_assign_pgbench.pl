# auto_assign under 50 concurrent clients (pgbench): agents with small
# capacities, 600 new cases, clients mostly on different cases but sometimes
# on the same one.  Afterwards nobody is past capacity, every assigned case
# has exactly one owner and one case_assigned event, the open_cases counters
# equal what they count, and nobody eligible was left idle while a case went
# unassigned.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('auto_assign');
$node->init;
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'swarm'\nmax_connections = 100\nfsync = off");
$node->start;

# 40 agents in 3 regions with capacities 1-3; some away, two offline, one
# inactive.  600 new cases needing pg, net or pg + linux.
$node->safe_psql('postgres', q{
	CREATE EXTENSION swarm;
	SELECT swarm.add_agent('a' || i, 'Agent ' || i,
	           (CASE WHEN i % 2 = 0 THEN 'pg:' || (i % 5 + 1) ELSE 'net:' || (i % 5 + 1) END
	            || CASE WHEN i % 5 = 0 THEN ', linux:3' ELSE '' END)::swarm.skillset,
	           (ARRAY['emea', 'amer', 'apac'])[i % 3 + 1], capacity => i % 3 + 1)
	  FROM generate_series(1, 40) AS i;
	SELECT swarm.set_presence(i, 'away') FROM generate_series(3, 40, 7) AS i;
	SELECT swarm.set_presence(i, 'offline') FROM unnest(ARRAY[4, 11]) AS i;
	SELECT swarm.update_agent(6, active => false);
	SELECT swarm.open_case('T-' || i, 'case ' || i, 'P2',
	           (ARRAY['pg:3', 'net:3', 'pg:2, linux:2'])[i % 3 + 1]::swarm.skillset,
	           'cust' || (i % 50), (ARRAY['emea', 'amer', 'apac'])[i % 3 + 1])
	  FROM generate_series(1, 600) AS i;

	-- what each pgbench transaction got: an agent, NULL, or "already owned"
	CREATE TABLE outcomes (case_id bigint NOT NULL, agent_id bigint, already_owned boolean NOT NULL);
	CREATE FUNCTION try_auto_assign(c bigint) RETURNS void LANGUAGE plpgsql AS $$
	BEGIN
	    INSERT INTO outcomes VALUES (c, swarm.auto_assign(c), false);
	EXCEPTION WHEN object_not_in_prerequisite_state THEN
	    IF SQLERRM <> format('case %s already has an owner', c) THEN
	        RAISE;
	    END IF;
	    INSERT INTO outcomes VALUES (c, NULL, true);
	END
	$$;
});
my $capacity = $node->safe_psql('postgres', 'SELECT sum(capacity) FROM swarm.agents');

# Client n works mostly on cases 12n+1 .. 12n+12; its random window of 16
# overlaps the next client's, so two clients sometimes want the same case.
my $host = $node->host;
my $port = $node->port;
$node->pgbench(
	"--no-vacuum --client=50 --jobs=2 --transactions=12 -h $host -p $port",
	0,
	[ qr{number of transactions actually processed: 600/600}, qr{number of failed transactions: 0} ],
	[qr{^$}],
	'auto_assign under 50 clients',
	{
		'020_auto_assign.pgbench' => q{
\set c 1 + (:client_id * 12 + random(0, 15)) % 600
SELECT try_auto_assign(:c);
}
	},
	'postgres');

my $q = sub { $node->safe_psql('postgres', shift) };

is($q->('SELECT count(*) FROM outcomes'), '600', 'every pgbench transaction recorded its outcome');
my ($assigned, $nulls, $owned) = split /\|/,
  $q->('SELECT count(*) FILTER (WHERE agent_id IS NOT NULL), count(*) FILTER (WHERE agent_id IS NULL AND NOT already_owned),
               count(*) FILTER (WHERE already_owned) FROM outcomes');
note("outcomes: $assigned assigned, $nulls without an eligible owner, $owned already owned; total capacity $capacity");
cmp_ok($assigned, '>', 0, 'some cases were assigned');
cmp_ok($owned, '>', 0, 'some clients found their case already owned');

is($q->('SELECT count(*) FROM swarm.agents WHERE open_cases > capacity'), '0', 'no agent is past capacity');
is($q->(q{SELECT count(*) FROM swarm.agents a
           WHERE a.open_cases <> (SELECT count(*) FROM swarm.cases c WHERE c.owner_id = a.agent_id AND c.state IN ('open', 'pending'))}),
   '0', 'open_cases equals the open cases each agent owns');
is($q->(q{SELECT count(*) FROM swarm.cases c
           WHERE (c.state = 'new') = ((SELECT count(*) FROM swarm.events e WHERE e.case_id = c.case_id AND e.kind = 'case_assigned') = 1)
              OR (SELECT count(*) FROM swarm.events e WHERE e.case_id = c.case_id AND e.kind = 'case_assigned') > 1}),
   '0', 'every assigned case has exactly one case_assigned event, an unassigned one none');
is($q->(q{SELECT count(*) FROM swarm.events e JOIN swarm.cases c USING (case_id)
           WHERE e.kind = 'case_assigned' AND (e.agent_id IS DISTINCT FROM c.owner_id OR (e.detail->>'auto')::boolean IS NOT TRUE)}),
   '0', 'each case_assigned event names the owner and says auto');
is($q->(q{SELECT count(*) FROM swarm.cases c
           WHERE c.state <> 'new'
             AND (SELECT count(*) FROM swarm.participants p WHERE p.case_id = c.case_id AND p.role = 'owner') <> 1}),
   '0', 'every assigned case has one owner participant');
my $owned_cases = $q->(q{SELECT count(*) FROM swarm.cases WHERE state <> 'new'});
is($owned_cases, $assigned, 'each assignment was made by exactly one transaction');
is($q->('SELECT count(DISTINCT case_id) FROM outcomes WHERE agent_id IS NOT NULL'), $assigned, 'no case was assigned twice');
is($q->('SELECT sum(open_cases) FROM swarm.agents'), $owned_cases, 'the counters add up to the assigned cases');
cmp_ok($owned_cases, '<=', $capacity, 'no more cases assigned than the total capacity');
is($q->(q{SELECT count(*) FROM swarm.cases c JOIN swarm.agents a ON a.agent_id = c.owner_id
           WHERE NOT a.active OR a.presence = 'offline' OR NOT (a.skills OPERATOR(swarm.&&) c.needed)}),
   '0', 'no case went to an inactive or offline agent, or one without a needed skill');
is($q->(q{SELECT count(*) FROM swarm.cases c
           WHERE c.state = 'new' AND EXISTS (SELECT 1 FROM swarm.events e WHERE e.case_id = c.case_id AND e.kind = 'no_eligible_owner')
             AND EXISTS (SELECT 1 FROM swarm.agents a
                          WHERE a.active AND a.presence <> 'offline' AND a.open_cases < a.capacity
                            AND a.skills OPERATOR(swarm.&&) c.needed)}),
   '0', 'a case left without an owner had nobody eligible with capacity left');

$node->stop;
done_testing();
