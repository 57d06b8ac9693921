# A thin wrapper over CMake for the two commands the README promises.
#   make demo             build, then show each mitigation hold
#   make test             build, run the whole suite, fuzz the parsers
#   make test SANITIZE=1  the same suite under ASan+UBSan
#   make bench            side-by-side benchmarks against raw libzmq
#   make test LIBZMQ_PREFIX=DIR  the suite against the libzmq that
#                         scripts/build-libzmq staged in DIR, its verdict
#                         written to DIR/.zguard-suite-verdict
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
# The demo needs only the first line; `zguard audit` (tree-sitter grammars
# from npm, about 460 packages with nodejs) is built when AUDIT_PKGS are
# there: `make audit` installs them, and so does `make test`.
# scdoc renders the man pages (man/; a small C program, no dependencies).
BUILD_PKGS := cmake make gcc pkg-config libzmq3-dev libsodium-dev libmicrohttpd-dev scdoc
AUDIT_PKGS := libtree-sitter-dev $(NPM_PKG)
TEST_PKGS := $(BUILD_PKGS) $(AUDIT_PKGS) clang libclang-rt-14-dev libcmocka-dev python3 python3-zmq python3-prometheus-client libczmq-dev valgrind

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

# Tests need cmocka and pyzmq; the demo and an install do not. `make test`
# turns them on; the other targets keep what the build directory has (so an
# install between two test runs does not make the next one rebuild), and a
# new build directory starts without them.
TESTS ?=
TESTS_FLAG = $(if $(TESTS),-DZG_BUILD_TESTS=$(TESTS),$(if $(wildcard $(BUILD)/CMakeCache.txt),,-DZG_BUILD_TESTS=OFF))

.PHONY: all demo test audit fuzz bench install clean deps-build deps-test
.PHONY: test-deb test-alerts

all: deps-build
	cmake -S . -B $(BUILD) $(CMAKE_FLAGS) $(TESTS_FLAG) -DZG_PYTHON=$(PYTHON)
	cmake --build $(BUILD) -j $(JOBS)

deps-build:
	@scripts/deps.sh $(BUILD_PKGS)

deps-test:
	@scripts/deps.sh $(TEST_PKGS)

demo: all
	$(BUILD)/zguard demo
	@echo "zguard is $(BUILD)/zguard ('make install' puts it on the PATH)"

# zguard audit: its packages, then the same build with the auditor in it
audit: BUILD_PKGS += $(AUDIT_PKGS)
audit: all
	$(BUILD)/zguard audit --help >/dev/null
	@echo "zguard audit is built: $(BUILD)/zguard audit PATH..."

# Against a staged libzmq (plain build), the suite's verdict is written into
# the prefix, pass or fail, for `zguard doctor --compare` (scripts/suite-verdict).
# ZG_COMPARE_PREFIX=DIR registers the doctor_compare test: this build's
# zguard compared with the libzmq staged in DIR.
ifneq ($(ZG_COMPARE_PREFIX),)
CMAKE_FLAGS += -DZG_COMPARE_PREFIX=$(abspath $(ZG_COMPARE_PREFIX))
endif

test: TESTS = ON
test: deps-test all
# (staged and not sanitized: "00"; anything else is a plain run)
ifeq ($(if $(LIBZMQ_PREFIX),$(SANITIZE)$(TSAN),plain),00)
	cd $(BUILD) && { $(TEST_ENV) ctest --output-on-failure -j $(JOBS); \
	    echo $$? >ctest.rc; } 2>&1 | tee ctest.log
	scripts/suite-verdict $(ZMQ_PREFIX_ABS) $(BUILD)/ctest.log $(BUILD)
	@exit $$(cat $(BUILD)/ctest.rc)
else
	cd $(BUILD) && $(TEST_ENV) ctest --output-on-failure -j $(JOBS)
endif
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

# zguard-bench compares with CZMQ: libczmq-dev before CMake looks for it;
# `zguard bench instr` runs under valgrind (callgrind)
bench: BUILD_PKGS += libczmq-dev valgrind
bench: all
	$(BUILD)/zguard bench
	$(BUILD)/zguard bench gate
	$(BUILD)/zguard bench hwm
	$(BUILD)/zguard bench instr
	if [ -x $(BUILD)/bench/bench_audit ]; then $(BUILD)/bench/bench_audit; fi

# ldconfig: a program linked with `pkg-config --libs zguard` finds
# libzguard.so.0 in /usr/local/lib only once the loader's cache knows it.
install: all
	cmake --install $(BUILD)
	@if [ "$$(id -u)" = 0 ] && command -v ldconfig >/dev/null; then ldconfig; \
	else echo "run ldconfig as root if programs cannot find libzguard.so.0"; fi

# Debian packages (debian/): built from HEAD with dpkg-buildpackage, checked
# by lintian, installed on this machine, used, and purged (root;
# scripts/test-deb installs the build dependencies debian/control names).
test-deb:
	scripts/test-deb

# The Prometheus rules (contrib/prometheus/): promtool comes with Debian's
# prometheus package, which only this target installs.
test-alerts:
	@scripts/deps.sh prometheus
	promtool check rules contrib/prometheus/zguard-alerts.yml
	promtool test rules contrib/prometheus/zguard-alerts.test.yml

clean:
	rm -rf build build-asan build-tsan build-fuzz build-clang .fuzz build*-libzmq-*
