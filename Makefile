# rsstrace: exact, live RSS accounting with eBPF.
#   make            build ./rsstrace and the manual pages (needs the packages
#                   scripts/install-deps lists)
#   sudo make demo  install what is missing, build, trace the bundled demo workload
#   sudo make check install what is missing, build, run every test
#   make vmlinux    regenerate vmlinux/<arch>/vmlinux.h from this kernel's BTF
#   make install    install under PREFIX (/usr/local) in DESTDIR; make uninstall

CC ?= cc
CLANG ?= clang
BPFTOOL ?= bpftool
PYTHON ?= /usr/bin/python3
ARCH := $(shell uname -m | sed -e 's/x86_64/x86/' -e 's/aarch64/arm64/')
BUILD := build
VERSION := 0.1

CFLAGS ?= -O2 -g
CFLAGS += -Wall -Wextra -Wno-unused-parameter -std=gnu11 -Iinclude -Isrc -I$(BUILD) -I$(BUILD)/proto \
	  -DRSSTRACE_VERSION='"$(VERSION)"'
DEPFLAGS = -MMD -MP
LDLIBS := -lbpf -ldw -lelf -lz -lm -lncursesw -lmicrohttpd -lprotobuf-c -lpthread -lstdc++
BPF_CFLAGS := -g -O2 -target bpf -mcpu=v3 -D__TARGET_ARCH_$(ARCH) -Ivmlinux/$(ARCH) -Iinclude -Ibpf \
	      -Wall -Wno-unused-function

# The folders are the architecture (docs/architecture.md): core/ (tracer
# lifecycle, hooks, the live view, utilities), proc/ (readers of /proc and
# cgroupfs), output/ (printers), and one folder per subcommand.
# LIB_SRCS: user-space logic that needs no BPF (unit-tested without root).
LIB_SRCS := $(addprefix src/,core/array.c core/intern.c core/u64_map.c core/units.c core/json_writer.c core/cli.c core/text_escape.c core/log.c core/output_file.c core/regular_file.c \
	    proc/proc_status.c proc/smaps_rollup.c proc/cgroup_mem.c proc/cgroup_target.c proc/meminfo.c proc/container_cgroup.c proc/proc_maps.c \
	    output/report.c output/oom_report.c output/cgroup_report.c output/container_json.c output/footprint_report.c \
	    output/svg_chart.c \
	    trace/options.c trace/sharing.c trace/timeline.c trace/cgroup_watch.c trace/stack_sampling.c trace/held_pages.c \
	    top/cli.c serve/cli.c \
	    serve/metrics.c serve/listen_addr.c serve/cgroup_table.c)
APP_SRCS := $(filter-out $(LIB_SRCS),$(wildcard src/*.c src/*/*.c))
LIB_OBJS := $(LIB_SRCS:src/%.c=$(BUILD)/obj/%.o)
APP_OBJS := $(APP_SRCS:src/%.c=$(BUILD)/obj/%.o)
WORKLOADS := $(patsubst tests/workloads/%.c,$(BUILD)/workloads/%,$(wildcard tests/workloads/*.c))
UNIT_TESTS := $(patsubst tests/unit/%.c,$(BUILD)/unit/%,$(wildcard tests/unit/test_*.c))
SKELS := $(BUILD)/rss_account.skel.h $(BUILD)/footprint.skel.h

# generated headers and objects stay (else make deletes them as intermediates
# and rebuilds everything that includes them next time)
.SECONDARY:

.DELETE_ON_ERROR:
.PHONY: all clean deps demo check check-host check-vm check-unit workloads vmlinux sanitize fuzzers bench bench-percpu man
all: rsstrace man

$(BUILD) $(BUILD)/workloads $(BUILD)/unit:
	mkdir -p $@

# The BPF side: one .bpf.c per concern (bpf/lib/ holds their helper-only
# headers), compiled separately and linked by libbpf's static linker
# (`bpftool gen object`) into one object, the "rss_account" one. The order
# matters to Debian 12's libbpf 1.1: a file that defines a map must come
# before the files that declare it extern (else the linked BTF keeps that
# map at offset 0 and the object does not open: "map relo failed to find map
# for section '.maps'"; the skeleton step below fails on it). Extern
# variables resolve in any order.
BPF_LINKED := stacks mm_counters account causes cow oom held

# Flavours of that object: the same programs, maps and variables compiled with
# other defines, because older kernels reject some instructions even on
# branches never taken. src/core/tracer.c chooses one by probing.
#   default  6.2+: per-CPU counters read through the bpf_rdonly_cast kfunc
#            (bpf/lib/mm_counters.bpf.h)
#   compat   5.12 - 6.1: without that kfunc
#   nofetch  before 5.12: also without fetch-atomics (bpf/lib/atomics.bpf.h)
# Test-only flavours, embedded only in the test build (build/san/rsstrace):
#   broken   fork_btf does not verify (RSSTRACE_TEST_BREAK_VERIFIER=1); built on
#            nofetch, which every kernel takes, so that is the only failure
BPF_FLAVOURS := default compat nofetch
BPF_TEST_FLAVOURS := broken
BPF_DEFS_default := -DRSS_RDONLY_CAST
BPF_DEFS_compat :=
BPF_DEFS_nofetch := -DRSS_NO_FETCH_ATOMICS
BPF_DEFS_broken := -DRSS_NO_FETCH_ATOMICS -DRSS_TEST_BREAK_VERIFIER

# bpf/<concern>.bpf.c -> $(BUILD)/bpf/<flavour>/<concern>.o, with the flavour's
# defines; -MMD records the headers each includes.
.SECONDEXPANSION:
$(BUILD)/bpf/%.o: bpf/$$(*F).bpf.c
	@mkdir -p $(@D)
	$(CLANG) $(BPF_CFLAGS) $(BPF_DEFS_$(*D)) $(DEPFLAGS) -c $< -o $@

# <flavour>.bpf.o: the concerns linked (extern maps and variables resolved)
$(BUILD)/bpf/%.bpf.o: $(foreach c,$(BPF_LINKED),$(BUILD)/bpf/%/$(c).o)
	$(BPFTOOL) gen object $@ $^

# One skeleton type for every flavour: struct rss_account_bpf, generated from
# the default flavour (it embeds that one's bytes); the other flavours' bytes
# are embedded next to it and chosen at open (src/core/tracer.c). That is
# type-safe because every flavour's skeleton must equal the default's but for
# the embedded bytes: same maps, programs and variables, same layout.
$(BUILD)/bpf/%.skel.h: $(BUILD)/bpf/%.bpf.o
	$(BPFTOOL) gen skeleton $< name rss_account_bpf > $@.tmp && mv $@.tmp $@

SKEL_SHAPE = sed '/__elf_bytes(size_t \*sz)$$/,/^}/d'
$(BUILD)/bpf/%.same: $(BUILD)/bpf/%.skel.h $(BUILD)/bpf/default.skel.h
	@$(SKEL_SHAPE) $< > $@.a && $(SKEL_SHAPE) $(BUILD)/bpf/default.skel.h > $@.b
	@cmp -s $@.b $@.a || { diff -u $@.b $@.a | head -40; \
		echo "BPF flavour $* differs from the default one (above): not one skeleton type" >&2; exit 1; }
	@rm -f $@.a $@.b && touch $@

$(BUILD)/rss_account.skel.h: $(BUILD)/bpf/default.skel.h
	cp $< $@

# A flavour's bytes in the binary: src/core/bpf_flavour.S, once per flavour.
BPF_EMBED := $(patsubst %,$(BUILD)/flavours/%.o,$(filter-out default,$(BPF_FLAVOURS)))
BPF_TEST_EMBED := $(BPF_TEST_FLAVOURS:%=$(BUILD)/flavours/%.o)
$(BUILD)/flavours/%.o: src/core/bpf_flavour.S $(BUILD)/bpf/%.bpf.o $(BUILD)/bpf/%.same
	@mkdir -p $(@D)
	$(CC) -c -DFLAVOUR=$* -DFLAVOUR_OBJ='"$(BUILD)/bpf/$*.bpf.o"' $< -o $@

# --footprint's programs: a separate object, loaded only when asked for.
$(BUILD)/footprint.bpf.o: bpf/footprint.bpf.c | $(BUILD)
	$(CLANG) $(BPF_CFLAGS) $(DEPFLAGS) -c $< -o $@

$(BUILD)/footprint.skel.h: $(BUILD)/footprint.bpf.o
	$(BPFTOOL) gen skeleton $< name footprint_bpf > $@.tmp && mv $@.tmp $@

# Generated files are kept (not removed as intermediates): make rebuilds
# nothing when nothing changed.
.SECONDARY:

# --pprof's message types: C generated from proto/*.proto by protoc-c
# (Debian's protobuf-c-compiler), into build/, not git; linked with
# libprotobuf-c.
PROTOC_C ?= protoc-c
PROTO_NAMES := $(patsubst proto/%.proto,%,$(wildcard proto/*.proto))
PROTO_HDRS := $(PROTO_NAMES:%=$(BUILD)/proto/%.pb-c.h)
PROTO_OBJS := $(PROTO_NAMES:%=$(BUILD)/obj/proto/%.pb-c.o)
SAN_PROTO_OBJS := $(PROTO_NAMES:%=$(BUILD)/san/obj/proto/%.pb-c.o)

$(BUILD)/proto/%.pb-c.c $(BUILD)/proto/%.pb-c.h: proto/%.proto
	@mkdir -p $(@D)
	$(PROTOC_C) --c_out=$(BUILD)/proto -Iproto $<

$(BUILD)/obj/proto/%.o: $(BUILD)/proto/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(DEPFLAGS) -c $< -o $@

# Objects mirror src/'s folders; -MMD records which headers each includes.
# The skeletons and the protobuf headers are generated headers: every object
# waits for them (the first build cannot know from .d files yet who includes
# one).
$(BUILD)/obj/%.o: src/%.c | $(SKELS) $(PROTO_HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(DEPFLAGS) -c $< -o $@

rsstrace: $(APP_OBJS) $(LIB_OBJS) $(PROTO_OBJS) $(BPF_EMBED)
	$(CC) $(CFLAGS) $(LDFLAGS) $^ -o $@ $(LDLIBS)

# frame pointers: --stacks walks them (tests/test_stacks.py)
$(BUILD)/workloads/%: tests/workloads/%.c tests/workloads/workload.h Makefile | $(BUILD)/workloads
	$(CC) -O1 -g -fno-omit-frame-pointer -Wall -pthread $< -o $@

# no frame pointers anywhere in it: --stacks=dwarf must unwind it with its CFI
$(BUILD)/workloads/nofp_sites: tests/workloads/nofp_sites.c tests/workloads/workload.h Makefile | $(BUILD)/workloads
	$(CC) -O2 -g -fomit-frame-pointer -Wall $< -o $@

# C++, for the demangling of --stacks' names
$(BUILD)/workloads/cxx_sites: tests/workloads/cxx_sites.cc Makefile | $(BUILD)/workloads
	$(CXX) -O2 -g -fomit-frame-pointer -Wall $< -o $@

workloads: $(WORKLOADS) $(BUILD)/workloads/cxx_sites

$(BUILD)/unit/%: tests/unit/%.c $(LIB_OBJS) | $(BUILD)/unit
	$(CC) $(CFLAGS) $(DEPFLAGS) $< $(LIB_OBJS) -o $@ -lcmocka -lm

# the pprof writer's test also links it and the protobuf code it writes with
$(BUILD)/unit/test_pprof_writer: tests/unit/test_pprof_writer.c $(LIB_OBJS) $(BUILD)/obj/output/pprof_writer.o \
		$(PROTO_OBJS) | $(BUILD)/unit
	$(CC) $(CFLAGS) $(DEPFLAGS) $< $(filter %.o,$^) -o $@ -lcmocka -lprotobuf-c -lz -lm

# Sanitizer builds of the user-space code (make check runs them): AddressSanitizer
# + UndefinedBehaviorSanitizer, and libFuzzer targets for every parser of
# external text (tests/fuzz/).
SAN_FLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
# the test build: also the test-only switches (RSSTRACE_TEST_* variables)
SAN_CFLAGS := $(SAN_FLAGS) -DRSSTRACE_TEST_HOOKS
SAN_LIB_OBJS := $(LIB_SRCS:src/%.c=$(BUILD)/san/obj/%.o)
SAN_APP_OBJS := $(APP_SRCS:src/%.c=$(BUILD)/san/obj/%.o)
SAN_UNITS := $(patsubst tests/unit/%.c,$(BUILD)/san/unit/%,$(wildcard tests/unit/test_*.c))
FUZZERS := $(patsubst tests/fuzz/%.c,$(BUILD)/fuzz/%,$(wildcard tests/fuzz/fuzz_*.c))

$(BUILD)/san $(BUILD)/san/unit $(BUILD)/fuzz:
	mkdir -p $@

$(BUILD)/san/obj/%.o: src/%.c | $(SKELS) $(PROTO_HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(SAN_CFLAGS) $(DEPFLAGS) -c $< -o $@

$(BUILD)/san/obj/proto/%.o: $(BUILD)/proto/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(SAN_CFLAGS) $(DEPFLAGS) -c $< -o $@

$(BUILD)/san/rsstrace: $(SAN_APP_OBJS) $(SAN_LIB_OBJS) $(SAN_PROTO_OBJS) $(BPF_EMBED) $(BPF_TEST_EMBED)
	$(CC) $(CFLAGS) $(SAN_FLAGS) $^ -o $@ $(LDLIBS)

$(BUILD)/san/unit/%: tests/unit/%.c $(SAN_LIB_OBJS) | $(BUILD)/san/unit
	$(CC) $(CFLAGS) $(SAN_FLAGS) $(DEPFLAGS) $< $(SAN_LIB_OBJS) -o $@ -lcmocka -lm

$(BUILD)/san/unit/test_pprof_writer: tests/unit/test_pprof_writer.c $(SAN_LIB_OBJS) \
		$(BUILD)/san/obj/output/pprof_writer.o $(SAN_PROTO_OBJS) | $(BUILD)/san/unit
	$(CC) $(CFLAGS) $(SAN_FLAGS) $(DEPFLAGS) $< $(filter %.o,$^) -o $@ -lcmocka -lprotobuf-c -lz -lm

$(BUILD)/fuzz/%: tests/fuzz/%.c $(LIB_SRCS) $(wildcard src/*/*.h) | $(BUILD)/fuzz
	$(CLANG) -g -O1 -fsanitize=fuzzer,address,undefined -Iinclude -Isrc $< $(LIB_SRCS) -o $@ -lm

sanitize: $(BUILD)/san/rsstrace $(SAN_UNITS)
fuzzers: $(FUZZERS)

deps:
	scripts/install-deps test

demo: deps
	$(MAKE) rsstrace workloads
	./rsstrace --sharing --stacks --svg $(BUILD)/demo.svg -- $(BUILD)/workloads/demo

check-unit: $(UNIT_TESTS)
	@for t in $(UNIT_TESTS); do $$t || exit 1; done

# The BPF tier (tests/bpf/, run as root by tests/test_bpf.py): programs in the
# kernel selftests' style that load the real skeleton through the tracer API,
# trigger events and check maps and globals against /proc. They link what they
# use from an archive of every object but main.o.
.PHONY: check-bpf
BPF_TESTS := $(patsubst tests/bpf/%.c,$(BUILD)/bpftest/%,$(wildcard tests/bpf/test_*.c))

$(BUILD)/bpftest/librsstrace.a: $(filter-out $(BUILD)/obj/main.o,$(APP_OBJS)) $(LIB_OBJS) $(PROTO_OBJS) $(BPF_EMBED)
	@mkdir -p $(dir $@)
	rm -f $@ && $(AR) rcs $@ $^

$(BUILD)/bpftest/%: tests/bpf/%.c tests/bpf/bpftest.c tests/bpf/bpftest.h $(BUILD)/bpftest/librsstrace.a
	$(CC) $(CFLAGS) -Itests/bpf $< tests/bpf/bpftest.c $(BUILD)/bpftest/librsstrace.a -o $@ $(LDLIBS)

check-bpf: $(BPF_TESTS)
	@for t in $(BPF_TESTS); do $$t || exit 1; done

# The tests' own shared headers (the rules above name only their sources).
$(FUZZERS): tests/fuzz/fuzz.h

# Everything: this kernel's suite, then the same suite inside the VM kernels.
# The last line counts both: "N passed, N failed, N skipped".
check: deps
	$(MAKE) rsstrace workloads $(UNIT_TESTS) $(BPF_TESTS) sanitize fuzzers
	scripts/check-all

check-host: deps
	$(MAKE) rsstrace workloads $(UNIT_TESTS) $(BPF_TESTS) sanitize fuzzers
	$(PYTHON) -m pytest -q -rs -p no:cacheprovider tests

check-vm: deps
	$(MAKE) rsstrace workloads $(BPF_TESTS) sanitize
	tests/vm/setup
	tests/vm/suite

# Benchmarks (not part of check): what tracing costs, side by side with the
# floor and with bpftrace; results go to docs/performance.md by hand.
$(BUILD)/bench:
	mkdir -p $@

# frame pointers, so that the --stacks row walks a real stack
$(BUILD)/bench/storm: bench/storm.c | $(BUILD)/bench
	$(CC) -O2 -g -fno-omit-frame-pointer -Wall $< -o $@ -lpthread

$(BUILD)/bench/floor.bpf.o: bench/floor.bpf.c | $(BUILD)/bench
	$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(BUILD)/bench/floor.skel.h: $(BUILD)/bench/floor.bpf.o
	$(BPFTOOL) gen skeleton $< name floor_bpf > $@.tmp && mv $@.tmp $@

$(BUILD)/bench/floor: bench/floor.c $(BUILD)/bench/floor.skel.h
	$(CC) $(CFLAGS) -I$(BUILD)/bench $< -o $@ $(LDLIBS)

bench:
	scripts/install-deps bench
	$(MAKE) rsstrace $(BUILD)/bench/storm $(BUILD)/bench/floor
	$(PYTHON) bench/bench.py $(BENCH_ARGS)

# The manual pages: Markdown (docs/man/, readable on the forge) is the one
# source; pandoc turns it into roff at build time.
PANDOC ?= pandoc
MAN_PAGES := $(patsubst docs/man/%.md,$(BUILD)/man/%,$(wildcard docs/man/*.8.md))

$(BUILD)/man/%.8: docs/man/%.8.md Makefile
	@mkdir -p $(@D)
	$(PANDOC) -s -f markdown -t man --shift-heading-level-by=-1 \
		-M footer='rsstrace $(VERSION)' $< -o $@

man: $(MAN_PAGES)

# make install: FHS places under PREFIX, all below DESTDIR (packaging). The
# systemd unit names the installed binary, so it is generated with SBINDIR.
PREFIX ?= /usr/local
SBINDIR ?= $(PREFIX)/sbin
MANDIR ?= $(PREFIX)/share/man
DOCDIR ?= $(PREFIX)/share/doc/rsstrace
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
SYSTEMDUNITDIR ?= $(PREFIX)/lib/systemd/system
INSTALL ?= install
DOCS := README.md docs/how-it-works.md docs/json-schema.md docs/performance.md

$(BUILD)/rsstrace-serve.service: dist/systemd/rsstrace-serve.service.in Makefile | $(BUILD)
	sed 's|@SBINDIR@|$(SBINDIR)|g' $< > $@.tmp && mv $@.tmp $@

.PHONY: install uninstall
install: rsstrace man $(BUILD)/rsstrace-serve.service
	$(INSTALL) -D -m 755 rsstrace $(DESTDIR)$(SBINDIR)/rsstrace
	$(INSTALL) -d $(DESTDIR)$(MANDIR)/man8
	$(INSTALL) -m 644 $(MAN_PAGES) $(DESTDIR)$(MANDIR)/man8/
	$(INSTALL) -D -m 644 $(BUILD)/rsstrace-serve.service $(DESTDIR)$(SYSTEMDUNITDIR)/rsstrace-serve.service
	$(INSTALL) -D -m 644 dist/bash-completion/rsstrace $(DESTDIR)$(BASHCOMPDIR)/rsstrace
	$(INSTALL) -d $(DESTDIR)$(DOCDIR)
	$(INSTALL) -m 644 $(DOCS) $(DESTDIR)$(DOCDIR)/

uninstall:
	rm -f $(DESTDIR)$(SBINDIR)/rsstrace
	rm -f $(addprefix $(DESTDIR)$(MANDIR)/man8/,$(notdir $(MAN_PAGES)))
	rm -f $(DESTDIR)$(SYSTEMDUNITDIR)/rsstrace-serve.service
	rm -f $(DESTDIR)$(BASHCOMPDIR)/rsstrace
	rm -f $(addprefix $(DESTDIR)$(DOCDIR)/,$(notdir $(DOCS)))
	-rmdir $(DESTDIR)$(DOCDIR)

# Per-event cost against the number of possible CPUs, in 6.12 guests
# (bench/percpu.py; needs tests/vm/setup): BENCH_ARGS='--cpus 2,64 --clocks icount'
bench-percpu:
	scripts/install-deps bench
	$(MAKE) rsstrace $(BUILD)/bench/storm $(BUILD)/bench/floor
	tests/vm/setup
	$(PYTHON) bench/percpu.py $(BENCH_ARGS)

vmlinux:
	mkdir -p vmlinux/$(ARCH)
	$(BPFTOOL) btf dump file /sys/kernel/btf/vmlinux format c > vmlinux/$(ARCH)/vmlinux_$$(uname -r | cut -d. -f1-2).h
	ln -sf vmlinux_$$(uname -r | cut -d. -f1-2).h vmlinux/$(ARCH)/vmlinux.h

clean:
	rm -rf $(BUILD) rsstrace

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
