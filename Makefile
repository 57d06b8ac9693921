# A thin wrapper over CMake for the two commands the README promises.
#   make demo             build, then show each mitigation hold
#   make test             build, run the whole suite, fuzz the parsers
#   make test SANITIZE=1  the same suite under ASan+UBSan
#   make bench            side-by-side benchmarks against raw libzmq
#   make test LIBZMQ_PREFIX=DIR  the suite against the libzmq that
#                         scripts/build-libzmq staged in DIR
# Each target installs the Debian packages it needs (as root) or says how.

SANITIZE ?= 0
TSAN ?= 0
FUZZ_SECONDS ?= 60
JOBS ?= 2
PYTHON ?= /usr/bin/python3

# `zguard audit` compiles tree-sitter grammars that npm installs from a lock
# file. Debian's npm package only when no npm is on the PATH: NodeSource's
# nodejs carries its own npm and conflicts with Debian's.
NPM_PKG := $(if $(shell command -v npm 2>/dev/null),,npm)
BUILD_PKGS := cmake make gcc pkg-config libzmq3-dev libsodium-dev libmicrohttpd-dev libtree-sitter-dev $(NPM_PKG)
TEST_PKGS := $(BUILD_PKGS) clang libclang-rt-14-dev libcmocka-dev python3 python3-zmq python3-prometheus-client libczmq-dev

ifeq ($(SANITIZE),1)
BUILD := build-asan
CMAKE_FLAGS += -DZG_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug
else ifeq ($(TSAN),1)
BUILD := build-tsan
CMAKE_FLAGS += -DZG_TSAN=ON -DCMAKE_BUILD_TYPE=Debug -DCMAKE_C_COMPILER=clang
else
BUILD := build
endif

# A staged libzmq gets build directories of its own (build-libzmq-4.3.5):
# CMake caches which libzmq it found. The pyzmq and CZMQ peers load libzmq
# by soname, so the tests point them at the staged one too; zguard's own
# binaries find it through their RPATH.
ifneq ($(LIBZMQ_PREFIX),)
ZMQ_PREFIX_ABS := $(abspath $(LIBZMQ_PREFIX))
ZMQ_TAG := -$(notdir $(ZMQ_PREFIX_ABS))
BUILD := $(BUILD)$(ZMQ_TAG)
CMAKE_FLAGS += -DLIBZMQ_PREFIX=$(ZMQ_PREFIX_ABS)
TEST_ENV := LD_LIBRARY_PATH=$(ZMQ_PREFIX_ABS)/lib
endif

# Tests need cmocka and pyzmq; the demo and an install do not.
TESTS ?= OFF

.PHONY: all demo test fuzz bench install clean deps-build deps-test

all: deps-build
	cmake -S . -B $(BUILD) $(CMAKE_FLAGS) -DZG_BUILD_TESTS=$(TESTS) -DZG_PYTHON=$(PYTHON)
	cmake --build $(BUILD) -j $(JOBS)

deps-build:
	@scripts/deps.sh $(BUILD_PKGS)

deps-test:
	@scripts/deps.sh $(TEST_PKGS)

demo: all
	$(BUILD)/zguard demo

test: TESTS = ON
test: deps-test all
	cd $(BUILD) && $(TEST_ENV) ctest --output-on-failure -j $(JOBS)
ifneq ($(SANITIZE)$(TSAN),00)
	@echo "sanitized suite passed"
else ifneq ($(LIBZMQ_PREFIX),)
	@echo "suite passed against $(LIBZMQ_PREFIX) (the parsers are fuzzed by the plain run)"
else
	$(MAKE) --no-print-directory fuzz
endif

# libFuzzer needs clang; building the library with it also proves clang -Werror.
fuzz: deps-test
	cmake -S . -B build-fuzz$(ZMQ_TAG) -DCMAKE_C_COMPILER=clang -DZG_FUZZ=ON \
	    -DZG_BUILD_TESTS=OFF -DZG_BUILD_BENCH=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	    $(if $(ZMQ_PREFIX_ABS),-DLIBZMQ_PREFIX=$(ZMQ_PREFIX_ABS))
	cmake --build build-fuzz$(ZMQ_TAG) -j $(JOBS)
	tests/fuzz/run.sh build-fuzz$(ZMQ_TAG) $(FUZZ_SECONDS)

# zguard-bench compares with CZMQ: libczmq-dev before CMake looks for it
bench: BUILD_PKGS += libczmq-dev
bench: all
	$(BUILD)/zguard bench
	$(BUILD)/zguard bench gate
	$(BUILD)/zguard bench hwm
	if [ -x $(BUILD)/bench/bench_audit ]; then $(BUILD)/bench/bench_audit; fi

install: all
	cmake --install $(BUILD)

clean:
	rm -rf build build-asan build-tsan build-fuzz build-clang .fuzz build*-libzmq-*
