# SPDX-License-Identifier: MIT
# tcpguard build. `make help` lists the targets; V=1 shows the commands.

CC       ?= cc
PREFIX   ?= /usr/local
BUILD    ?= build
O        ?= -O2
CFLAGS_BASE = -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Wshadow \
              -Wstrict-prototypes -Wmissing-prototypes -Iinclude -g
CFLAGS   ?= $(O)
ALL_CFLAGS = $(CFLAGS_BASE) $(CFLAGS) $(EXTRA_CFLAGS)
LDLIBS_PCAP = $(shell pkg-config --libs libpcap 2>/dev/null || echo -lpcap)
LDLIBS_CMOCKA = $(shell pkg-config --libs cmocka 2>/dev/null || echo -lcmocka)

ifeq ($(V),1)
Q =
else
Q = @
endif

CORE_SRC = $(wildcard src/core/*.c)
IO_SRC   = $(wildcard src/io/*.c)
OUT_SRC  = $(wildcard src/out/*.c)
CLI_SRC  = $(wildcard src/cli/*.c)
CTL_SRC  = $(wildcard src/ctl/*.c)
UNIT_SRC = $(wildcard tests/unit/test_*.c)

CORE_OBJ = $(CORE_SRC:%.c=$(BUILD)/%.o)
APP_OBJ  = $(IO_SRC:%.c=$(BUILD)/%.o) $(OUT_SRC:%.c=$(BUILD)/%.o) $(CLI_SRC:%.c=$(BUILD)/%.o) \
           $(CTL_SRC:%.c=$(BUILD)/%.o)
UNIT_BIN = $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)

.PHONY: all help deps demo test test-unit test-golden test-peer test-san \
        test-corrupt test-sigint test-stress test-fuzz \
        bench fuzz install clean scenarios release test-release

all: $(BUILD)/tcpguard $(BUILD)/libtcpguard.a

include src/bpf/bpf.mk

help:
	@echo "make            build $(BUILD)/tcpguard"
	@echo "make demo       install missing packages (as root), build, analyze tests/data/demo.pcap"
	@echo "make test       unit + golden + Zeek conformance tests, then again under ASan+UBSan"
	@echo "make release    build build-release/tcpguard, profile-guided (what install and bench use)"
	@echo "make bench      generate the bench capture and measure analyze against the read floor"
	@echo "make fuzz       run each libFuzzer harness (FUZZ_SECONDS=60 each)"
	@echo "make test-fuzz  replay fuzz regressions and seeds, fuzz each harness 30 s"
	@echo "make scenarios  (root) regenerate tests/data/*.pcap from real Linux stacks"
	@echo "make install    install to \$$PREFIX (default /usr/local)"
	@echo "make clean      remove build outputs"

deps:
	$(Q)scripts/deps.sh

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(ALL_CFLAGS) -MMD -MP -c -o $@ $<

$(BUILD)/libtcpguard.a: $(CORE_OBJ)
	@$(if $(Q),echo "  AR      $@")
	$(Q)ar rcs $@ $^

$(BUILD)/tcpguard: $(APP_OBJ) $(BUILD)/libtcpguard.a
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(ALL_CFLAGS) -o $@ $^ $(LDLIBS_PCAP) $(LDLIBS_BPF)

# A unit test of a module outside the core names its objects below; they
# link before the core library.
$(BUILD)/tests/%: tests/unit/%.c $(BUILD)/libtcpguard.a
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(ALL_CFLAGS) -Itests/unit -o $@ $< $(filter %.o,$^) \
		$(BUILD)/libtcpguard.a $(LDLIBS_CMOCKA)

$(BUILD)/tests/test_bans: $(BUILD)/src/ctl/bans.o
$(BUILD)/tests/test_sink: $(BUILD)/src/out/sink.o $(BUILD)/src/out/zeek.o \
	$(BUILD)/src/out/json.o $(BUILD)/src/out/fmt.o

demo: deps all
	$(Q)./$(BUILD)/tcpguard analyze tests/data/demo.pcap

test-unit: $(UNIT_BIN)
	$(Q)tests/run-unit.sh $(UNIT_BIN)

test-golden: $(BUILD)/tcpguard
	$(Q)tests/golden.sh $(BUILD)/tcpguard

test-peer: $(BUILD)/tcpguard
	$(Q)tests/peer.sh $(BUILD)/tcpguard

.PHONY: test-live
# (root) watch on real traffic in network namespaces; skipped otherwise.
test-live: $(BUILD)/tcpguard
	$(Q)tests/live.sh $(BUILD)/tcpguard

# Causes against an independent set of real-stack captures and their truth.
test-heldout: $(BUILD)/tcpguard
	$(Q)tests/heldout.sh $(BUILD)/tcpguard

.PHONY: test-protect
# (root) protect's XDP defence in network namespaces; skipped otherwise.
test-protect: $(BUILD)/tcpguard
	$(Q)tests/protect.sh $(BUILD)/tcpguard

test-corrupt: $(BUILD)/tcpguard
	$(Q)tests/corrupt.sh $(BUILD)/tcpguard

test-sigint: $(BUILD)/tcpguard $(BUILD)/gen
	$(Q)tests/sigint.sh $(BUILD)/tcpguard $(BUILD)/gen

.PHONY: test-parallel
# analyze -j 2 and -j 4 against -j 1: the same sessions and alerts.
test-parallel: $(BUILD)/tcpguard $(BUILD)/gen
	$(Q)tests/parallel.sh $(BUILD)/tcpguard $(BUILD)/gen

$(BUILD)/synflood: tests/stress/synflood.c $(BUILD)/libtcpguard.a
	$(Q)$(CC) $(ALL_CFLAGS) -Itests/unit -o $@ $< $(BUILD)/libtcpguard.a

# Resident memory is only meaningful without sanitizers: not in test-san.
test-stress: $(BUILD)/synflood
	$(Q)$(BUILD)/synflood

SAN_FLAGS = -O1 -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer

# The whole suite once more, built with AddressSanitizer + UBSan (and
# LeakSanitizer, which ASan runs at exit).
test-san:
	$(Q)$(MAKE) --no-print-directory BUILD=build-san CFLAGS="$(SAN_FLAGS)" \
		test-unit test-golden test-peer test-corrupt test-parallel

# Every suite appends "NAME: N passed, M failed" to $(TG_RESULTS); the
# summary adds them up. A failing suite stops the run.
test: export TG_RESULTS = $(CURDIR)/build/test-results.txt
test: deps
	@mkdir -p build && rm -f $(TG_RESULTS)
	$(Q)$(MAKE) --no-print-directory test-unit test-golden test-peer \
		test-heldout test-corrupt test-sigint test-stress test-parallel
	$(Q)$(MAKE) --no-print-directory test-release
	$(Q)$(MAKE) --no-print-directory test-san
	$(Q)$(MAKE) --no-print-directory test-protect
	$(Q)$(MAKE) --no-print-directory test-live
	$(Q)$(MAKE) --no-print-directory test-fuzz
	$(Q)tests/summary.sh

# The binary users install: trained on a generated capture, then rebuilt
# with that profile (scripts/release.sh).
RELEASE = build-release

release: $(BUILD)/gen
	$(Q)CC="$(CC)" MAKE="$(MAKE)" scripts/release.sh $(RELEASE) $(BUILD)/gen

# The release binary gives the same answers: the golden suite once more.
test-release: release
	$(Q)TG_SUITE=golden-release tests/golden.sh $(RELEASE)/tcpguard

bench: deps release
	$(Q)scripts/deps.sh --bench
	$(Q)$(MAKE) --no-print-directory BUILD=$(RELEASE) $(RELEASE)/gen $(RELEASE)/floor
	$(Q)bench/run.sh $(RELEASE)

$(BUILD)/gen: bench/gen.c
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(CFLAGS_BASE) -O2 -o $@ $<

$(BUILD)/floor: bench/floor.c
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(CFLAGS_BASE) -O2 -o $@ $<

FUZZ_SECONDS ?= 60
FUZZ_HARNESS = $(patsubst tests/fuzz/%.c,build-fuzz/%,$(wildcard tests/fuzz/fuzz_*.c))
FUZZ_FLAGS = -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Iinclude -g -O1 \
             -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all

build-fuzz/fuzz_%: tests/fuzz/fuzz_%.c $(CORE_SRC) $(IO_SRC)
	@mkdir -p build-fuzz
	@$(if $(Q),echo "  FUZZCC  $@")
	$(Q)clang $(FUZZ_FLAGS) -o $@ $< $(CORE_SRC) $(IO_SRC) $(LDLIBS_PCAP)

# Each harness runs FUZZ_SECONDS over its corpus (seeded from tests/fuzz/corpus);
# new inputs go to build-fuzz/corpus-NAME, crashes to build-fuzz/.
fuzz: $(FUZZ_HARNESS)
	$(Q)tests/fuzz/run.sh $(FUZZ_SECONDS) $(FUZZ_HARNESS)

# In make test: replay tests/fuzz/regress and the seeds, then fuzz each
# harness FUZZ_SMOKE_SECONDS (skipped, saying so, without libFuzzer).
FUZZ_SMOKE_SECONDS ?= 30
test-fuzz:
	$(Q)tests/fuzz/smoke.sh $(FUZZ_SMOKE_SECONDS) $(FUZZ_HARNESS)

scenarios:
	$(Q)tests/scenarios/make-all.sh

install: release
	install -d $(DESTDIR)$(PREFIX)/bin
	install -m 0755 $(RELEASE)/tcpguard $(DESTDIR)$(PREFIX)/bin/tcpguard

clean:
	rm -rf build build-san build-fuzz $(RELEASE)

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
