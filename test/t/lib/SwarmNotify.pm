# SwarmNotify: collect the notifications a background psql session receives.
#
# psql prints each notification its session has received after the result
# of a statement, so the collector runs "SELECT 1" until enough have been
# printed (or the test timeout passes): it waits for a condition, never for
# a fixed time.
package SwarmNotify;

use strict;
use warnings;
use Exporter 'import';
use JSON::PP;
use PostgreSQL::Test::Utils;
use Time::HiRes qw(usleep);

our @EXPORT = qw(parse_notifications collect_notifications);

# The notifications of channel in psql output, as [pid, decoded payload] pairs.
sub parse_notifications
{
	my ($out, $channel) = @_;
	my @found;
	while ($out =~ /Asynchronous notification "\Q$channel\E" with payload "(.*?)" received from server process with PID (\d+)\./g)
	{
		push @found, [ $2, decode_json($1) ];
	}
	return @found;
}

# Append to @$seen what the session received on channel until it holds at
# least $n notifications; returns how many it holds.
sub collect_notifications
{
	my ($psql, $channel, $n, $seen) = @_;
	my $deadline = time + $PostgreSQL::Test::Utils::timeout_default;
	while (@$seen < $n && time < $deadline)
	{
		push @$seen, parse_notifications(scalar($psql->query('SELECT 1')), $channel);
		usleep(20_000) if @$seen < $n;
	}
	return scalar @$seen;
}

1;
