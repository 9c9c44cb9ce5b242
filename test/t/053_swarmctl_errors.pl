# swarmctl's messages and exit statuses: --help and --version, bad
# arguments (status 2), no server there (status 1, naming the host and
# port), the extension missing (status 1, with the CREATE EXTENSION hint),
# and connection settings taken from the environment and from a URI.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

program_help_ok('swarmctl');
program_version_ok('swarmctl');
command_checks_all([ 'swarmctl', '--version' ], 0, [qr/^swarmctl \(swarm\) 0\.1\.0$/], [qr/^$/], 'version');
for my $cmd (qw(listen status simulate))
{
	command_checks_all([ 'swarmctl', $cmd, '--help' ], 0, [qr/^swarmctl $cmd /, qr/Usage:/], [qr/^$/],
		"$cmd --help");
}

# Bad arguments: status 2 and a hint ---------------------------------------------------------
command_checks_all([ 'swarmctl' ], 2, [qr/^$/],
	[ qr/error: no command given/, qr/hint: Commands are listen, status and simulate/ ], 'no command');
command_checks_all([ 'swarmctl', 'frobnicate' ], 2, [qr/^$/], [qr/error: unknown command "frobnicate"/],
	'unknown command');
command_checks_all([ 'swarmctl', 'dbname=x', 'frobnicate' ], 2, [qr/^$/],
	[qr/error: unknown command "frobnicate"/], 'unknown command after a conninfo');
command_checks_all([ 'swarmctl', 'status', '--bogus' ], 2, [qr/^$/],
	[ qr/swarmctl status: unrecognized option '--bogus'/, qr/hint: Try "swarmctl status --help"/ ],
	'unknown option');
command_checks_all([ 'swarmctl', 'listen', '--format', 'xml' ], 2, [qr/^$/],
	[qr/error: invalid --format "xml": use json or text/], 'bad --format');
command_checks_all([ 'swarmctl', 'listen', 'extra' ], 2, [qr/^$/],
	[qr/error: too many command-line arguments \(first is "extra"\)/], 'extra argument');
command_checks_all([ 'swarmctl', 'simulate', '--agents', 'many' ], 2, [qr/^$/],
	[qr/error: invalid value "many" for --agents: expected a number from 3 to 1000/], 'bad --agents');
command_checks_all([ 'swarmctl', 'simulate', '--agents', '2' ], 2, [qr/^$/],
	[qr/error: invalid value "2" for --agents/], '--agents out of range');
command_checks_all([ 'swarmctl', 'simulate', '--speed', '0' ], 2, [qr/^$/],
	[qr/error: invalid value "0" for --speed/], '--speed 0');
command_checks_all([ 'swarmctl', 'simulate', '--seed', '-1' ], 2, [qr/^$/],
	[qr/error: invalid value "-1" for --seed: expected a whole number/], 'negative --seed');

# No server there ---------------------------------------------------------------------------
my $node = PostgreSQL::Test::Cluster->new('swarmctl_errors');
$node->init;
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'swarm'");
my $host = $node->host;
my $port = $node->port;
for my $cmd (qw(status listen simulate))
{
	command_checks_all([ 'swarmctl', '-h', $host, '-p', $port, '-d', 'helpdesk', $cmd ], 1, [qr/^$/],
		[
			qr/error: could not connect to the server on (?:socket directory|host) "\Q$host\E", port $port \(database "helpdesk"\)/,
			qr/detail: connection to server .* failed/,
			qr/hint: Check that the server is running/,
		],
		"$cmd without a server");
}

$node->start;
$node->safe_psql('postgres', 'CREATE DATABASE helpdesk');

# The extension missing -----------------------------------------------------------------------
for my $cmd (qw(status listen simulate))
{
	$node->command_checks_all([ 'swarmctl', '-d', 'helpdesk', $cmd ], 1, [qr/^$/],
		[
			qr/error: the swarm extension is not installed in database "helpdesk"/,
			qr/hint: Run CREATE EXTENSION swarm; in that database/,
		],
		"$cmd without the extension");
}

# Connection settings: the environment (PGHOST, PGPORT, PGDATABASE), a URI --------------------
$node->safe_psql('helpdesk', 'CREATE EXTENSION swarm');
{
	local $ENV{PGHOST} = $host;
	local $ENV{PGPORT} = $port;
	local $ENV{PGDATABASE} = 'helpdesk';
	command_checks_all([ 'swarmctl', 'status' ], 0, [qr/^swarm 0\.1\.0 in database "helpdesk"/], [qr/^$/],
		'PGHOST, PGPORT and PGDATABASE');
}
{
	# a socket directory goes into a URI percent-encoded
	(my $uri_host = $host) =~ s{/}{%2F}g;
	command_checks_all([ 'swarmctl', "postgresql://$uri_host:$port/helpdesk", 'status' ], 0,
		[qr/^swarm 0\.1\.0 in database "helpdesk"/], [qr/^$/], 'a URI');
}
command_checks_all([ 'swarmctl', "host=$host port=$port dbname=helpdesk", 'status' ], 0,
	[qr/^swarm 0\.1\.0 in database "helpdesk"/], [qr/^$/], 'a conninfo string');
{
	local $ENV{PGHOST} = $host;
	local $ENV{PGPORT} = $port;
	command_checks_all([ 'swarmctl', 'helpdesk', 'status' ], 0, [qr/^swarm 0\.1\.0 in database "helpdesk"/], [qr/^$/],
		'a plain database name before the command');
}

$node->stop;
done_testing();
