# keyless — build, test and run. See README.md.
#
#   make            build bin/keyless
#   make test       everything CI runs: unit (plain, sanitized, valgrind), stand-in tests, e2e
#   make run        the main job on a local control plane (until Ctrl-C)
#   make unit       cmocka unit tests          make unit-asan   same under ASan+UBSan
#   make valgrind   unit tests under valgrind  make e2e         end-to-end tests (starts/stops the cluster)
#   make tools      build the pinned upstream tools into the cache (hack/tools.sh)
#   make fuzz       every libFuzzer harness (controller/fuzz/) for FUZZ_SECONDS (60) each, ASan+UBSan
#   make fuzz-smoke the same for FUZZ_SMOKE_SECONDS (2) each, from the seeds (part of make test)
#   make tsan       the controller e2e tests with a ThreadSanitizer build of keyless (not in make test)
#   make chart-check the Helm chart: CRDs equal crds/, helm lint, rendering and Argo CD health tests
#   make chart-crds copy crds/ into the chart (the only way the chart's CRDs change)

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DELETE_ON_ERROR:
.SECONDARY:
MAKEFLAGS += --no-builtin-rules

CC ?= gcc
PKGS := libcurl openssl jansson yaml-0.1 libwebsockets libxml-2.0 yajl
VERSION := $(shell cat VERSION 2>/dev/null || echo 0.0.0)$(shell git rev-parse --short HEAD 2>/dev/null | sed 's/^/+g/')

WARN := -Wall -Wextra -Werror -Wvla -Wstrict-prototypes -Wshadow -Wformat=2 \
        -Wmissing-prototypes -Wpointer-arith -Wundef -Wno-unused-parameter
BASE_CFLAGS := -std=gnu11 $(WARN) -D_FORTIFY_SOURCE=2 -fstack-protector-strong -g \
        -D_GNU_SOURCE -Icontroller -include controller/base/prelude.h \
        -DKEYLESS_VERSION='"$(VERSION)"' -MMD -MP
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS))
PKG_LIBS = $(shell pkg-config --libs $(PKGS)) -lpthread -lm

OPT_CFLAGS := -O2
ASAN_CFLAGS := -O1 -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all
ASAN_LDFLAGS := -fsanitize=address,undefined

# Library sources: every controller/<module>/*.c except tests, drivers, fuzz harnesses and main.c.
LIB_SRCS := $(sort $(filter-out controller/test/% controller/itest/% controller/bench/% controller/fuzz/%,$(wildcard controller/*/*.c)))
# Integration-test drivers (controller/itest/<name>.c -> bin/itest/<name>), run by
# the e2e tests against the real servers; always built with ASan+UBSan.
ITEST_SRCS := $(sort $(wildcard controller/itest/*.c))
ITESTS := $(patsubst controller/itest/%.c,bin/itest/%,$(ITEST_SRCS))
TEST_SRCS := $(sort $(wildcard controller/test/test_*.c))
# Shared test code (support.c, fakes.c, ...): every other controller/test/*.c
TEST_SUPPORT_SRCS := $(sort $(filter-out controller/test/test_%,$(wildcard controller/test/*.c)))
TEST_NAMES := $(patsubst controller/test/%.c,%,$(TEST_SRCS))

B := build
# Quiet by default; `make V=1` shows the full commands.
ifeq ($(V),1)
Q :=
else
Q := @
endif
# $(call objs,variant,sources)
objs = $(patsubst controller/%.c,$(B)/$(1)/%.o,$(2))

.PHONY: itest all unit unit-asan valgrind test test-unit test-standins e2e tools run deps clean help bench \
	chart-check chart-crds
all: bin/keyless

help:
	@sed -n '2,14p' Makefile

deps:
	@hack/deps

# --- objects -----------------------------------------------------------------
$(B)/rel/%.o: controller/%.c | deps
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CC [rel] $<")
	$(Q)$(CC) $(BASE_CFLAGS) $(OPT_CFLAGS) $(PKG_CFLAGS) -c $< -o $@

$(B)/asan/%.o: controller/%.c | deps
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CC [asan] $<")
	$(Q)$(CC) $(BASE_CFLAGS) $(ASAN_CFLAGS) $(PKG_CFLAGS) -c $< -o $@

# The objects that embed VERSION (it holds the commit) are rebuilt when it
# changes: $(B)/version.txt is rewritten only then (`make image-test` compares
# `bin/keyless version` with the image's).
VERSION_SRCS := controller/cli/version.c controller/cli/controller.c controller/aws/http.c controller/kube/client.c
$(shell mkdir -p $(B) && { [ "$$(cat $(B)/version.txt 2>/dev/null)" = '$(VERSION)' ] || echo '$(VERSION)' > $(B)/version.txt; })
$(foreach v,rel asan fuzz tsan,$(call objs,$(v),$(VERSION_SRCS))): $(B)/version.txt

$(B)/rel/libkeyless.a: $(call objs,rel,$(LIB_SRCS))
	@rm -f $@
	$(Q)ar rcs $@ $^

$(B)/asan/libkeyless.a: $(call objs,asan,$(LIB_SRCS))
	@rm -f $@
	$(Q)ar rcs $@ $^

# --- binaries ----------------------------------------------------------------
bin/keyless: $(B)/rel/main.o $(B)/rel/libkeyless.a
	@mkdir -p $(@D)
	$(Q)$(CC) $^ $(PKG_LIBS) -o $@

bin/keyless-asan: $(B)/asan/main.o $(B)/asan/libkeyless.a
	@mkdir -p $(@D)
	$(Q)$(CC) $(ASAN_LDFLAGS) $^ $(PKG_LIBS) -o $@

$(B)/rel/test/%: $(B)/rel/test/%.o $(call objs,rel,$(TEST_SUPPORT_SRCS)) $(B)/rel/libkeyless.a
	$(Q)$(CC) $^ $(PKG_LIBS) -lcmocka $(TEST_LDFLAGS) -o $@

$(B)/asan/test/%: $(B)/asan/test/%.o $(call objs,asan,$(TEST_SUPPORT_SRCS)) $(B)/asan/libkeyless.a
	$(Q)$(CC) $(ASAN_LDFLAGS) $^ $(PKG_LIBS) -lcmocka $(TEST_LDFLAGS) -o $@

# Tests that make a library call fail on demand (out of memory) wrap it.
$(B)/rel/test/test_kube_queue $(B)/asan/test/test_kube_queue: TEST_LDFLAGS := -Wl,--wrap=strmap_put

bin/itest/%: $(B)/asan/itest/%.o $(B)/asan/libkeyless.a
	@mkdir -p $(@D)
	$(Q)$(CC) $(ASAN_LDFLAGS) $^ $(PKG_LIBS) -o $@

itest: $(ITESTS)

REL_TESTS := $(addprefix $(B)/rel/test/,$(TEST_NAMES))
ASAN_TESTS := $(addprefix $(B)/asan/test/,$(TEST_NAMES))

# --- tests -------------------------------------------------------------------
# Each suite prints cmocka's own summary; hack/run-unit adds one closing line.
unit: $(REL_TESTS) bin/keyless
	@hack/run-unit plain $(REL_TESTS)

unit-asan: $(ASAN_TESTS) bin/keyless-asan
	@ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		hack/run-unit asan $(ASAN_TESTS)

valgrind: $(REL_TESTS)
	@hack/run-unit valgrind $(REL_TESTS)

tools: deps
	@hack/tools.sh

test-standins: tools
	@hack/run-pytest standins hack/standins hack/cluster

e2e: bin/keyless bin/keyless-asan itest tools
	@hack/e2e

test: deps
	@$(MAKE) --no-print-directory all unit unit-asan valgrind bench-build check-image
	@$(MAKE) --no-print-directory fuzz-smoke
	@$(MAKE) --no-print-directory test-standins
	@$(MAKE) --no-print-directory chart-check
	@$(MAKE) --no-print-directory e2e

# --- Helm chart ---
# crds/ is the source of truth; the chart carries a copy (Helm installs crds/ of a chart).
chart-crds:
	@rm -f charts/keyless/crds/*.yaml
	@cp crds/*.yaml charts/keyless/crds/

chart-check: deps tools
	@hack/chart-check

run: bin/keyless tools
	@hack/run

# --- container image ---
# `make check-image` (in make test): the Dockerfile's runtime packages are
# exactly what bin/keyless links (hack/check-image). `make image`: build it
# with buildah (vfs storage, chroot isolation; installed by `hack/deps image`).
IMAGE ?= keyless:$(shell cat VERSION 2>/dev/null || echo dev)
.PHONY: check-image image image-test
check-image: bin/keyless
	@hack/check-image bin/keyless

image: check-image
	@hack/deps image
	@KEYLESS_VERSION='$(VERSION)' hack/image $(IMAGE)

# `make image-test`: build the image and run checks in it (hack/image-test);
# not part of `make test` (minutes cold; needs the Debian mirror).
image-test: check-image
	@hack/deps image
	@KEYLESS_VERSION='$(VERSION)' hack/image-test $(IMAGE)

clean:
	rm -rf $(B) bin

-include $(shell find $(B) -name '*.d' 2>/dev/null)

# --- benchmarks ---
# `make bench`: all benchmarks; `make bench-kube`: the Kubernetes cache (issue #3).
# controller/bench/objects.c: the benchmarks' shared Kubernetes objects, not a benchmark.
BENCH_SRCS := $(sort $(filter-out controller/bench/objects.c,$(wildcard controller/bench/*.c)))
bin/bench/%: $(B)/rel/bench/%.o $(B)/rel/bench/objects.o $(B)/rel/libkeyless.a
	@mkdir -p $(@D)
	$(Q)$(CC) $^ $(PKG_LIBS) -o $@

.PHONY: bench bench-kube bench-build bench-scale
bench-build: $(patsubst controller/bench/%.c,bin/bench/%,$(BENCH_SRCS))

bench-kube: bin/bench/bench_kube
	@bin/bench/bench_kube $(BENCH_PODS) $(BENCH_EVENTS)

bench: bench-kube

# `make bench-scale`: the scale benchmark on a local cluster of its own (hack/bench-scale, e2e/bench_scale.py;
# BENCH_IDENTITIES, BENCH_PODS, ...: see hack/bench-scale). Not part of `make test`.
bench-scale: bin/keyless bin/bench/bench_kube tools
	@hack/bench-scale

# --- aws ---
# `make test-sigv4 [SIGV4_CASES=dir]`: the SigV4 signer against a folder of
# test-vector cases in the aws-c-auth layout (default: the copied AWS suite).
SIGV4_CASES ?= controller/test/testdata/aws-sigv4
.PHONY: test-sigv4
test-sigv4: $(B)/rel/test/test_aws_sigv4
	@SIGV4_CASES='$(SIGV4_CASES)' hack/run-unit sigv4 $<

# --- fuzzing ---
# libFuzzer harnesses (controller/fuzz/fuzz_<name>.c -> bin/fuzz/fuzz_<name>),
# built with clang: the library with -fsanitize=fuzzer-no-link,address,undefined
# into build/fuzz/, the harnesses linked with -fsanitize=fuzzer,... .
# `make fuzz` runs each for FUZZ_SECONDS on its seeds (controller/fuzz/corpus/<name>/,
# read only) and the corpus it grows (build/fuzz/corpus/<name>/); a crash is
# written to build/fuzz/artifacts/ and fails the run. `make fuzz-smoke` (in
# `make test`) does the same for FUZZ_SMOKE_SECONDS each, from the seeds
# alone. FUZZ=fuzz_name runs one.
FUZZ_CC ?= clang
FUZZ_SECONDS ?= 60
FUZZ_SMOKE_SECONDS ?= 2
FUZZ_SRCS := $(sort $(wildcard controller/fuzz/fuzz_*.c))
FUZZ_NAMES := $(patsubst controller/fuzz/%.c,%,$(FUZZ_SRCS))
FUZZ_BINS := $(addprefix bin/fuzz/,$(FUZZ_NAMES))
FUZZ_SAN := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
FUZZ_CFLAGS := -std=gnu11 $(WARN) -g -O1 -D_GNU_SOURCE -Icontroller -include controller/base/prelude.h \
        -DKEYLESS_VERSION='"$(VERSION)"' -MMD -MP $(FUZZ_SAN) -Wno-format-nonliteral

$(B)/fuzz/%.o: controller/%.c | deps
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CC [fuzz] $<")
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link $(PKG_CFLAGS) -c $< -o $@

$(B)/fuzz/libkeyless.a: $(call objs,fuzz,$(LIB_SRCS))
	@rm -f $@
	$(Q)ar rcs $@ $^

bin/fuzz/%: $(B)/fuzz/fuzz/%.o $(B)/fuzz/libkeyless.a
	@mkdir -p $(@D)
	$(Q)$(FUZZ_CC) $(FUZZ_SAN) -fsanitize=fuzzer $^ $(PKG_LIBS) -o $@

.PHONY: fuzz fuzz-smoke fuzz-build
fuzz-build: $(FUZZ_BINS)

fuzz: fuzz-build
	@FUZZ_SECONDS=$(FUZZ_SECONDS) hack/run-fuzz $(if $(FUZZ),bin/fuzz/$(FUZZ),$(FUZZ_BINS))

fuzz-smoke: fuzz-build
	@FUZZ_SECONDS=$(FUZZ_SMOKE_SECONDS) FUZZ_FRESH=1 hack/run-fuzz $(FUZZ_BINS)

# --- ThreadSanitizer ---
# `make tsan`: bin/keyless-tsan (-fsanitize=thread) runs the controller e2e
# tests (hack/tsan; TSAN_TESTS to choose) on a local cluster of its own; any
# data race report fails the run. Not part of `make test` (slower; see README).
TSAN_CFLAGS := -O1 -fno-omit-frame-pointer -fsanitize=thread
$(B)/tsan/%.o: controller/%.c | deps
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CC [tsan] $<")
	$(Q)$(CC) $(BASE_CFLAGS) $(TSAN_CFLAGS) $(PKG_CFLAGS) -c $< -o $@

$(B)/tsan/libkeyless.a: $(call objs,tsan,$(LIB_SRCS))
	@rm -f $@
	$(Q)ar rcs $@ $^

bin/keyless-tsan: $(B)/tsan/main.o $(B)/tsan/libkeyless.a
	@mkdir -p $(@D)
	$(Q)$(CC) -fsanitize=thread $^ $(PKG_LIBS) -o $@

.PHONY: tsan
tsan: bin/keyless bin/keyless-asan bin/keyless-tsan itest tools
	@hack/tsan $(TSAN_TESTS)
