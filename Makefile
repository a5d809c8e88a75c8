# memtrace: build, test and benchmark. `make V=1` shows full commands.
OUTPUT ?= build
ARCH ?= x86
CLANG ?= clang
BPFTOOL ?= bpftool
CC ?= cc
PREFIX ?= /usr/local
DESTDIR ?=
VERSION := 0.1.0

ifeq ($(V),1)
Q =
msg =
else
Q = @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
MAKEFLAGS += --no-print-directory
endif

LIBBPF_CFLAGS := $(shell pkg-config --cflags libbpf 2>/dev/null)
LIBBPF_LIBS := $(shell pkg-config --libs libbpf 2>/dev/null || echo -lbpf) -lelf -lz -lm
# --push speaks HTTP through libcurl, opened (dlopen) only by a run that pushes.
CURL_CFLAGS := $(shell pkg-config --cflags libcurl 2>/dev/null)
CURL_LIBS := -ldl

WARN := -Wall -Wextra -Werror
CFLAGS ?= -O2 -g
CFLAGS += $(WARN) -std=gnu11 -D_GNU_SOURCE -DMEMTRACE_VERSION='"$(VERSION)"' \
	-I$(OUTPUT)/bpf -Ibpf -Iuser $(LIBBPF_CFLAGS) $(CURL_CFLAGS) -MMD -MP
BPF_CFLAGS := -g -O2 -target bpf -D__TARGET_ARCH_$(ARCH) -mcpu=v3 $(WARN) \
	-Wno-unused-parameter -Ivmlinux/$(ARCH) -Ibpf -MMD -MP

# The program, minus main(): unit tests link against the same objects.
CORE_SRCS := $(filter-out user/main.c,$(wildcard user/*.c))
CORE_OBJS := $(CORE_SRCS:user/%.c=$(OUTPUT)/user/%.o)
UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=$(OUTPUT)/tests/%)
FIXTURE_SRCS := $(wildcard tests/fixtures/*.c)
FIXTURE_BINS := $(FIXTURE_SRCS:tests/fixtures/%.c=$(OUTPUT)/fixtures/%)
TOOL_SRCS := $(filter-out %.bpf.c,$(wildcard tools/*.c))
TOOL_BINS := $(TOOL_SRCS:tools/%.c=$(OUTPUT)/tools/%)

.DELETE_ON_ERROR:
.SECONDARY:
.PHONY: all deps deps-bench deps-kernels vmlinux test test-kernels unit integration bench overhead scale workload-overhead kmem-bench workloads limit-compare \
	install uninstall clean fixtures tools mutants

all: $(OUTPUT)/memtrace

deps:
	$(Q)tools/deps.sh build

deps-bench:
	$(Q)tools/deps.sh bench

deps-kernels:
	$(Q)tools/deps.sh kernels

vmlinux:
	$(Q)if [ ! -r /sys/kernel/btf/vmlinux ]; then \
		echo "memtrace: cannot generate vmlinux.h: /sys/kernel/btf/vmlinux missing (kernel built without CONFIG_DEBUG_INFO_BTF)" >&2; \
		exit 1; fi
	$(call msg,GEN,vmlinux/$(ARCH)/vmlinux.h)
	$(Q)mkdir -p vmlinux/$(ARCH)
	$(Q)$(BPFTOOL) btf dump file /sys/kernel/btf/vmlinux format c > vmlinux/$(ARCH)/vmlinux.h

$(OUTPUT)/bpf/memtrace.bpf.o: bpf/memtrace.bpf.c vmlinux/$(ARCH)/vmlinux.h
	$(call msg,BPF,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

# The same programs with bpf_spin_lock for kernels before 6.15 (bpf/tree_lock.h).
$(OUTPUT)/bpf/memtrace_spin.bpf.o: bpf/memtrace.bpf.c vmlinux/$(ARCH)/vmlinux.h
	$(call msg,BPF,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) $(BPF_CFLAGS) -DMT_TREE_LOCK_SPIN -c $< -o $@

$(OUTPUT)/bpf/memtrace.skel.h: $(OUTPUT)/bpf/memtrace.bpf.o
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name memtrace_bpf > $@

$(OUTPUT)/bpf/memtrace_spin.skel.h: $(OUTPUT)/bpf/memtrace_spin.bpf.o
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name memtrace_spin_bpf > $@

SKELS := $(OUTPUT)/bpf/memtrace.skel.h $(OUTPUT)/bpf/memtrace_spin.skel.h

$(OUTPUT)/user/%.o: user/%.c $(SKELS)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) -c $< -o $@

$(OUTPUT)/memtrace: $(OUTPUT)/user/main.o $(CORE_OBJS)
	$(call msg,LD,$@)
	$(Q)$(CC) $(LDFLAGS) $^ $(LIBBPF_LIBS) $(CURL_LIBS) -o $@

$(OUTPUT)/tests/%.o: tests/unit/%.c $(SKELS)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) -c $< -o $@

$(OUTPUT)/tests/%: $(OUTPUT)/tests/%.o $(CORE_OBJS)
	$(call msg,LD,$@)
	$(Q)$(CC) $(LDFLAGS) $^ $(LIBBPF_LIBS) $(CURL_LIBS) -lcmocka -o $@

$(OUTPUT)/fixtures/%: tests/fixtures/%.c
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) -O1 -g $(WARN) -std=gnu11 -D_GNU_SOURCE -MMD -MP $< -pthread -o $@

$(OUTPUT)/tools/%: tools/%.c
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) -O1 -g $(WARN) -std=gnu11 -D_GNU_SOURCE -MMD -MP $< -o $@

# The overhead benchmark's floor loader: a BPF object of its own, and its skeleton.
$(OUTPUT)/tools/floor.bpf.o: tools/floor.bpf.c vmlinux/$(ARCH)/vmlinux.h
	$(call msg,BPF,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(OUTPUT)/tools/floor.skel.h: $(OUTPUT)/tools/floor.bpf.o
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name floor_bpf > $@

$(OUTPUT)/tools/floor: tools/floor.c $(OUTPUT)/tools/floor.skel.h
	$(call msg,CC,$@)
	$(Q)$(CC) -O1 -g $(WARN) -std=gnu11 -D_GNU_SOURCE -I$(OUTPUT)/tools $(LIBBPF_CFLAGS) -MMD -MP \
		$< $(LIBBPF_LIBS) -o $@

fixtures: $(FIXTURE_BINS)
tools: $(TOOL_BINS)

unit: deps
	$(Q)$(MAKE) $(UNIT_BINS)
	$(Q)for t in $(UNIT_BINS); do $$t || exit 1; done

# JOBS: integration tests at a time (run.py's default: twice the CPUs).
INTEGRATION = BUILD=$(abspath $(OUTPUT))/workloads python3 tests/integration/run.py \
	--memtrace $(OUTPUT)/memtrace --fixtures $(OUTPUT)/fixtures $(if $(JOBS),-j $(JOBS))
TEST_KERNELS = python3 tools/test_kernels.py --memtrace $(OUTPUT)/memtrace --fixtures $(OUTPUT)/fixtures \
	--cache $(abspath $(OUTPUT))/kernels $(if $(KERNELS),--kernels $(KERNELS))

integration: deps-bench
	$(Q)$(MAKE) all fixtures tools workloads
	$(Q)$(INTEGRATION)

# The kernels in QEMU boot while the integration tests run (they mostly wait
# on sleeping fixtures); the serial tests wait for them. The running kernel's
# column is left out: the integration tests are those tests on it.
test: deps-bench deps-kernels
	$(Q)$(MAKE) unit
	$(Q)$(MAKE) all fixtures tools workloads
	$(Q)$(INTEGRATION) --alongside "$(TEST_KERNELS) --no-host"

# The core integration tests on other kernels booted in QEMU, and on this one:
# a matrix kernel x test. KERNELS lists Debian kernel series (default 6.12,6.1).
test-kernels: deps-kernels
	$(Q)$(MAKE) all fixtures
	$(Q)$(TEST_KERNELS)

# The benchmark matrix: every built runtime at N = 1, 10k, 100k, 1M under
# memtrace, 3 runs per cell. QUICK=1 runs a subset of a few seconds (1 run); BENCH_ARGS
# passes more options (see python3 tools/bench.py --help).
bench: deps-bench
	$(Q)$(MAKE) all fixtures tools workloads
	$(Q)python3 tools/bench.py --memtrace $(OUTPUT)/memtrace $(if $(QUICK),--quick) $(BENCH_ARGS)

overhead: deps
	$(Q)$(MAKE) all tools
	$(Q)python3 tools/overhead.py --memtrace $(OUTPUT)/memtrace --touch $(OUTPUT)/tools/touch \
		--floor $(OUTPUT)/tools/floor

# memtrace -p on 100,000 threads and 10,000 processes: attach, report, own RSS.
scale: deps
	$(Q)$(MAKE) all tools
	$(Q)python3 tools/scale.py --memtrace $(OUTPUT)/memtrace --tree $(OUTPUT)/tools/hold_tree

workload-overhead: deps-bench
	$(Q)$(MAKE) all workloads
	$(Q)python3 tools/workload_overhead.py --memtrace $(OUTPUT)/memtrace

limit-compare: deps
	$(Q)$(MAKE) all fixtures
	$(Q)python3 tools/limit_compare.py --memtrace $(OUTPUT)/memtrace --fixtures $(OUTPUT)/fixtures

# Deliberate breaks of memtrace, one at a time, each against the tests that
# must catch it (tools/mutants.py; slow, so not part of `make test`).
mutants: deps
	$(Q)$(MAKE) all fixtures
	$(Q)BUILD=$(abspath $(OUTPUT))/workloads python3 tools/mutants.py $(MUTANTS_ARGS)

kmem-bench: deps
	$(Q)$(MAKE) all fixtures
	$(Q)python3 tools/kmem_bench.py --memtrace $(OUTPUT)/memtrace --threads $(OUTPUT)/fixtures/threads

workloads:
	$(Q)$(MAKE) -C workloads all BUILD=$(abspath $(OUTPUT))/workloads

# memtrace-plot draws --csv files: the plot tool with its gnuplot helper, and a
# two-line launcher in bin/.
SHARE := $(PREFIX)/share/memtrace
COMPLETIONS := $(PREFIX)/share/bash-completion/completions

install: $(OUTPUT)/memtrace
	$(call msg,INSTALL,$(DESTDIR)$(PREFIX)/bin/memtrace)
	$(Q)install -D -m 0755 $(OUTPUT)/memtrace $(DESTDIR)$(PREFIX)/bin/memtrace
	$(call msg,INSTALL,$(DESTDIR)$(PREFIX)/share/man/man1/memtrace.1)
	$(Q)install -D -m 0644 docs/memtrace.1 $(DESTDIR)$(PREFIX)/share/man/man1/memtrace.1
	$(call msg,INSTALL,$(DESTDIR)$(PREFIX)/bin/memtrace-plot)
	$(Q)install -D -m 0644 tools/plot_timeseries.py $(DESTDIR)$(SHARE)/plot_timeseries.py
	$(Q)install -D -m 0644 tools/plots/__init__.py $(DESTDIR)$(SHARE)/plots/__init__.py
	$(Q)install -D -m 0644 tools/plots/gp.py $(DESTDIR)$(SHARE)/plots/gp.py
	$(Q)printf '#!/bin/sh\nexec python3 %s/plot_timeseries.py "$$@"\n' '$(SHARE)' > $(OUTPUT)/memtrace-plot
	$(Q)install -D -m 0755 $(OUTPUT)/memtrace-plot $(DESTDIR)$(PREFIX)/bin/memtrace-plot
	$(call msg,INSTALL,$(DESTDIR)$(COMPLETIONS)/memtrace)
	$(Q)install -D -m 0644 completion/memtrace.bash $(DESTDIR)$(COMPLETIONS)/memtrace

uninstall:
	$(Q)rm -f $(DESTDIR)$(PREFIX)/bin/memtrace $(DESTDIR)$(PREFIX)/share/man/man1/memtrace.1 \
		$(DESTDIR)$(PREFIX)/bin/memtrace-plot $(DESTDIR)$(COMPLETIONS)/memtrace
	$(Q)rm -rf $(DESTDIR)$(SHARE)

clean:
	$(call msg,CLEAN,$(OUTPUT))
	$(Q)rm -rf $(OUTPUT)

-include $(shell find $(OUTPUT) -name '*.d' 2>/dev/null)
