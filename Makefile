# relayguard - GNU Makefile
#
#   make              build the library and the programs into build/
#   make check        unit tests (Check), golden cases, end-to-end tests
#   make demo         private Postfix + milter, replay of the stolen login
#   make deps         install missing Debian packages (idempotent)
#   make SANITIZE=address,undefined check
#   make WERROR=1     warnings are errors (CI)
#   make efficacy     simulated site through the shipped policy (SEED=, MIX=, GOAL=1, CONF=)
#   make efficacy-sweep  make efficacy GOAL=1 over seeds x mixes (SEEDS=1..10, MIXES=)

VERSION   := 0.1.1
PREFIX    ?= /usr/local
SBINDIR   ?= $(PREFIX)/sbin
BINDIR    ?= $(PREFIX)/bin
SYSCONFDIR ?= /etc
MANDIR    ?= $(PREFIX)/share/man
DESTDIR   ?=

CC        ?= cc
PKG_CONFIG ?= pkg-config
CFLAGS    ?= -O2 -g
WARN      := -Wall -Wextra -Wformat=2 -Wshadow -Wstrict-prototypes \
             -Wmissing-prototypes -Wpointer-arith -Wcast-qual -Wvla
ifdef WERROR
WARN      += -Werror
endif

ifdef SANITIZE
BUILD     ?= build/san
SANFLAGS  := -fsanitize=$(SANITIZE) -fno-omit-frame-pointer -fno-sanitize-recover=all
else
BUILD     ?= build
SANFLAGS  :=
endif

PKGS_POLICY := libmaxminddb libconfig libcrypto zlib
PKG_CFLAGS  := $(shell $(PKG_CONFIG) --cflags $(PKGS_POLICY) check 2>/dev/null)
POLICY_LIBS := $(shell $(PKG_CONFIG) --libs $(PKGS_POLICY) 2>/dev/null) -lpthread -lm
MILTER_LIBS := $(shell $(PKG_CONFIG) --libs milter 2>/dev/null || echo -lmilter)
CHECK_LIBS  := $(shell $(PKG_CONFIG) --libs check 2>/dev/null)
COLL_LIBS   := $(shell $(PKG_CONFIG) --libs sqlite3 2>/dev/null || echo -lsqlite3) -lresolv

ALL_CFLAGS := -std=c11 -D_GNU_SOURCE -DRG_VERSION='"$(VERSION)"' \
              $(WARN) $(CFLAGS) $(SANFLAGS) $(PKG_CFLAGS) -Ipolicy -MMD -MP
ALL_LDFLAGS := $(LDFLAGS) $(SANFLAGS)

POLICY_SRC := $(wildcard policy/*.c)
MILTER_SRC := $(wildcard milter/*.c)
POLICYD_SRC := $(wildcard policyd/*.c)
CTL_SRC    := $(wildcard ctl/*.c)
COLL_SRC   := $(wildcard collector/*.c)
UNIT_SRC   := $(wildcard tests/unit/check_*.c)
BENCH_SRC  := $(filter-out bench/nullmilter.c,$(wildcard bench/*.c))
FUZZ_SRC   := $(wildcard tests/fuzz/fuzz_*.c)

obj = $(patsubst %.c,$(BUILD)/obj/%.o,$(1))

LIB      := $(BUILD)/librelayguard.a
MILTER   := $(if $(MILTER_SRC),$(BUILD)/relayguard-milter)
POLICYD  := $(if $(POLICYD_SRC),$(BUILD)/relayguard-policyd)
CTL      := $(if $(CTL_SRC),$(BUILD)/relayguardctl)
COLLECTOR := $(if $(COLL_SRC),$(BUILD)/relayguard-collector)
UNITS    := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRC))
BENCHES  := $(patsubst bench/%.c,$(BUILD)/bench/%,$(BENCH_SRC))
PROGRAMS := $(MILTER) $(POLICYD) $(CTL) $(COLLECTOR)

.PHONY: man-check deb all check check-run unit-check golden-check tsan-check e2e-check install clean deps demo \
        bench bench-store bench-policy bench-collector bench-milter-instr bench-milter-pair bench-replay bench-peers bench-roguelist fuzz efficacy efficacy-table efficacy-sweep

all: $(LIB) $(PROGRAMS) $(UNITS)

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(LIB): $(call obj,$(POLICY_SRC))
	@mkdir -p $(dir $@)
	rm -f $@
	ar rcs $@ $^

ifneq ($(MILTER_SRC),)
$(MILTER): $(call obj,$(MILTER_SRC)) $(LIB)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(MILTER_LIBS) $(POLICY_LIBS)
endif

ifneq ($(POLICYD_SRC),)
$(POLICYD): $(call obj,$(POLICYD_SRC)) $(LIB)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(POLICY_LIBS)
endif

ifneq ($(CTL_SRC),)
$(CTL): $(call obj,$(CTL_SRC)) $(LIB)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(POLICY_LIBS)
endif

ifneq ($(COLL_SRC),)
$(COLLECTOR): $(call obj,$(COLL_SRC)) $(LIB)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(COLL_LIBS) $(POLICY_LIBS)
endif

# Unit tests may also exercise front-end modules (milter/, policyd/, ctl/,
# collector/) other than their main files: those objects are linked in as
# a small archive.
FRONT_OBJ := $(call obj,$(filter-out milter/main.c policyd/main.c ctl/main.c collector/main.c,$(MILTER_SRC) $(POLICYD_SRC) $(CTL_SRC) $(COLL_SRC)))
FRONT_LIB := $(BUILD)/libfront.a
$(FRONT_LIB): $(FRONT_OBJ)
	@mkdir -p $(dir $@)
	rm -f $@
	ar rcs $@ $^

$(BUILD)/tests/check_%: tests/unit/check_%.c $(FRONT_LIB) $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $< $(FRONT_LIB) $(LIB) \
	    $(CHECK_LIBS) $(MILTER_LIBS) $(COLL_LIBS) $(POLICY_LIBS)

# check_rules_strike fails a rule's strike count alone: the linker puts
# the suite's __wrap_store_user_strike between rules.c and the store.
$(BUILD)/tests/check_rules_strike: ALL_LDFLAGS += -Wl,--wrap=store_user_strike

GOLDEN := $(BUILD)/tests/golden
all: $(GOLDEN)
$(GOLDEN): tests/golden/golden.c $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $< $(LIB) $(POLICY_LIBS)

$(BUILD)/bench/%: bench/%.c $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $< $(LIB) $(POLICY_LIBS)

# bench_milter_pair.sh's control: a known extra cost per connection (LD_PRELOAD)
BURNSHIM := $(BUILD)/bench/burn_accept.so
$(BURNSHIM): bench/preload/burn_accept.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -shared -fPIC -o $@ $< -ldl

# The null milter: the yardstick of bench-peers and t_milter_packets.sh.
NULLMILTER := $(BUILD)/bench/nullmilter
all: $(NULLMILTER)
$(NULLMILTER): bench/nullmilter.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $< $(MILTER_LIBS)

# --- tests ---------------------------------------------------------------

# check and demo install missing packages first, then build in a sub-make
# (pkg-config flags are read when make starts).
check:
	@scripts/deps.sh
	@$(MAKE) --no-print-directory check-run

check-run: all
	@tests/run-unit.sh $(BUILD) $(UNITS)
	@tests/man/check-man.sh && tests/man/check-man.sh --self-test
	@tests/install/check-install.sh "$(MAKE)" $(if $(SANITIZE),SANITIZE=$(SANITIZE))
	@tests/golden/run.sh $(BUILD)
	@tests/replay/run.sh $(BUILD)
	@tests/sim/run.sh $(BUILD)
	@if [ -x tests/e2e/run.sh ] && [ -z "$(SANITIZE)" ]; then tests/e2e/run.sh $(BUILD); fi

unit-check: all
	@tests/run-unit.sh $(BUILD) $(UNITS)
	@tests/golden/run.sh $(BUILD)
	@tests/replay/run.sh $(BUILD)
	@tests/sim/run.sh $(BUILD)

golden-check: all
	@tests/golden/run.sh $(BUILD)

# the suites that run threads under ThreadSanitizer, in a build of their
# own: the collector's (its event loop, alert thread and rogue-list
# writers, its intake) and the milter's event sender (its queue and
# sender thread)
TSAN_UNITS := check_notify check_pin check_receive check_event check_event_send \
              check_evq check_intake
tsan-check:
	@$(MAKE) --no-print-directory SANITIZE=thread BUILD=build/tsan \
	    $(addprefix build/tsan/tests/,$(TSAN_UNITS))
	@tests/run-unit.sh build/tsan $(addprefix build/tsan/tests/,$(TSAN_UNITS))

e2e-check: all
	tests/e2e/run.sh $(BUILD)

# the man pages render without warnings and name every key and command;
# make install keeps an edited configuration
man-check:
	@tests/man/check-man.sh && tests/man/check-man.sh --self-test
	@tests/install/check-install.sh "$(MAKE)" $(if $(SANITIZE),SANITIZE=$(SANITIZE))

# --- benchmarks and fuzzing (never part of check) --------------------------

bench: bench-store bench-policy bench-replay bench-roguelist

bench-store: $(BUILD)/bench/bench_store
	$(BUILD)/bench/bench_store

bench-policy: $(BUILD)/bench/bench_policy
	$(BUILD)/bench/bench_policy

bench-roguelist: $(BUILD)/bench/bench_roguelist
	$(BUILD)/bench/bench_roguelist

bench-collector: $(COLLECTOR) $(BUILD)/bench/bench_events $(BUILD)/bench/bench_milter_events $(BURNSHIM)
	bench/bench_collector.sh $(BUILD)

# the milter with events on vs off, two instances at once (and its controls)
bench-milter-pair: $(MILTER) $(COLLECTOR) $(CTL) $(BURNSHIM)
	bench/bench_milter_pair.sh $(BUILD)

# the milter's user-space instructions a message, events on and off (callgrind)
bench-milter-instr: $(MILTER) $(COLLECTOR)
	bench/bench_milter_instr.sh $(BUILD)

bench-replay: $(CTL)
	bench/bench_replay.sh $(BUILD)

bench-peers: $(MILTER) $(POLICYD) $(NULLMILTER)
	@scripts/deps.sh peers
	bench/peers.sh $(BUILD)

fuzz:
	@tests/fuzz/run.sh

# issue 16: a seeded simulated site (tests/sim/) replayed with the shipped
# etc/relayguard.conf; one line of honest false positives and attacks let
# through. GOAL=1 fails unless the issue's targets are met.
# CONF= replays another file instead (its paths replaced likewise);
# efficacy-table prints EFFICACY.md's rows for SEEDS x MIXES.
SEED ?= 1
MIX  ?= default
SEEDS ?= 1 2 3
MIXES ?= default mobile-heavy variant
efficacy: $(CTL)
	@tests/sim/efficacy.sh $(if $(GOAL),--goal) $(if $(CONF),--conf $(CONF)) $(BUILD) $(SEED) $(MIX)

efficacy-table: $(CTL)
	@for m in $(MIXES); do for s in $(SEEDS); do \
	    tests/sim/efficacy.sh --row "$$m,$$s" $(if $(CONF),--conf $(CONF)) $(BUILD) $$s $$m || exit 1; \
	done; done

# efficacy-sweep: make efficacy with GOAL=1 over SEEDS x MIXES (defaults:
# seeds 1..10, every tests/sim/mix/*.mix); one line a run, the targets
# missed, exit 1 if any run missed one; KEEP=DIR keeps each run's files.
# Not part of make check.
SWEEP_SEEDS = $(if $(filter command line environment,$(origin SEEDS)),$(SEEDS),1..10)
SWEEP_MIXES = $(if $(filter command line environment,$(origin MIXES)),$(MIXES),all)
efficacy-sweep: $(CTL)
	@tests/sim/sweep.sh $(if $(CONF),--conf $(CONF)) $(if $(KEEP),--keep $(KEEP)) $(BUILD) "$(SWEEP_SEEDS)" "$(SWEEP_MIXES)"

# --- operations ------------------------------------------------------------

deps:
	@scripts/deps.sh

demo:
	@scripts/deps.sh
	@$(MAKE) --no-print-directory all
	@if [ -x tests/e2e/demo.sh ] && [ -n "$(MILTER)" ]; then tests/e2e/demo.sh $(BUILD); \
	else echo "demo: the milter daemon is not built yet (see README, Status)"; exit 1; fi

install: all
	install -d $(DESTDIR)$(SBINDIR) \
	    $(DESTDIR)$(SYSCONFDIR)/relayguard
	$(if $(MILTER),install -m 0755 $(MILTER) $(DESTDIR)$(SBINDIR)/)
	$(if $(POLICYD),install -m 0755 $(POLICYD) $(DESTDIR)$(SBINDIR)/)
	$(if $(CTL),install -m 0755 $(CTL) $(DESTDIR)$(SBINDIR)/)
	$(if $(COLLECTOR),install -m 0755 $(COLLECTOR) $(DESTDIR)$(SBINDIR)/)
	install -d $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(MANDIR)/man8
	install -m 0644 man/relayguard.conf.5 $(DESTDIR)$(MANDIR)/man5/
	install -m 0644 $(wildcard man/*.8) $(DESTDIR)$(MANDIR)/man8/
	@# an existing configuration is the admin's: never overwrite it, put
	@# the new one beside it as relayguard.conf.dist
	@conf=$(DESTDIR)$(SYSCONFDIR)/relayguard/relayguard.conf; \
	if [ -e "$$conf" ]; then \
	    install -m 0644 etc/relayguard.conf "$$conf.dist"; \
	    echo "install: kept $$conf; the shipped one is $$conf.dist"; \
	else \
	    install -m 0644 etc/relayguard.conf "$$conf"; \
	fi

clean:
	rm -rf build

-include $(shell find build -name '*.d' 2>/dev/null)

deb:
	@scripts/build-deb.sh

# the package test (root; debootstrap's network on the first run): lintian,
# install, purge and upgrades in a Debian 12 chroot, the units
.PHONY: deb-check
DEB_FILE = build/deb/relayguard_$(shell dpkg-parsechangelog -S Version)_$(shell dpkg --print-architecture).deb
deb-check: deb
	@tests/pkg/deb-check.sh $(DEB_FILE)
