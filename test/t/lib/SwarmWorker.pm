# SwarmWorker: the fixture and the checks the escalation worker's tests share.
#
# team_sql: the extension, an owner who may own any number of cases, three
# helpers, and an SLA policy under which a P3 request is to be accepted within
# 2 seconds, so the default ladder fires at 1.5 s (75 %), 2 s (100 %) and 3 s
# (150 %).  new_requests_sql: public.new_requests(n), which opens n P3 cases,
# assigns them to the owner and asks for help on each (request n on case n
# when run from the start), returning the request ids.
package SwarmWorker;

use strict;
use warnings;
use Exporter 'import';

our @EXPORT = qw(team_sql new_requests_sql all_escalated escalations_of);

# SQL: the extension and the team
sub team_sql
{
	return q{
	CREATE EXTENSION swarm;
	SELECT swarm.add_agent('owner', 'Owner', 'pg:3', capacity => 100000);
	SELECT swarm.add_agent('h' || i, 'Helper ' || i, 'pg:4') FROM generate_series(1, 3) AS i;
	SELECT swarm.set_sla_policy('P3', '1 hour', '1 day', '2 seconds', '1 hour');
};
}

# SQL: public.new_requests(n)
sub new_requests_sql
{
	return q{
	CREATE SEQUENCE public.tickets;
	CREATE FUNCTION public.new_requests(n integer) RETURNS SETOF bigint LANGUAGE plpgsql AS $$
	DECLARE
	    c bigint;
	BEGIN
	    FOR i IN 1 .. n LOOP
	        c := swarm.open_case('T-' || nextval('public.tickets'), 'escalate me', 'P3', 'pg:3');
	        PERFORM swarm.assign_case(c, 1);
	        RETURN NEXT swarm.request_help(c, needed => 'pg:3');
	    END LOOP;
	END
	$$;
};
}

# A query: every request in the id range has levels 1, 2 and 3, once each.
sub all_escalated
{
	my ($from, $to) = @_;
	return "SELECT count(*) = 0 FROM swarm.collab_requests AS r
	         WHERE r.request_id BETWEEN $from AND $to
	           AND (SELECT array_agg(e.level ORDER BY e.level) FROM swarm.escalations AS e
	                 WHERE e.request_id = r.request_id) IS DISTINCT FROM '{1,2,3}'";
}

# "escalations distinct-escalations" of the requests in the id range, in database postgres
sub escalations_of
{
	my ($node, $from, $to) = @_;
	return $node->safe_psql('postgres',
		"SELECT count(*) || ' ' || count(DISTINCT (request_id, level)) FROM swarm.escalations
		  WHERE request_id BETWEEN $from AND $to");
}

1;
