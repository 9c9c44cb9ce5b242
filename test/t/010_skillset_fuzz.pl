
# Fuzz test of swarm.skillset text input, output and binary send/recv.
#
# 100,000 randomly mutated skillset literals (deterministic, seeded PRNG)
# are parsed by the server one by one inside an exception block.  Checks:
#  - the server never crashes;
#  - each literal is accepted or rejected exactly as a reference parser
#    written here in Perl predicts, and accepted ones print the canonical
#    text that reference predicts;
#  - every rejection is SQLSTATE 22P02 and nothing else;
#  - every accepted value is canonical-stable (out(in(out(x))) = out(x))
#    and binary-stable (COPY ... (FORMAT binary) out and back in);
#  - backend memory stays flat across a large batch;
#  - skillset_recv applies the same validation as text input, to
#    hand-made binary COPY files.

use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $N_LITERALS = 100_000;
my $BATCH      = 10_000;

my $node = PostgreSQL::Test::Cluster->new('skillset_fuzz');
$node->init(extra => [ '--encoding=UTF8', '--locale=C' ]);
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'swarm'");
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION swarm');
$node->safe_psql('postgres',
	'ALTER DATABASE postgres SET search_path = public, swarm');

my $tmp = PostgreSQL::Test::Utils::tempdir;

# ---------------------------------------------------------------------
# Deterministic PRNG (Park-Miller "minimal standard"; exact in doubles)
# ---------------------------------------------------------------------
my $seed = 20240611;

sub rnd
{
	my ($n) = @_;
	$seed = ($seed * 48271) % 2147483647;
	return $seed % $n;
}

sub pick { return $_[ rnd(scalar @_) ]; }

# ---------------------------------------------------------------------
# Literal generation: seeds and mutations (on character strings)
# ---------------------------------------------------------------------
my @seeds = (
	'postgres:4, linux, "windows server":2',
	'a',
	'',
	'   ',
	'c++:5, c#:1, tcp/ip:2, node.js',
	'"x\\"y":1, "back\\\\slash":2',
	"\x{e9}t\x{e9}:4, \x{65e5}\x{672c}:5, stra\x{df}e:1",
	'A:1,b:2,C:3,d:4,e:5',
	'"a,b":3, "c:d":1, "e f"',
	"node.js : 02 ,\tgo\n,\r\nrust:05",
	'Postgres:4, POSTGRES:4',
	'x:0',
	'"unterminated',
	'a,,b',
	'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa:1',
	'_:1, -:2, .:3, +:4, #:5, /',
	'"":1',
	'k8s:3, "k8s ":2, K8S_admin:4',);

my @tokens = (
	'"', '\\', ',', ':', ' ', "\t", "\n", "\r",
	'0' .. '9',
	'a' .. 'z',
	'A' .. 'Z',
	'_', '-', '.', '+', '#', '/', ';', '!', "'", '(', '=', '|',
	"\x{e9}", "\x{c9}", "\x{df}", "\x{436}", "\x{416}", "\x{65e5}", "\x{1f600}",
	'\\"', '\\\\', ', ', ':5', ':0', ':9', ':', '""');

sub mutate
{
	my ($s) = @_;
	my $len = length $s;
	my $op  = rnd(11);

	if ($op <= 2)    # insert a token
	{
		substr($s, rnd($len + 1), 0) = pick(@tokens);
	}
	elsif ($op == 3)    # delete a character
	{
		substr($s, rnd($len), 1) = '' if $len > 0;
	}
	elsif ($op == 4)    # replace a character
	{
		substr($s, rnd($len), 1) = pick(@tokens) if $len > 0;
	}
	elsif ($op == 5)    # truncate
	{
		$s = substr($s, 0, rnd($len + 1));
	}
	elsif ($op == 6)    # duplicate an item
	{
		my @items = split /,/, $s, -1;
		if (@items)
		{
			my $i = rnd(scalar @items);
			splice @items, rnd(scalar @items + 1), 0, $items[$i];
			$s = join ',', @items;
		}
	}
	elsif ($op == 7)    # flip the case of everything or of one character
	{
		if (rnd(2))
		{
			$s = rnd(2) ? uc $s : lc $s;
		}
		elsif ($len > 0)
		{
			my $p = rnd($len);
			my $c = substr($s, $p, 1);
			substr($s, $p, 1) = ($c eq lc $c) ? uc $c : lc $c;
		}
	}
	elsif ($op == 8)    # a long name, around the 63-byte limit
	{
		my $c = pick('a', 'Z', "\x{e9}", '7');
		substr($s, rnd($len + 1), 0) = $c x (28 + rnd(44));
	}
	elsif ($op == 9)    # swap two characters
	{
		if ($len > 1)
		{
			my ($p, $q) = (rnd($len), rnd($len));
			my ($a, $b) = (substr($s, $p, 1), substr($s, $q, 1));
			substr($s, $p, 1) = $b;
			substr($s, $q, 1) = $a;
		}
	}
	else    # append another seed as more items
	{
		$s .= pick(', ', ',', ' , ', '') . pick(@seeds);
	}
	return $s;
}

# ---------------------------------------------------------------------
# Reference parser (on UTF-8 bytes): canonical text, or undef if invalid
# ---------------------------------------------------------------------
my $BARE = qr/[A-Za-z0-9_\-.+#\/\x80-\xff]/;

sub ref_canonical
{
	my ($s) = @_;
	my $n   = length $s;
	my $p   = 0;
	my @items;

	my $skip = sub { $p++ while $p < $n && substr($s, $p, 1) =~ /[ \t\n\r]/ };

	$skip->();
	if ($p < $n)
	{
		while (1)
		{
			my $name = '';
			if (substr($s, $p, 1) eq '"')
			{
				$p++;
				while (1)
				{
					return undef if $p >= $n;
					my $c = substr($s, $p, 1);
					if ($c eq '"') { $p++; last; }
					if ($c eq '\\')
					{
						$p++;
						return undef if $p >= $n;
						$c = substr($s, $p, 1);
						return undef unless $c eq '"' || $c eq '\\';
					}
					$name .= $c;
					$p++;
				}
			}
			else
			{
				while ($p < $n && substr($s, $p, 1) =~ $BARE)
				{
					$name .= substr($s, $p, 1);
					$p++;
				}
			}
			$skip->();
			my $level = 3;
			if ($p < $n && substr($s, $p, 1) eq ':')
			{
				$p++;
				$skip->();
				return undef unless $p < $n && substr($s, $p, 1) =~ /[0-9]/;
				my $digits = '';
				while ($p < $n && substr($s, $p, 1) =~ /[0-9]/)
				{
					$digits .= substr($s, $p, 1);
					$p++;
				}
				$digits =~ s/^0+(?=.)//;
				$level = length($digits) > 2 ? 99 : $digits + 0;
				$skip->();
			}
			push @items, [ $name, $level ];
			last if $p >= $n;
			return undef unless substr($s, $p, 1) eq ',';
			$p++;
			$skip->();
		}
	}

	my %seen;
	for my $it (@items)
	{
		$it->[0] =~ tr/A-Z/a-z/;
		my $l = length $it->[0];
		return undef if $l < 1 || $l > 63;
		return undef if $it->[1] < 1 || $it->[1] > 5;
		return undef if $seen{ $it->[0] }++;
	}
	return join ', ', map {
		my $name = $_->[0];
		if ($name =~ /\A$BARE+\z/)
		{
			"$name:$_->[1]";
		}
		else
		{
			(my $q = $name) =~ s/(["\\])/\\$1/g;
			"\"$q\":$_->[1]";
		}
	} sort { $a->[0] cmp $b->[0] } @items;
}

# ---------------------------------------------------------------------
# Generate the literals and load them with COPY
# ---------------------------------------------------------------------
my @literals;
for my $i (1 .. $N_LITERALS)
{
	my $s = pick(@seeds);
	my $k = 1 + rnd(4);
	$s = mutate($s) for 1 .. $k;
	utf8::encode($s);
	push @literals, $s;
}

my $copyfile = "$tmp/literals.copy";
open my $fh, '>:raw', $copyfile or die "could not write $copyfile: $!";
for my $i (0 .. $#literals)
{
	my $l = $literals[$i];
	$l =~ s/\\/\\\\/g;
	$l =~ s/\n/\\n/g;
	$l =~ s/\r/\\r/g;
	$l =~ s/\t/\\t/g;
	print $fh ($i + 1), "\t", $l, "\n";
}
close $fh;

$node->safe_psql(
	'postgres', qq{
CREATE TABLE fuzz_in (id int PRIMARY KEY, lit text NOT NULL);
COPY fuzz_in FROM '$copyfile';
CREATE TABLE fuzz_out (id int PRIMARY KEY, ok bool NOT NULL, state text,
                       detail text, v swarm.skillset);

-- parse literals lo..hi one by one, catching every error
CREATE FUNCTION fuzz_parse(lo int, hi int) RETURNS bigint
LANGUAGE plpgsql AS \$\$
DECLARE
    lits text[];
    v swarm.skillset;
    st text;
    det text;
    n bigint := 0;
BEGIN
    SELECT array_agg(lit ORDER BY id) INTO lits FROM fuzz_in WHERE id BETWEEN lo AND hi;
    FOR i IN 1 .. coalesce(array_length(lits, 1), 0) LOOP
        BEGIN
            v := lits[i]::swarm.skillset;
            st := NULL;
            det := NULL;
            n := n + 1;
        EXCEPTION WHEN OTHERS THEN
            v := NULL;
            GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, det = PG_EXCEPTION_DETAIL;
        END;
        INSERT INTO fuzz_out VALUES (lo + i - 1, st IS NULL, st, det, v);
    END LOOP;
    RETURN n;
END
\$\$;
});

is($node->safe_psql('postgres', 'SELECT count(*) FROM fuzz_in'),
	$N_LITERALS, "$N_LITERALS literals loaded");

# ---------------------------------------------------------------------
# Parse in batches in one session, measuring backend memory around them
# ---------------------------------------------------------------------
my $script = "SELECT fuzz_parse(1, $BATCH);\n"
  . "SELECT 'mem_before', sum(total_bytes) FROM pg_backend_memory_contexts;\n";
for (my $lo = $BATCH + 1; $lo <= $N_LITERALS; $lo += $BATCH)
{
	my $hi = $lo + $BATCH - 1;
	$script .= "SELECT fuzz_parse($lo, $hi);\n";
}
$script .=
  "SELECT 'mem_after', sum(total_bytes) FROM pg_backend_memory_contexts;\n";

my $out = $node->safe_psql('postgres', $script);
my ($mem_before) = $out =~ /^mem_before\|(\d+)$/m;
my ($mem_after)  = $out =~ /^mem_after\|(\d+)$/m;
ok(defined $mem_before && defined $mem_after, 'memory measured');
cmp_ok($mem_after - $mem_before, '<', 1024 * 1024,
	"backend memory flat over the batches ($mem_before -> $mem_after bytes)");

is($node->safe_psql('postgres', 'SELECT 1'), '1', 'server alive after parsing');

# ---------------------------------------------------------------------
# Compare with the reference parser
# ---------------------------------------------------------------------
my $res = $node->safe_psql('postgres',
	q{SELECT id, ok, coalesce(state, ''),
             coalesce(encode(convert_to(v::text, 'UTF8'), 'hex'), '')
      FROM fuzz_out ORDER BY id});
my @rows = split /\n/, $res;
is(scalar @rows, $N_LITERALS, 'every literal has a result');

my ($accepted, $rejected, $bad_state, $mismatch) = (0, 0, 0, 0);
my %states;
for my $row (@rows)
{
	my ($id, $ok, $state, $hex) = split /\|/, $row, -1;
	my $lit      = $literals[ $id - 1 ];
	my $expected = ref_canonical($lit);
	my $got      = $ok eq 't' ? pack('H*', $hex) : undef;

	if ($ok eq 't') { $accepted++; }
	else
	{
		$rejected++;
		$states{$state}++;
		$bad_state++ if $state ne '22P02';
	}

	if (defined $expected != defined $got
		|| (defined $got && $got ne $expected))
	{
		$mismatch++;
		diag(sprintf "literal %d %s: server %s, reference %s",
			$id, sqlq($lit), defined $got ? sqlq($got) : "rejected ($state)",
			defined $expected ? sqlq($expected) : 'rejects')
		  if $mismatch <= 10;
	}
}
diag("accepted $accepted, rejected $rejected; SQLSTATEs: "
	  . join(', ', map { "$_ x $states{$_}" } sort keys %states));
cmp_ok($accepted, '>', $N_LITERALS / 10, 'a fair share of literals accepted');
cmp_ok($rejected, '>', $N_LITERALS / 10, 'a fair share of literals rejected');
is($bad_state, 0, 'every rejection is SQLSTATE 22P02');

# Which rule each rejection names in its detail: all of them, and only them
my $rules = $node->safe_psql(
	'postgres', q{
SELECT rule, count(*)
FROM (SELECT CASE
             WHEN detail = 'Skill name is empty.' THEN 'empty name'
             WHEN detail LIKE 'Skill name "%" is longer than 63 bytes.' THEN 'long name'
             WHEN detail LIKE 'Skill "%" appears more than once.' THEN 'duplicate'
             WHEN detail ~ '^Level [0-9]+ of skill ".*" is outside 1\.\.5\.$' THEN 'level range'
             WHEN detail = 'Unterminated quoted skill name.' THEN 'unterminated'
             WHEN detail = 'Invalid escape in quoted skill name.' THEN 'bad escape'
             WHEN detail = 'Missing skill level after ":".' THEN 'missing level'
             WHEN detail ~ '^Unexpected character ".+" at position [0-9]+\.$' THEN 'unexpected'
             ELSE 'other: ' || coalesce(detail, '(none)')
             END AS rule
      FROM fuzz_out WHERE NOT ok) AS r
GROUP BY rule ORDER BY rule});
diag("rejections by rule:\n$rules");
my %rule_count = map { split /\|/ } split /\n/, $rules;
is(join(',', sort keys %rule_count),
	'bad escape,duplicate,empty name,level range,long name,missing level,unexpected,unterminated',
	'rejections name every rule of the type, and nothing else');
is( $node->safe_psql(
		'postgres',
		q{SELECT count(*) FROM fuzz_out WHERE NOT ok AND coalesce(detail, '') = ''}),
	'0',
	'every rejection explains itself in a detail');
is($mismatch,  0, 'server agrees with the reference parser on every literal');

# Show a byte string as a readable SQL-ish literal in diagnostics
sub sqlq
{
	my ($s) = @_;
	$s =~ s/([^\x20-\x7e])/sprintf('\\x%02x', ord $1)/ge;
	return "'$s'";
}

# ---------------------------------------------------------------------
# Canonical stability: out(in(out(x))) = out(x) and the value is equal
# ---------------------------------------------------------------------
is( $node->safe_psql(
		'postgres', q{
SELECT count(*) FROM fuzz_out
WHERE ok AND NOT (v::text::swarm.skillset = v
                  AND v::text::swarm.skillset::text = v::text
                  AND v::text = v::text::swarm.skillset::text::swarm.skillset::text)}),
	'0',
	'every accepted literal is canonical-stable');

# ---------------------------------------------------------------------
# Binary stability: send every accepted value and receive it back
# ---------------------------------------------------------------------
my $binfile = "$tmp/values.bin";
is( $node->safe_psql(
		'postgres', qq{
COPY (SELECT id, v FROM fuzz_out WHERE ok ORDER BY id) TO '$binfile' (FORMAT binary);
CREATE TABLE fuzz_bin (id int PRIMARY KEY, v swarm.skillset);
COPY fuzz_bin FROM '$binfile' (FORMAT binary);
SELECT count(*) FILTER (WHERE b.id IS NULL)
     + count(*) FILTER (WHERE b.v <> o.v OR b.v::text <> o.v::text
                        OR swarm.skillset_send(b.v) <> swarm.skillset_send(o.v)
                        OR swarm.skillset_hash(b.v) <> swarm.skillset_hash(o.v))
FROM fuzz_out o LEFT JOIN fuzz_bin b USING (id) WHERE o.ok}),
	'0',
	'every accepted value survives a binary send/recv round trip');

# ---------------------------------------------------------------------
# skillset_recv validation, on hand-made binary COPY files
# ---------------------------------------------------------------------
$node->safe_psql(
	'postgres', q{
CREATE TABLE recv_t (v swarm.skillset);
-- COPY one binary file into recv_t; the value or the error it raised
CREATE FUNCTION try_recv(path text) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    st text;
    msg text;
    det text;
    res text;
BEGIN
    TRUNCATE recv_t;
    EXECUTE format('COPY recv_t FROM %L (FORMAT binary)', path);
    SELECT v::text INTO res FROM recv_t;
    RETURN 'ok: ' || res;
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT,
                            det = PG_EXCEPTION_DETAIL;
    RETURN st || ': ' || msg || ' / ' || det;
END
$$;
});

# Build a binary COPY file holding one skillset: a raw count and items
sub recv_file
{
	my ($name, $count, @items) = @_;
	my $data = pack('N', $count & 0xffffffff);
	for my $it (@items)
	{
		my ($level, $bytes) = @$it;
		$data .= pack('C N', $level, length $bytes) . $bytes;
	}
	my $file = "$tmp/recv_$name.bin";
	open my $bf, '>:raw', $file or die "could not write $file: $!";
	print $bf "PGCOPY\n\377\r\n\0", pack('N N', 0, 0);
	print $bf pack('n N', 1, length $data), $data;
	print $bf pack('n', 0xffff);
	close $bf;
	return $file;
}

my @recv_cases = (
	[ 'sorted', 2, [ [ 4, 'linux' ], [ 5, 'postgres' ] ],
		qr/^ok: linux:4, postgres:5$/ ],
	[ 'unsorted_and_folded', 3, [ [ 2, 'b' ], [ 5, 'A' ], [ 1, 'Windows Server' ] ],
		qr/^ok: a:5, b:2, "windows server":1$/ ],
	[ 'empty', 0, [], qr/^ok: $/ ],
	[ 'utf8', 1, [ [ 3, "\xc3\x89t\xc3\xa9" ] ], qr/^ok: \xc3\x89t\xc3\xa9:3$/ ],
	[ 'duplicate', 2, [ [ 1, 'Postgres' ], [ 2, 'postgres' ] ],
		qr/^22P03: invalid external skillset binary representation \/ Skill "postgres" appears more than once\.$/ ],
	[ 'level0', 1, [ [ 0, 'a' ] ],
		qr/^22P03: .* \/ Level 0 of skill "a" is outside 1\.\.5\.$/ ],
	[ 'level6', 1, [ [ 6, 'a' ] ],
		qr/^22P03: .* \/ Level 6 of skill "a" is outside 1\.\.5\.$/ ],
	[ 'level255', 1, [ [ 255, 'a' ] ],
		qr/^22P03: .* \/ Level 255 of skill "a" is outside 1\.\.5\.$/ ],
	[ 'empty_name', 1, [ [ 3, '' ] ],
		qr/^22P03: .* \/ Skill name is empty\.$/ ],
	[ 'long_name', 1, [ [ 3, 'x' x 64 ] ],
		qr/^22P03: .* \/ Skill name "x{64}" is longer than 63 bytes\.$/ ],
	[ 'max_name', 1, [ [ 3, 'x' x 63 ] ], qr/^ok: x{63}:3$/ ],
	[ 'negative_count', -1, [],
		qr/^22P03: .* \/ Number of skills -1 is negative\.$/ ],
	[ 'huge_count', 1_000_000, [ [ 3, 'a' ] ],
		qr/^22P03: .* \/ Number of skills 1000000 exceeds the data in the message\.$/ ],
	# NUL bytes are refused by the encoding check before skillset_recv
	[ 'nul_byte', 1, [ [ 3, "a\0b" ] ], qr/^(22021|22P03): / ],
	[ 'bad_utf8', 1, [ [ 3, "a\xffb" ] ], qr/^22021: / ],);

for my $case (@recv_cases)
{
	my ($name, $count, $items, $expect) = @$case;
	my $file = recv_file($name, $count, @$items);
	my $got = $node->safe_psql('postgres', "SELECT try_recv('$file')");
	like($got, $expect, "recv: $name");
}

# A truncated message is an error (from the protocol layer), not a crash
{
	my $file = recv_file('truncated', 2, [ [ 3, 'abc' ] ]);
	my $got = $node->safe_psql('postgres', "SELECT try_recv('$file')");
	like($got, qr/^(08P01|22P03|22P04): /, 'recv: truncated message is rejected');
}

# ---------------------------------------------------------------------
# The server survived all of it
# ---------------------------------------------------------------------
is($node->safe_psql('postgres', 'SELECT 1'), '1', 'server alive at the end');
my $log = slurp_file($node->logfile);
unlike($log, qr/terminated by signal/, 'no backend crashed');
unlike($log, qr/server process .* was terminated/, 'no server process terminated');

$node->stop;
done_testing();
