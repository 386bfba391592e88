# rsstrace: exact, live RSS accounting with eBPF.
#   make            build ./rsstrace (needs the packages scripts/install-deps lists)
#   sudo make demo  install what is missing, build, trace the bundled demo workload
#   sudo make check install what is missing, build, run every test
#   make vmlinux    regenerate vmlinux/<arch>/vmlinux.h from this kernel's BTF

CC ?= cc
CLANG ?= clang
BPFTOOL ?= bpftool
PYTHON ?= /usr/bin/python3
ARCH := $(shell uname -m | sed -e 's/x86_64/x86/' -e 's/aarch64/arm64/')
BUILD := build
VERSION := 0.1

CFLAGS ?= -O2 -g
CFLAGS += -Wall -Wextra -Wno-unused-parameter -std=gnu11 -Iinclude -Isrc -I$(BUILD) \
	  -DRSSTRACE_VERSION='"$(VERSION)"'
DEPFLAGS = -MMD -MP
LDLIBS := -lbpf -ldw -lelf -lz -lm -lncursesw -lmicrohttpd -lpthread
BPF_CFLAGS := -g -O2 -target bpf -mcpu=v3 -D__TARGET_ARCH_$(ARCH) -Ivmlinux/$(ARCH) -Iinclude -Ibpf \
	      -Wall -Wno-unused-function

# The folders are the architecture (docs/architecture.md): core/ (tracer
# lifecycle, hooks, the live view, utilities), proc/ (readers of /proc and
# cgroupfs), output/ (printers), and one folder per subcommand.
# LIB_SRCS: user-space logic that needs no BPF (unit-tested without root).
LIB_SRCS := $(addprefix src/,core/array.c core/units.c core/json_writer.c core/cli.c \
	    proc/proc_status.c proc/smaps_rollup.c proc/cgroup_mem.c proc/meminfo.c \
	    output/report.c output/oom_report.c output/cgroup_report.c output/footprint_report.c \
	    output/svg_chart.c \
	    trace/options.c trace/sharing.c trace/timeline.c trace/cgroup_watch.c \
	    top/cli.c serve/cli.c \
	    serve/metrics.c serve/listen_addr.c serve/cgroup_table.c)
APP_SRCS := $(filter-out $(LIB_SRCS),$(wildcard src/*.c src/*/*.c))
LIB_OBJS := $(LIB_SRCS:src/%.c=$(BUILD)/obj/%.o)
APP_OBJS := $(APP_SRCS:src/%.c=$(BUILD)/obj/%.o)
BPF_HDRS := $(wildcard bpf/*.bpf.h) include/rsstrace.h include/footprint.h
WORKLOADS := $(patsubst tests/workloads/%.c,$(BUILD)/workloads/%,$(wildcard tests/workloads/*.c))
UNIT_TESTS := $(patsubst tests/unit/%.c,$(BUILD)/unit/%,$(wildcard tests/unit/test_*.c))
SKELS := $(BUILD)/rss_account.skel.h $(BUILD)/rss_account_compat.skel.h $(BUILD)/rss_account_nofetch.skel.h \
	 $(BUILD)/footprint.skel.h

# generated headers and objects stay (else make deletes them as intermediates
# and rebuilds everything that includes them next time)
.SECONDARY:

.PHONY: all clean deps demo check check-host check-vm check-unit workloads vmlinux sanitize fuzzers bench
all: rsstrace

$(BUILD) $(BUILD)/workloads $(BUILD)/unit:
	mkdir -p $@

# The same programs three times, because older kernels reject some
# instructions even on branches never taken: the default for 6.2+ (per-CPU
# counters read through the bpf_rdonly_cast kfunc, bpf/mm_counters.bpf.h);
# "compat" without that kfunc (5.12 - 6.1); "nofetch" also without
# fetch-atomics (before 5.12, bpf/atomics.bpf.h). The loader picks by probing.
$(BUILD)/rss_account.bpf.o: bpf/rss_account.bpf.c $(BPF_HDRS) | $(BUILD)
	$(CLANG) $(BPF_CFLAGS) -DRSS_RDONLY_CAST -c $< -o $@

$(BUILD)/rss_account_compat.bpf.o: bpf/rss_account.bpf.c $(BPF_HDRS) | $(BUILD)
	$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(BUILD)/rss_account_nofetch.bpf.o: bpf/rss_account.bpf.c $(BPF_HDRS) | $(BUILD)
	$(CLANG) $(BPF_CFLAGS) -DRSS_NO_FETCH_ATOMICS -c $< -o $@

# --footprint's programs: a separate object, loaded only when asked for.
$(BUILD)/footprint.bpf.o: bpf/footprint.bpf.c $(BPF_HDRS) | $(BUILD)
	$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(BUILD)/%.skel.h: $(BUILD)/%.bpf.o
	$(BPFTOOL) gen skeleton $< name $*_bpf > $@.tmp && mv $@.tmp $@

# Objects mirror src/'s folders; -MMD records which headers each includes.
# The skeletons are generated headers: every object waits for them (the
# first build cannot know from .d files yet who includes one).
$(BUILD)/obj/%.o: src/%.c | $(SKELS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(DEPFLAGS) -c $< -o $@

rsstrace: $(APP_OBJS) $(LIB_OBJS)
	$(CC) $(CFLAGS) $^ -o $@ $(LDLIBS)

# frame pointers: --stacks walks them (tests/test_stacks.py)
$(BUILD)/workloads/%: tests/workloads/%.c tests/workloads/workload.h Makefile | $(BUILD)/workloads
	$(CC) -O1 -g -fno-omit-frame-pointer -Wall -pthread $< -o $@

workloads: $(WORKLOADS)

$(BUILD)/unit/%: tests/unit/%.c $(LIB_OBJS) | $(BUILD)/unit
	$(CC) $(CFLAGS) $(DEPFLAGS) $< $(LIB_OBJS) -o $@ -lcmocka -lm

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

$(BUILD)/san/obj/%.o: src/%.c | $(SKELS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(SAN_CFLAGS) $(DEPFLAGS) -c $< -o $@

$(BUILD)/san/rsstrace: $(SAN_APP_OBJS) $(SAN_LIB_OBJS)
	$(CC) $(CFLAGS) $(SAN_FLAGS) $^ -o $@ $(LDLIBS)

$(BUILD)/san/unit/%: tests/unit/%.c $(SAN_LIB_OBJS) | $(BUILD)/san/unit
	$(CC) $(CFLAGS) $(SAN_FLAGS) $(DEPFLAGS) $< $(SAN_LIB_OBJS) -o $@ -lcmocka -lm

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

$(BUILD)/bpftest/librsstrace.a: $(filter-out $(BUILD)/obj/main.o,$(APP_OBJS)) $(LIB_OBJS)
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
	$(CC) -O2 -g -fno-omit-frame-pointer -Wall $< -o $@

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

vmlinux:
	mkdir -p vmlinux/$(ARCH)
	$(BPFTOOL) btf dump file /sys/kernel/btf/vmlinux format c > vmlinux/$(ARCH)/vmlinux_$$(uname -r | cut -d. -f1-2).h
	ln -sf vmlinux_$$(uname -r | cut -d. -f1-2).h vmlinux/$(ARCH)/vmlinux.h

clean:
	rm -rf $(BUILD) rsstrace

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
