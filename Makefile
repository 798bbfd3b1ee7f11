# xlb - build, test, check. Outputs under build/; nothing generated is committed.
#
#   make         the product: xlb.bpf.o and its skeleton, libxlb, xlbd, xlbctl; the backend's
#                xlb_decap.bpf.o, its skeleton and xlb-backend (docs/backend.md)
#   make test    installs what is missing (scripts/deps.sh), builds the tests, runs them all
#   make demo    installs what is missing, builds, runs scripts/demo.sh
#   make bench   installs what is missing, builds bench/ (its BPF programs and tools), runs it
#   make check   installs what is missing, then clang-format (dry run), cppcheck, shellcheck, and
#                scripts/layers.py (no call loop between xlbd's files)
#   make sanitize  xlbd, xlbctl and the tests with ASan and UBSan under build-asan/; runs the
#                unit tests and the short fuzz run there
#   make fuzz    the long fuzz runs under ASan and UBSan (as root): the control fuzzer (FUZZ_N
#                requests), the packet fuzzer (PKTFUZZ_N frames); FUZZ_SEED for both
#   make man     the manual pages xlbd(8), xlbctl(8), xlb-backend(8) from man/*.scd (scdoc)
#   make install   the product, its manual pages, the systemd unit, the sysusers file, bash
#                completion, the dashboard and examples under PREFIX (default /usr/local;
#                DESTDIR honoured); `make uninstall` removes exactly those files
#   make deb     a Debian package (dpkg-buildpackage on a copy of the tree) under build/deb/
#
# CFLAGS, LDFLAGS and LDLIBS are the caller's (`make CFLAGS='-O1 -g -fsanitize=address'`): the
# project's own flags are in XLB_CFLAGS and XLB_LDLIBS, which the command line does not replace.

BUILD    ?= build
CC       ?= gcc
CLANG    ?= clang
BPFTOOL  ?= bpftool
MULTIARCH := $(shell $(CC) -dumpmachine 2>/dev/null || echo x86_64-linux-gnu)

# Header dependencies: every compile writes a .d file next to its output (included at the end).
DEPFLAGS := -MMD -MP
CFLAGS   ?= -O2 -g
LDFLAGS  ?=
LDLIBS   ?=
XLB_CFLAGS := -std=gnu11 -Wall -Wextra -Werror -Iinclude -Iuser/lib -Itests/lib -I$(BUILD)
XLB_LDLIBS := -lbpf -lelf -lz -lxdp -levent -ljansson -lm -lpthread
# The caller's flags come last: their -O wins; compile and link lines both carry CFLAGS, so
# -fsanitize=... reaches the linker too.
ALL_CFLAGS  = $(XLB_CFLAGS) $(CFLAGS)
ALL_LDLIBS  = $(LDFLAGS) $(XLB_LDLIBS) $(LDLIBS)
BPF_CFLAGS := -O2 -g --target=bpf -mcpu=v3 -Wall -Werror -Iinclude -Ibpf -I/usr/include/$(MULTIARCH)

# The product's XDP program and its skeleton (which libxlb, the tests and the bench include).
XLB_BPF   := $(BUILD)/bpf/xlb.bpf.o
XLB_SKEL  := $(BUILD)/xlb.skel.h
# The backend's decapsulating program (docs/backend.md) and its skeleton, for xlb-backend.
DECAP_BPF  := $(BUILD)/bpf/xlb_decap.bpf.o
DECAP_SKEL := $(BUILD)/xlb_decap.skel.h

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
BACKEND_OBJS := $(patsubst %.c,$(BUILD)/%.o,$(wildcard user/xlb-backend/*.c))
BINS         := $(BUILD)/xlbd $(BUILD)/xlbctl $(BUILD)/xlb-backend
OBJS         := $(LIB_OBJS) $(TLIB_OBJS) $(XLBD_OBJS) $(XLBCTL_OBJS) $(BACKEND_OBJS) \
		$(BUILD)/user/xlbd/main.o $(BUILD)/user/xlbctl/main.o

UNIT_TESTS := $(patsubst %.c,$(BUILD)/%,$(wildcard tests/unit/test_*.c))
BPF_TESTS  := $(patsubst %.c,$(BUILD)/%,$(wildcard tests/bpf/test_*.c))
TESTS      := $(UNIT_TESTS) $(BPF_TESTS)

# The bench (bench/, docs/benchmarks.md): its own BPF programs and tools, built by `make bench`
# only, so that nothing in it can break `make` or `make test`.
BENCH_BPF_SRCS := $(wildcard bench/bpf/*.bpf.c)
BENCH_BPF      := $(patsubst bench/bpf/%.bpf.c,$(BUILD)/bpf/%.bpf.o,$(BENCH_BPF_SRCS))
BENCH_SKELS    := $(patsubst bench/bpf/%.bpf.c,$(BUILD)/%.skel.h,$(BENCH_BPF_SRCS))
BENCH_BINS     := $(BUILD)/xlb-bench $(BUILD)/ctl-bench $(BUILD)/veth-pps

SHELL_FILES := .ci/run $(wildcard scripts/*.sh bench/*.sh tests/*.sh tests/integration/*.sh) \
	       dist/completion/xlbctl $(wildcard debian/xlb.p*)

.PHONY: all deps test check format bench demo clean sanitize fuzz man install uninstall deb \
	installed-files FORCE
.DELETE_ON_ERROR:
# BPF objects are kept beside their skeletons (make would delete them as intermediate files).
.SECONDARY: $(XLB_BPF) $(DECAP_BPF) $(BENCH_BPF)

all: $(XLB_BPF) $(XLB_SKEL) $(DECAP_BPF) $(DECAP_SKEL) $(LIB) $(BINS)

# Installs whatever Debian packages are missing (no-op when all are there) and mounts bpffs.
# test, demo, bench and check run it first: every rule that runs a tool waits for it then
# (order-only), so that a parallel build on a fresh machine starts once the tools are there.
# `make` alone never runs it.
deps:
	@./scripts/deps.sh
FIRST := $(if $(filter test demo bench check sanitize fuzz,$(MAKECMDGOALS)),deps)

$(BUILD)/bpf/%.bpf.o: bpf/%.bpf.c | $(FIRST)
	@mkdir -p $(dir $@)
	$(CLANG) $(BPF_CFLAGS) $(DEPFLAGS) -c $< -o $@
$(BUILD)/bpf/%.bpf.o: bench/bpf/%.bpf.c | $(FIRST)
	@mkdir -p $(dir $@)
	$(CLANG) $(BPF_CFLAGS) $(DEPFLAGS) -c $< -o $@

$(BUILD)/%.skel.h: $(BUILD)/bpf/%.bpf.o | $(FIRST)
	$(BPFTOOL) gen skeleton $< > $@.tmp && mv $@.tmp $@

# The skeleton is order-only: a first build makes it before any object, and from then on the
# .d files name it for the objects that include it.
$(BUILD)/%.o: %.c | $(XLB_SKEL) $(FIRST)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(DEPFLAGS) -c $< -o $@

$(LIB): $(LIB_OBJS)
	$(AR) rcs $@ $^

$(XLBD_LIB): $(XLBD_OBJS)
	$(AR) rcs $@ $^
$(XLBCTL_LIB): $(XLBCTL_OBJS)
	$(AR) rcs $@ $^

# xlbd alone tells systemd when it is ready (sd_notify; a no-op outside a Type=notify unit).
$(BUILD)/xlbd: $(BUILD)/user/xlbd/main.o $(XLBD_LIB) $(LIB)
	$(CC) $(ALL_CFLAGS) $^ $(ALL_LDLIBS) -lsystemd -o $@
$(BUILD)/xlbctl: $(BUILD)/user/xlbctl/main.o $(XLBCTL_LIB) $(LIB)
	$(CC) $(ALL_CFLAGS) $^ $(ALL_LDLIBS) -o $@
$(BACKEND_OBJS): | $(DECAP_SKEL)
$(BUILD)/xlb-backend: $(BACKEND_OBJS) $(LIB)
	$(CC) $(ALL_CFLAGS) $^ $(ALL_LDLIBS) -o $@

# Test and bench programs are compiled and linked in one step; their .d is $@.d.
$(BUILD)/tests/%: tests/%.c $(LIB) $(XLBD_LIB) $(XLBCTL_LIB) $(TLIB_OBJS) | $(XLB_SKEL) $(FIRST)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(DEPFLAGS) -MF $@.d -MT $@ -Iuser/xlbd -Iuser/xlbctl $< $(TLIB_OBJS) \
		$(XLBD_LIB) $(XLBCTL_LIB) $(LIB) $(TEST_LDFLAGS) $(ALL_LDLIBS) -o $@
$(BUILD)/tests/bpf/test_decap: | $(DECAP_SKEL)
# xlb-backend's state file, from its objects (which are in no archive; libxlb again after them).
BACKEND_STATE_OBJS := $(BUILD)/user/xlb-backend/state.o $(BUILD)/user/xlb-backend/util.o
$(BUILD)/tests/unit/test_backend_state: $(BACKEND_STATE_OBJS)
$(BUILD)/tests/unit/test_backend_state: TEST_LDFLAGS := $(BACKEND_STATE_OBJS) $(LIB)
# The fuzzer sees each request xlbd handles (to name it if xlbd dies on it).
$(BUILD)/tests/bpf/test_fuzz: TEST_LDFLAGS := -Wl,--wrap=xlbd_handle
# The commit's revert path: maps that refuse, a state file that cannot be put back.
$(BUILD)/tests/unit/test_commit: TEST_LDFLAGS := -Wl,--wrap=xlbd_apply -Wl,--wrap=xlbd_config_save

BENCH_LINK = $(CC) $(ALL_CFLAGS) $(DEPFLAGS) -MF $@.d -MT $@ $< $(TLIB_OBJS) $(LIB) $(ALL_LDLIBS) \
	     -o $@
$(BUILD)/xlb-bench: bench/xlb_bench.c $(LIB) $(TLIB_OBJS) | $(XLB_SKEL) $(BENCH_SKELS) $(FIRST)
	$(BENCH_LINK)
$(BUILD)/ctl-bench: bench/ctl_bench.c $(LIB) $(TLIB_OBJS) | $(XLB_SKEL) $(BENCH_SKELS) $(FIRST)
	$(BENCH_LINK)
$(BUILD)/veth-pps: bench/veth_pps.c $(LIB) $(TLIB_OBJS) | $(XLB_SKEL) $(BENCH_SKELS) $(FIRST)
	$(BENCH_LINK)

# One line per test, then "N passed, N failed[, N skipped]". The integration tests run xlbd
# and xlbctl.
test: deps $(TESTS) $(BINS)
	@./tests/run.sh $(BUILD)

# Everything, about 1.5 minutes, as root: one table, build/bench/results.json and dataplane.png.
bench: deps $(BENCH_BINS) $(BINS)
	@./bench/run.sh $(BUILD)

# A namespace topology with a client, the LB and three backends; traffic, failover, stats.
demo: deps $(BINS)
	@./scripts/demo.sh $(BUILD)

# ASan and UBSan, every UBSan finding fatal; the same BPF objects (clang builds them as usual).
SAN_BUILD  := build-asan
SAN_CFLAGS := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined \
	      -fno-sanitize-recover=all
SAN_ENV    := ASAN_OPTIONS=abort_on_error=1:detect_leaks=1 \
	      UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1:abort_on_error=1
SAN_MAKE    = $(MAKE) --no-print-directory BUILD=$(SAN_BUILD) CFLAGS='$(SAN_CFLAGS)'
FUZZ_N     ?= 200000
FUZZ_SEED  ?=
PKTFUZZ_N  ?= 5000000

# Builds xlbd, xlbctl and the tests under build-asan/, then runs the unit tests and, as root,
# the short fuzz run there (tests/README.md: the fuzzer), seed 1 unless FUZZ_SEED is given: a
# gate that gives the same answer twice; `make fuzz` explores (a new seed each run).
sanitize: deps
	+@$(SAN_MAKE) all $(patsubst $(BUILD)/%,$(SAN_BUILD)/%,$(TESTS))
	@failed=0; for t in $(SAN_BUILD)/tests/unit/test_*; do \
		[ -x "$$t" ] && { $(SAN_ENV) "$$t" || failed=$$((failed + 1)); }; \
	done; [ $$failed = 0 ] || { echo "$$failed unit test binaries failed under ASan"; exit 1; }
	@if [ "$$(id -u)" = 0 ]; then \
		$(SAN_ENV) FUZZ_SEED=$(or $(FUZZ_SEED),1) $(SAN_BUILD)/tests/bpf/test_fuzz; fi

# The long runs: FUZZ_N requests (state files in proportion), the entry-read race, PKTFUZZ_N
# packets; seed FUZZ_SEED or the clock's.
fuzz: deps
	+@$(SAN_MAKE) $(SAN_BUILD)/tests/bpf/test_fuzz
	$(SAN_ENV) FUZZ_N=$(FUZZ_N) FUZZ_SEED=$(FUZZ_SEED) $(SAN_BUILD)/tests/bpf/test_fuzz
	+@$(MAKE) --no-print-directory $(BUILD)/tests/bpf/test_flows
	XLB_SOAK=1 XT_ONLY=test_backend_entry_read_once $(BUILD)/tests/bpf/test_flows
	+@$(SAN_MAKE) $(SAN_BUILD)/tests/bpf/test_pktfuzz
	$(SAN_ENV) FUZZ_SEED=$(FUZZ_SEED) PKTFUZZ_N=$(PKTFUZZ_N) XT_ONLY=test_fresh_seed \
		$(SAN_BUILD)/tests/bpf/test_pktfuzz

# ---- installation (README.md, Install) -------------------------------------------------------
# Everything lands under PREFIX, in the places systemd, bash-completion and man search there;
# SYSCONFDIR is only read (the unit's optional environment files), never written by install.
PREFIX         ?= /usr/local
DESTDIR        ?=
SBINDIR        ?= $(PREFIX)/sbin
MANDIR         ?= $(PREFIX)/share/man
DATADIR        ?= $(PREFIX)/share/xlb
SYSTEMDUNITDIR ?= $(PREFIX)/lib/systemd/system
SYSUSERSDIR    ?= $(PREFIX)/lib/sysusers.d
BASHCOMPDIR    ?= $(PREFIX)/share/bash-completion/completions
SYSCONFDIR     ?= /etc
INSTALL        ?= install

MAN_SRCS := $(wildcard man/*.scd)
MANS     := $(patsubst man/%.scd,$(BUILD)/man/%,$(MAN_SRCS))
UNIT     := $(BUILD)/dist/xlbd@.service
EXAMPLES := $(wildcard examples/bird/*)

man: $(MANS)
$(BUILD)/man/%: man/%.scd
	@mkdir -p $(dir $@)
	scdoc < $< > $@.tmp && mv $@.tmp $@

# The unit names the installed xlbd and the configuration directory: made again each time, as
# PREFIX or SBINDIR may differ from the last run.
$(UNIT): dist/systemd/xlbd@.service.in FORCE
	@mkdir -p $(dir $@)
	sed -e 's|@SBINDIR@|$(SBINDIR)|g' -e 's|@SYSCONFDIR@|$(SYSCONFDIR)|g' $< > $@.tmp && \
		mv $@.tmp $@

# installed-files: one line per file `make install` writes (uninstall and the tests read it).
INSTALLED = $(addprefix $(SBINDIR)/,xlbd xlbctl xlb-backend) \
	    $(patsubst man/%.scd,$(MANDIR)/man8/%,$(MAN_SRCS)) \
	    $(SYSTEMDUNITDIR)/xlbd@.service $(SYSUSERSDIR)/xlb.conf $(BASHCOMPDIR)/xlbctl \
	    $(DATADIR)/dashboards/xlb.json $(DATADIR)/examples/xlbd.default \
	    $(patsubst examples/%,$(DATADIR)/examples/%,$(EXAMPLES))

FORCE:
installed-files:
	@printf '%s\n' $(INSTALLED)

# No `test` here: installing what was built is not running the tests.
install: all man $(UNIT)
	$(INSTALL) -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(SYSTEMDUNITDIR) \
		$(DESTDIR)$(SYSUSERSDIR) $(DESTDIR)$(BASHCOMPDIR) $(DESTDIR)$(DATADIR)/dashboards \
		$(DESTDIR)$(DATADIR)/examples/bird
	$(INSTALL) -m 0755 $(BINS) $(DESTDIR)$(SBINDIR)/
	$(INSTALL) -m 0644 $(MANS) $(DESTDIR)$(MANDIR)/man8/
	$(INSTALL) -m 0644 $(UNIT) $(DESTDIR)$(SYSTEMDUNITDIR)/
	$(INSTALL) -m 0644 dist/sysusers/xlb.conf $(DESTDIR)$(SYSUSERSDIR)/xlb.conf
	$(INSTALL) -m 0644 dist/completion/xlbctl $(DESTDIR)$(BASHCOMPDIR)/xlbctl
	$(INSTALL) -m 0644 dashboards/xlb.json $(DESTDIR)$(DATADIR)/dashboards/
	$(INSTALL) -m 0644 dist/default/xlbd $(DESTDIR)$(DATADIR)/examples/xlbd.default
	$(INSTALL) -m 0644 $(EXAMPLES) $(DESTDIR)$(DATADIR)/examples/bird/

# Removes the files install wrote and the directories under DATADIR it made; the shared
# directories (sbin, man8, ...) stay.
uninstall:
	rm -f $(addprefix $(DESTDIR),$(INSTALLED))
	-rmdir $(DESTDIR)$(DATADIR)/examples/bird $(DESTDIR)$(DATADIR)/examples \
		$(DESTDIR)$(DATADIR)/dashboards $(DESTDIR)$(DATADIR) 2>/dev/null

# dpkg-buildpackage writes its results beside the source tree: it runs on a copy under
# build/deb/ (the tracked and new files, not build/), so the .deb lands in build/deb/.
# DEB_VERSION=V builds version V (the upgrade test builds two).
DEB_DIR     := $(BUILD)/deb
DEB_VERSION ?=
deb:
	rm -rf $(DEB_DIR) && mkdir -p $(DEB_DIR)/xlb
	git ls-files -z -co --exclude-standard | xargs -0 cp --parents -t $(DEB_DIR)/xlb --
	$(if $(DEB_VERSION),sed -i '1s/(.*)/($(DEB_VERSION))/' $(DEB_DIR)/xlb/debian/changelog)
	# In a clean environment: make exports command-line variables (BUILD=...) to recipes, and
	# the copy's own make must use the copy's build/ (its `make clean` must not empty ours).
	cd $(DEB_DIR)/xlb && env -i PATH="$$PATH" HOME="$$HOME" dpkg-buildpackage -us -uc -b -j2
	@ls $(DEB_DIR)/*.deb

FORMAT_FILES := $(shell git ls-files '*.c' '*.h' 2>/dev/null)
# cppcheck cannot expand libbpf's LIBBPF_OPTS without its headers: unknownMacro is suppressed.
# shellcheck -x follows the files the scripts source (run from the top of the repository).
check: deps $(XLBD_OBJS) $(BUILD)/user/xlbd/main.o
	clang-format --dry-run --Werror $(FORMAT_FILES)
	cppcheck --quiet --error-exitcode=1 --enable=warning,performance,portability \
		--inline-suppr --suppress=missingIncludeSystem --suppress=unknownMacro \
		-Iinclude -Iuser/lib -Itests/lib \
		user tests $(wildcard bench/*.c)
	shellcheck -x $(SHELL_FILES)
	./scripts/layers.py $(BUILD)

format:
	clang-format -i $(FORMAT_FILES)

clean:
	rm -rf $(BUILD)

-include $(patsubst %.o,%.d,$(OBJS) $(XLB_BPF) $(DECAP_BPF) $(BENCH_BPF)) $(addsuffix .d,$(TESTS) $(BENCH_BINS))
