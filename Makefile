# fusebpf: everything is built into $(BUILD); nothing generated is committed.
#
#   make            build libfusebpf, daemon, ctl, BPF objects + skeletons,
#                   test programs, examples
#   make install    libfusebpf, its header and fusebpf.pc, fusebpfd,
#                   fusebpfctl under PREFIX (/usr/local) [DESTDIR]
#   make demo       the main job: mount a sample Android-like tree and walk it
#   make test       all tests: host suites in every mode, then the VM suite
#   make kernel     build (or fetch from cache) the patched 6.12 kernel
#   make vm-test    run the integration suites inside the patched kernel
#   make vm-shell   interactive shell in the patched kernel
#   make vm-demo    the demo in mode bpf inside the patched kernel
#   make vm-bench   the benchmarks inside the patched kernel built without
#                   KASAN/lockdep (kernel-bench; never built by make test)

BUILD		?= build
CC		?= cc
CLANG		?= clang
BPFTOOL		?= bpftool
comma		:= ,
ARCH		:= $(shell uname -m | sed 's/x86_64/x86/;s/aarch64/arm64/')

CFLAGS		?= -O2 -g
CFLAGS		+= -std=gnu11 -Wall -Wextra -Werror -D_GNU_SOURCE \
		   -Iinclude -I$(BUILD) $(shell pkg-config --cflags fuse3 2>/dev/null)
LDLIBS_FUSE	:= $(shell pkg-config --libs fuse3 2>/dev/null || echo -lfuse3)
LDLIBS_BPF	:= -lbpf -lelf -lz

DEPS_STAMP	:= $(BUILD)/.deps-installed
PREFIX		?= /usr/local
LIBDIR		?= $(PREFIX)/lib
INCLUDEDIR	?= $(PREFIX)/include
BINDIR		?= $(PREFIX)/bin

COMMON_SRC	:= $(wildcard userspace/common/*.c)
# libfusebpf: the API (userspace/lib) over the daemon's inside
# (userspace/daemon); fusebpfd (userspace/fusebpfd) is a command line over it
LIB_SRC		:= $(wildcard userspace/lib/*.c userspace/daemon/*.c)
FUSEBPFD_SRC	:= $(wildcard userspace/fusebpfd/*.c)
CTL_SRC		:= $(wildcard userspace/ctl/*.c)
BPF_SRC		:= $(wildcard bpf/*.bpf.c)
# BPF programs only the tests load (skeletons beside the production ones)
TEST_BPF_SRC	:= $(wildcard tests/bpf/*.bpf.c)
BPF_SKELS	:= $(patsubst %.bpf.c,$(BUILD)/%.skel.h,$(notdir $(BPF_SRC) $(TEST_BPF_SRC)))
TEST_SRC	:= $(wildcard tests/unit/*.c tests/integration/*.c tests/bench/*.c)
TEST_BINS	:= $(patsubst tests/%.c,$(BUILD)/tests/%,$(TEST_SRC))
HEADERS		:= $(wildcard include/*/*.h include/*/*/*.h userspace/*/*.h)

COMMON_OBJ	:= $(patsubst %.c,$(BUILD)/%.o,$(COMMON_SRC))
LIB_OBJ		:= $(patsubst %.c,$(BUILD)/%.o,$(LIB_SRC))
LIB_PIC_OBJ	:= $(patsubst %.c,$(BUILD)/pic/%.o,$(LIB_SRC) $(COMMON_SRC))
FUSEBPFD_OBJ	:= $(patsubst %.c,$(BUILD)/%.o,$(FUSEBPFD_SRC))
LIB_SONAME	:= libfusebpf.so.1
LIB_LIBS	:= $(LDLIBS_FUSE) $(LDLIBS_BPF) -lpthread
LIB_TARGETS	:= $(BUILD)/libfusebpf.a $(BUILD)/$(LIB_SONAME) \
		   $(BUILD)/libfusebpf.so $(BUILD)/pkgconfig/fusebpf.pc \
		   $(BUILD)/pkgconfig/fusebpf-uninstalled.pc
EXAMPLES	:= $(BUILD)/examples/media-indexer/media-indexer
CTL_OBJ		:= $(patsubst %.c,$(BUILD)/%.o,$(CTL_SRC))

.PHONY: all lib examples install deps demo test test-host test-vm kernel kernel-bench vm-test vm-shell vm-demo bench vm-bench \
	check-uapi fuzz-smoke clean
all: lib $(BUILD)/fusebpfd $(BUILD)/fusebpfctl $(TEST_BINS) examples
lib: $(LIB_TARGETS)
examples: $(EXAMPLES)

# Every build step needs the Debian packages; install what is missing once.
deps: $(DEPS_STAMP)
$(DEPS_STAMP): scripts/install-deps.sh kernel-patches/base-version
	@mkdir -p $(BUILD)
	scripts/install-deps.sh
	@touch $@

$(BUILD)/vmlinux.h: | $(DEPS_STAMP)
	@mkdir -p $(@D)
	$(BPFTOOL) btf dump file /sys/kernel/btf/vmlinux format c > $@.tmp && mv $@.tmp $@

BPF_CC		= $(CLANG) -g -O2 -Wall -Werror -target bpf -D__TARGET_ARCH_$(ARCH) \
		  -Iinclude -I$(BUILD)
$(BUILD)/%.bpf.o: bpf/%.bpf.c $(BUILD)/vmlinux.h $(HEADERS) | $(DEPS_STAMP)
	@mkdir -p $(@D)
	$(BPF_CC) -c $< -o $@
$(BUILD)/%.bpf.o: tests/bpf/%.bpf.c $(BUILD)/vmlinux.h $(HEADERS) | $(DEPS_STAMP)
	@mkdir -p $(@D)
	$(BPF_CC) -c $< -o $@

$(BUILD)/%.skel.h: $(BUILD)/%.bpf.o
	$(BPFTOOL) gen skeleton $< > $@.tmp && mv $@.tmp $@
# keep the BPF objects and skeletons (make would delete them as intermediates)
.SECONDARY: $(BPF_SKELS) $(BPF_SKELS:.skel.h=.bpf.o)

$(BUILD)/%.o: %.c $(HEADERS) $(BPF_SKELS) | $(DEPS_STAMP)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -c $< -o $@

# the shared library exports fusebpf.h's API only (FUSEBPF_API)
$(BUILD)/pic/%.o: %.c $(HEADERS) $(BPF_SKELS) | $(DEPS_STAMP)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -fPIC -fvisibility=hidden -c $< -o $@

$(BUILD)/libfusebpf.a: $(LIB_OBJ) $(COMMON_OBJ)
	rm -f $@
	$(AR) rcs $@ $^

$(BUILD)/$(LIB_SONAME): $(LIB_PIC_OBJ)
	$(CC) $(LDFLAGS) -shared -Wl,-soname,$(LIB_SONAME) -Wl,--no-undefined \
		$^ -o $@ $(LIB_LIBS)

$(BUILD)/libfusebpf.so: $(BUILD)/$(LIB_SONAME)
	ln -sf $(LIB_SONAME) $@

# fusebpf.pc for `make install`; fusebpf-uninstalled.pc (which pkg-config
# prefers) for builds against this build directory:
#   PKG_CONFIG_PATH=$(BUILD)/pkgconfig pkg-config --cflags --libs fusebpf
# $(call pc_file,libdir,includedir,extra Libs flags)
pc_file = { echo 'libdir=$(1)'; echo 'includedir=$(2)'; echo; \
	echo 'Name: fusebpf'; \
	echo 'Description: FUSE mounts stacked over a backing directory, with eBPF policy'; \
	echo 'Version: 1.0.0'; echo 'Cflags: -I$${includedir}'; \
	echo 'Libs: -L$${libdir} $(3)-lfusebpf'; \
	echo 'Libs.private: $(LIB_LIBS)'; }
$(BUILD)/pkgconfig/fusebpf.pc: Makefile
	@mkdir -p $(@D)
	$(call pc_file,$(LIBDIR),$(INCLUDEDIR),) > $@
$(BUILD)/pkgconfig/fusebpf-uninstalled.pc: Makefile
	@mkdir -p $(@D)
	$(call pc_file,$(abspath $(BUILD)),$(abspath include),-Wl$(comma)-rpath$(comma)$${libdir} ) > $@

$(BUILD)/fusebpfd: $(FUSEBPFD_OBJ) $(BUILD)/libfusebpf.a
	$(CC) $(LDFLAGS) $^ -o $@ $(LIB_LIBS)

# the examples see only what an installed libfusebpf offers
EXAMPLE_CFLAGS	:= -O2 -g -std=gnu11 -Wall -Wextra -Werror -D_GNU_SOURCE
PKG_LIB		= PKG_CONFIG_PATH=$(BUILD)/pkgconfig pkg-config
$(BUILD)/examples/media-indexer/media-indexer: $(wildcard examples/media-indexer/*.c examples/media-indexer/*.h) \
		include/fusebpf/fusebpf.h $(BUILD)/libfusebpf.so \
		$(BUILD)/pkgconfig/fusebpf-uninstalled.pc
	@mkdir -p $(@D)
	$(CC) $(EXAMPLE_CFLAGS) $$($(PKG_LIB) --cflags fusebpf) \
		$(filter %.c,$^) -o $@ $$($(PKG_LIB) --libs fusebpf) -lsqlite3

install: lib $(BUILD)/fusebpfd $(BUILD)/fusebpfctl
	install -d $(DESTDIR)$(LIBDIR)/pkgconfig $(DESTDIR)$(INCLUDEDIR)/fusebpf \
		$(DESTDIR)$(BINDIR)
	install -m 644 include/fusebpf/fusebpf.h $(DESTDIR)$(INCLUDEDIR)/fusebpf/
	install -m 644 $(BUILD)/libfusebpf.a $(DESTDIR)$(LIBDIR)/
	install -m 755 $(BUILD)/$(LIB_SONAME) $(DESTDIR)$(LIBDIR)/
	ln -sf $(LIB_SONAME) $(DESTDIR)$(LIBDIR)/libfusebpf.so
	# written here: PREFIX/LIBDIR may differ from when the build made it
	$(call pc_file,$(LIBDIR),$(INCLUDEDIR),) > $(DESTDIR)$(LIBDIR)/pkgconfig/fusebpf.pc
	install -m 755 $(BUILD)/fusebpfd $(BUILD)/fusebpfctl $(DESTDIR)$(BINDIR)/

$(BUILD)/fusebpfctl: $(CTL_OBJ) $(COMMON_OBJ)
	$(CC) $(LDFLAGS) $^ -o $@ $(LDLIBS_BPF)

$(BUILD)/tests/%: tests/%.c $(HEADERS) $(COMMON_OBJ) | $(DEPS_STAMP)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $< $(filter %.o,$^) -o $@ $(LDLIBS_BPF) -lpthread $(TEST_LIBS)
# the example embedder's test reads its SQLite index
$(BUILD)/tests/integration/media_indexer: TEST_LIBS := -lsqlite3
# unit tests of daemon modules that need no mount
$(BUILD)/tests/unit/policy_judge: $(BUILD)/userspace/daemon/policy_judge.o
$(BUILD)/tests/unit/names: $(BUILD)/userspace/daemon/names.o
$(BUILD)/tests/unit/node_registry: $(BUILD)/userspace/daemon/node_registry.o
$(BUILD)/tests/unit/options: $(BUILD)/userspace/daemon/options.o \
	$(BUILD)/userspace/daemon/names.o
$(BUILD)/tests/unit/policy_request: $(BUILD)/userspace/daemon/policy_request.o
$(BUILD)/tests/unit/reply: $(BUILD)/userspace/daemon/reply.o
# the API test links libfusebpf
$(BUILD)/tests/integration/lib_api: $(BUILD)/libfusebpf.a
$(BUILD)/tests/integration/lib_api: TEST_LIBS = $(BUILD)/libfusebpf.a $(LIB_LIBS)
# the benchmark helpers' shared header (not under include/)
$(filter $(BUILD)/tests/bench/%,$(TEST_BINS)): tests/bench/benchlib.h
# the integration tests' shared headers (testlib.h, rawfuse.h, ...)
$(filter $(BUILD)/tests/integration/%,$(TEST_BINS)): $(wildcard tests/integration/*.h)

demo: all
	scripts/demo.sh

# The README's test command: host suites in every host mode, then the VM.
test: test-host test-vm

test-host: all check-uapi fuzz-smoke
	tests/run-host.sh

test-vm: vm-test

kernel: | $(DEPS_STAMP)
	kernel-patches/build-kernel.sh

# The same series without KASAN/lockdep, for benchmarks only.
kernel-bench: | $(DEPS_STAMP)
	FUSEBPF_KERNEL_FLAVOR=bench kernel-patches/build-kernel.sh

vm-test: all kernel
	tests/vm/run-vm.sh test

vm-shell: all kernel
	tests/vm/run-vm.sh shell

# The demo's walk in mode bpf inside the VM. FUSEBPF_KERNEL_DIR set: that
# kernel, no build.
vm-demo: all $(if $(FUSEBPF_KERNEL_DIR),,kernel)
	tests/vm/run-vm.sh run scripts/demo.sh --mode bpf

# BENCH_ARGS: extra run-bench.sh options, e.g. BENCH_ARGS="--reps 3 --size 256M"
bench: all
	tests/bench/run-bench.sh $(BENCH_ARGS)

# FUSEBPF_KERNEL_DIR set: that kernel, no build.
vm-bench: all $(if $(FUSEBPF_KERNEL_DIR),,kernel-bench)
	FUSEBPF_KERNEL_FLAVOR=bench tests/bench/run-vm-bench.sh $(BENCH_ARGS)

# The UAPI header must be byte-identical to the copy the patches add.
check-uapi:
	tests/check-uapi.sh

# The policy parser/compiler under libFuzzer + ASan + UBSan for
# FUZZ_SECONDS, from the committed seeds (new inputs go to a scratch
# corpus in $(BUILD), crashes to $(BUILD)/fuzz/).
FUZZ_SECONDS	?= 20
FUZZ_CFLAGS	:= -g -O1 -std=gnu11 -D_GNU_SOURCE -Iinclude \
		   -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all
$(BUILD)/fuzz/policy_compile: tests/fuzz/policy_compile.c \
		userspace/common/policy_compile.c $(HEADERS) | $(DEPS_STAMP)
	@mkdir -p $(@D)
	$(CLANG) $(FUZZ_CFLAGS) tests/fuzz/policy_compile.c \
		userspace/common/policy_compile.c -o $@

fuzz-smoke: $(BUILD)/fuzz/policy_compile
	@mkdir -p $(BUILD)/fuzz/corpus
	$< -max_total_time=$(FUZZ_SECONDS) -max_len=16384 -timeout=10 \
		-dict=tests/fuzz/policy.dict -artifact_prefix=$(BUILD)/fuzz/ \
		-print_final_stats=1 $(BUILD)/fuzz/corpus tests/fuzz/corpus

clean:
	rm -rf $(BUILD)
