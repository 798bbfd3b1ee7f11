# xlb - build, test, check. Outputs under build/; nothing generated is committed.

BUILD    ?= build
CC       ?= gcc
CLANG    ?= clang
BPFTOOL  ?= bpftool
MULTIARCH := $(shell $(CC) -dumpmachine 2>/dev/null || echo x86_64-linux-gnu)

CFLAGS   ?= -O2 -g
CFLAGS   += -std=gnu11 -Wall -Wextra -Werror -Iinclude -Iuser/lib -Itests/lib -I$(BUILD)
LDLIBS   := -lbpf -lelf -lz -lxdp -levent -ljansson -lm -lpthread
BPF_CFLAGS := -O2 -g --target=bpf -mcpu=v3 -Wall -Werror -Iinclude -Ibpf -I/usr/include/$(MULTIARCH)

BPF_SRCS  := $(wildcard bpf/*.bpf.c bench/bpf/*.bpf.c)
BPF_OBJS  := $(patsubst %.bpf.c,$(BUILD)/bpf/%.bpf.o,$(notdir $(BPF_SRCS)))
SKELS     := $(patsubst %.bpf.c,$(BUILD)/%.skel.h,$(notdir $(BPF_SRCS)))
BPF_HDRS  := $(wildcard bpf/lib/*.h) $(wildcard include/*.h)

LIB_SRCS  := $(wildcard user/lib/*.c)
LIB_OBJS  := $(patsubst %.c,$(BUILD)/%.o,$(LIB_SRCS))
LIB       := $(BUILD)/libxlb.a
TLIB_SRCS := $(wildcard tests/lib/*.c)
TLIB_OBJS := $(patsubst %.c,$(BUILD)/%.o,$(TLIB_SRCS))

# Daemon and CLI: everything but main.c also goes into an archive that unit tests link.
XLBD_OBJS    := $(patsubst %.c,$(BUILD)/%.o,$(filter-out user/xlbd/main.c,$(wildcard user/xlbd/*.c)))
XLBCTL_OBJS  := $(patsubst %.c,$(BUILD)/%.o,$(filter-out user/xlbctl/main.c,$(wildcard user/xlbctl/*.c)))
XLBD_LIB     := $(BUILD)/libxlbd.a
XLBCTL_LIB   := $(BUILD)/libxlbctl.a
BINS         := $(BUILD)/xlbd $(BUILD)/xlbctl

UNIT_TESTS := $(patsubst %.c,$(BUILD)/%,$(wildcard tests/unit/test_*.c))
BPF_TESTS  := $(patsubst %.c,$(BUILD)/%,$(wildcard tests/bpf/test_*.c))
BENCH      := $(BUILD)/xlb-bench

.PHONY: all deps test check format bench demo clean
all: deps $(BPF_OBJS) $(SKELS) $(LIB) $(BINS) $(UNIT_TESTS) $(BPF_TESTS) $(BENCH)

# Installs whatever Debian packages are missing (no-op when all are there) and mounts bpffs.
deps:
	@./scripts/deps.sh

$(BUILD)/bpf/%.bpf.o: bpf/%.bpf.c $(BPF_HDRS) | $(BUILD)/bpf
	$(CLANG) $(BPF_CFLAGS) -c $< -o $@
$(BUILD)/bpf/%.bpf.o: bench/bpf/%.bpf.c $(BPF_HDRS) | $(BUILD)/bpf
	$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(BUILD)/%.skel.h: $(BUILD)/bpf/%.bpf.o
	$(BPFTOOL) gen skeleton $< > $@.tmp && mv $@.tmp $@

$(BUILD)/%.o: %.c $(wildcard include/*.h user/*/*.h tests/lib/*.h) $(SKELS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c $< -o $@

$(LIB): $(LIB_OBJS)
	$(AR) rcs $@ $^

$(XLBD_LIB): $(XLBD_OBJS)
	$(AR) rcs $@ $^
$(XLBCTL_LIB): $(XLBCTL_OBJS)
	$(AR) rcs $@ $^

$(BUILD)/xlbd: $(BUILD)/user/xlbd/main.o $(XLBD_LIB) $(LIB)
	$(CC) $(CFLAGS) $^ $(LDLIBS) -o $@
$(BUILD)/xlbctl: $(BUILD)/user/xlbctl/main.o $(XLBCTL_LIB) $(LIB)
	$(CC) $(CFLAGS) $^ $(LDLIBS) -o $@

$(BUILD)/tests/%: tests/%.c $(LIB) $(XLBD_LIB) $(XLBCTL_LIB) $(TLIB_OBJS) $(SKELS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Iuser/xlbd -Iuser/xlbctl $< $(TLIB_OBJS) $(XLBD_LIB) $(XLBCTL_LIB) $(LIB) \
		$(LDLIBS) -o $@

$(BENCH): bench/xlb_bench.c bench/rows.h $(LIB) $(TLIB_OBJS) $(SKELS)
	$(CC) $(CFLAGS) $< $(TLIB_OBJS) $(LIB) $(LDLIBS) -o $@

# Bench-only tools (not in `all`: `make test` never builds them). See docs/benchmarks.md.
BENCH_TOOLS := $(BUILD)/ctl-bench $(BUILD)/veth-pps
$(BUILD)/ctl-bench: bench/ctl_bench.c bench/rows.h $(LIB) $(TLIB_OBJS) $(SKELS)
	$(CC) $(CFLAGS) $< $(TLIB_OBJS) $(LIB) $(LDLIBS) -o $@
$(BUILD)/veth-pps: bench/veth_pps.c bench/rows.h $(LIB) $(TLIB_OBJS) $(SKELS)
	$(CC) $(CFLAGS) $< $(TLIB_OBJS) $(LIB) $(LDLIBS) -o $@

$(BUILD)/bpf:
	mkdir -p $@

# One line per test, then "N passed, N failed[, N skipped]".
test: all
	@./tests/run.sh $(BUILD)

# Everything, about 1.5 minutes, as root: one table, build/bench/results.json and dataplane.png.
bench: all $(BENCH_TOOLS)
	@./bench/run.sh $(BUILD)

# A namespace topology with a client, the LB and three backends; traffic, failover, stats.
demo: all
	@./scripts/demo.sh $(BUILD)

FORMAT_FILES := $(shell git ls-files '*.c' '*.h' 2>/dev/null)
# cppcheck cannot expand libbpf's LIBBPF_OPTS without its headers: unknownMacro is suppressed.
check: $(SKELS)
	clang-format --dry-run --Werror $(FORMAT_FILES)
	cppcheck --quiet --error-exitcode=1 --enable=warning,performance,portability \
		--inline-suppr --suppress=missingIncludeSystem --suppress=unknownMacro \
		-Iinclude -Iuser/lib -Itests/lib \
		user tests $(wildcard bench/*.c)

format:
	clang-format -i $(FORMAT_FILES)

clean:
	rm -rf $(BUILD)
