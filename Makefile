# secretsync - a plain GNU Makefile (see README.md for the targets).

VERSION := 0.1.0
GIT_COMMIT := $(shell git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)

CC ?= gcc
BUILD ?= build
SANITIZE ?=
PYTHON ?= python3
DEBIAN_PYTHON ?= /usr/bin/python3

WARNINGS := -std=c11 -Wall -Wextra -Wpedantic -Wshadow -Wpointer-arith \
	-Wstrict-prototypes -Wmissing-prototypes -Wwrite-strings -Wformat=2 \
	-Wvla -fno-common -Werror
CPPFLAGS += -D_GNU_SOURCE -Isrc -DSS_VERSION='"$(VERSION)"' -DSS_GIT_COMMIT='"$(GIT_COMMIT)"'
CFLAGS ?= -O2 -g
CFLAGS += $(WARNINGS)
LIBS := -lcurl -lcjson -lyaml -lbearssl -lpthread -lm
ifneq ($(SANITIZE),)
CFLAGS += -fsanitize=$(SANITIZE) -fno-omit-frame-pointer -fno-sanitize-recover=all
LDFLAGS += -fsanitize=$(SANITIZE)
endif

SRCS := $(shell find src -name '*.c' ! -path src/main.c | sort)
OBJS := $(SRCS:%.c=$(BUILD)/%.o)
HDRS := $(shell find src -name '*.h')
LIB := $(BUILD)/libsecretsync.a
BIN := $(BUILD)/secretsync

UNIT_SRCS := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/tests/%)
TOOL_SRCS := $(sort $(wildcard tests/tools/*.c))
TOOL_BINS := $(TOOL_SRCS:tests/tools/%.c=$(BUILD)/tools/%)

.PHONY: all static test unit unit-run asan valgrind integration integration-asan \
	integration-valgrind config-test \
	differential fuzz fuzz-smoke bench demo deps emulators format lint clean \
	image-size check-deps tools

all: $(BIN) tools

$(BUILD)/%.o: %.c $(HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

$(LIB): $(OBJS)
	@rm -f $@
	ar rcs $@ $^

$(BIN): $(BUILD)/src/main.o $(LIB)
	$(CC) $(LDFLAGS) -o $@ $^ $(LIBS)

$(BUILD)/tests/%: tests/unit/%.c $(LIB) $(HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) -Itests/unit $(CFLAGS) -Wno-missing-prototypes $(LDFLAGS) -o $@ $< $(LIB) -lcmocka $(LIBS)

$(BUILD)/tools/%: tests/tools/%.c $(LIB) $(HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -Wno-missing-prototypes $(LDFLAGS) -o $@ $< $(LIB) $(LIBS)

tools: $(TOOL_BINS)

# The fully static musl binary (BearSSL-backed libcurl from Debian sources).
static:
	scripts/build-static.sh

# Everything a fresh clone needs: deps, unit tests (plain, ASan+UBSan,
# valgrind), config goldens, the deep-merge differential test, the fuzz
# smoke run and the integration tests against the emulators.
test: check-deps
	@scripts/run-tests.sh

unit: $(UNIT_BINS)
	@scripts/run-unit.sh $(BUILD)

asan:
	$(MAKE) BUILD=build-asan SANITIZE=address,undefined CFLAGS="-O1 -g" all unit

valgrind: $(UNIT_BINS)
	@scripts/run-unit.sh $(BUILD) valgrind

config-test: $(BIN)
	@tests/config/run.sh $(BIN)

differential: $(BIN) tools
	@$(DEBIAN_PYTHON) tests/differential/merge_diff.py $(BUILD)/tools/mergetool

integration: $(BIN) tools
	@$(PYTHON) tests/integration/run.py

# The integration tests again with the ASan+UBSan binary and tools: a
# sanitizer report exits 99, which no test expects.
integration-asan:
	$(MAKE) BUILD=build-asan SANITIZE=address,undefined CFLAGS="-O1 -g" all tools >/dev/null
	@SECRETSYNC_BIN=$(CURDIR)/build-asan/secretsync \
	 VAULT_TOOL=$(CURDIR)/build-asan/tools/vault_tool \
	 SECRETSYNC_UNDER_SANITIZER=1 ASAN_OPTIONS=exitcode=99:detect_leaks=1 \
	 UBSAN_OPTIONS=halt_on_error=1:exitcode=99:print_stacktrace=1 \
	 $(PYTHON) tests/integration/run.py $(INTEGRATION_ASAN_ARGS)

# End-to-end tests with the binary under valgrind (slow: a chosen set).
integration-valgrind: $(BIN) tools
	@SECRETSYNC_BIN=$(CURDIR)/tests/tools/valgrind-secretsync \
	 $(PYTHON) tests/integration/run.py $(or $(VALGRIND_TESTS),tests/integration/test_cli.py tests/integration/test_get.py tests/integration/test_shard.py)

emulators:
	$(PYTHON) tests/emulators/world.py --fixture tests/emulators/fixtures/demo.json --env-file build/emulators.env

FUZZERS := $(patsubst tests/fuzz/fuzz_%.c,build-fuzz/fuzz_%,$(wildcard tests/fuzz/fuzz_*.c))
FUZZ_CFLAGS := -g -O1 -fsanitize=address,undefined
FUZZ_OBJS := $(SRCS:%.c=build-fuzz/%.o)

# The library once with sanitizer coverage, then one link per harness.
build-fuzz/%.o: %.c $(HDRS)
	@mkdir -p $(dir $@)
	clang $(CPPFLAGS) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c -o $@ $<

build-fuzz/libfuzzsecretsync.a: $(FUZZ_OBJS)
	@rm -f $@
	ar rcs $@ $^

build-fuzz/fuzz_%: tests/fuzz/fuzz_%.c build-fuzz/libfuzzsecretsync.a $(HDRS)
	@mkdir -p build-fuzz
	clang $(CPPFLAGS) $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $< build-fuzz/libfuzzsecretsync.a $(LIBS)

fuzz: $(FUZZERS)
	@scripts/run-fuzz.sh $(or $(FUZZ_SECONDS),60) $(FUZZERS)

fuzz-smoke: $(FUZZERS)
	@scripts/run-fuzz.sh $(or $(FUZZ_SECONDS),5) $(FUZZERS)

bench: $(BIN)
	@scripts/run-bench.sh

demo: check-deps $(BIN)
	@scripts/demo.sh

deps:
	scripts/deps.sh

check-deps:
	@scripts/deps.sh --quiet

image-size: static
	@scripts/image-size.sh

format:
	clang-format -i $(SRCS) src/main.c $(HDRS) $(UNIT_SRCS) $(TOOL_SRCS) $(wildcard tests/fuzz/*.c)

lint:
	@scripts/lint.sh

clean:
	rm -rf build build-asan build-fuzz
