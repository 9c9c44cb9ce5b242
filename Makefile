# swarm: collaborative case swarming for PostgreSQL (PGXS build)
EXTENSION  = swarm
EXTVERSION = 0.1.0

MODULE_big = swarm
OBJS       = $(patsubst %.c,%.o,$(sort $(wildcard src/*.c)))
DATA_built = sql/$(EXTENSION)--$(EXTVERSION).sql
# Install-script parts, concatenated in name order into DATA_built.
SQL_PARTS  = $(sort $(wildcard sql/parts/*.sql))

PG_CPPFLAGS = -I$(srcdir)/include
# Our own code is warning-free; PostgreSQL's fmgr convention leaves fcinfo
# unused in many functions, so that one warning is switched off.
PG_CFLAGS   = -Wall -Wextra -Werror -Wno-unused-parameter -Wno-missing-field-initializers

# pg_regress: inputs in test/sql, expected outputs in ./expected (PG15 looks
# in the output directory first).  The extension is created by each test.
TESTS        = $(sort $(wildcard test/sql/*.sql))
REGRESS      = $(patsubst test/sql/%.sql,%,$(TESTS))
REGRESS_OPTS = --inputdir=test
ISOLATION    = $(patsubst test/specs/%.spec,%,$(sort $(wildcard test/specs/*.spec)))
ISOLATION_OPTS = --inputdir=test

EXTRA_CLEAN = results output_iso regression.diffs regression.out tmp_check tmp_install log

PG_CONFIG ?= $(firstword $(wildcard /usr/lib/postgresql/15/bin/pg_config) pg_config)
PGXS := $(shell $(PG_CONFIG) --pgxs 2>/dev/null)

ifneq ($(wildcard $(PGXS)),)
include $(PGXS)

# swarmctl, the command-line client, has its own PGXS makefile: one makefile
# cannot hold both MODULE_big and PROGRAM.  make, make install and make clean
# recurse into it.
SWARMCTL_MAKE = $(MAKE) -C tools/swarmctl PG_CONFIG='$(PG_CONFIG)'
all: swarmctl
install: install-swarmctl
clean: clean-swarmctl
swarmctl:
	$(SWARMCTL_MAKE)
install-swarmctl: swarmctl
	$(SWARMCTL_MAKE) install
clean-swarmctl:
	$(SWARMCTL_MAKE) clean
.PHONY: swarmctl install-swarmctl clean-swarmctl
else
all install installcheck:
	@echo "PostgreSQL 15 server development files are missing."
	@echo "Run 'make deps' (as root), or: apt-get install postgresql-server-dev-15"
	@exit 1
endif

sql/$(EXTENSION)--$(EXTVERSION).sql: $(SQL_PARTS)
	cat $^ > $@

.PHONY: deps test demo bench

# Install the Debian packages the build, the tests and the demo need.
deps:
	@bash scripts/deps.sh

# Every suite on a throwaway cluster; ends with "N passed, N failed".
test:
	@bash scripts/test.sh

# The main job: a sample helpdesk walked through its swarm lifecycle.
demo:
	@bash scripts/demo.sh

# Benchmarks against plain-SQL references (see bench/README.md).
bench:
	@bash bench/run.sh
