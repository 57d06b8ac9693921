# A thin wrapper over CMake for the two commands the README promises.
#   make demo             build, then show each mitigation hold
#   make test             build, run the whole suite, fuzz the parsers
#   make test SANITIZE=1  the same suite under ASan+UBSan
#   make bench            side-by-side benchmarks against raw libzmq
# Each target installs the Debian packages it needs (as root) or says how.

SANITIZE ?= 0
TSAN ?= 0
FUZZ_SECONDS ?= 60
JOBS ?= 2
PYTHON ?= /usr/bin/python3

BUILD_PKGS := cmake make gcc pkg-config libzmq3-dev libsodium-dev
TEST_PKGS := $(BUILD_PKGS) clang libclang-rt-14-dev libcmocka-dev python3 python3-zmq

ifeq ($(SANITIZE),1)
BUILD := build-asan
CMAKE_FLAGS += -DZG_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug
else ifeq ($(TSAN),1)
BUILD := build-tsan
CMAKE_FLAGS += -DZG_TSAN=ON -DCMAKE_BUILD_TYPE=Debug -DCMAKE_C_COMPILER=clang
else
BUILD := build
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
	$(BUILD)/orders_example

test: TESTS = ON
test: deps-test all
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)
ifneq ($(SANITIZE)$(TSAN),00)
	@echo "sanitized suite passed"
else
	$(MAKE) --no-print-directory fuzz
endif

# libFuzzer needs clang; building the library with it also proves clang -Werror.
fuzz: deps-test
	cmake -S . -B build-fuzz -DCMAKE_C_COMPILER=clang -DZG_FUZZ=ON \
	    -DZG_BUILD_TESTS=OFF -DZG_BUILD_BENCH=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo
	cmake --build build-fuzz -j $(JOBS)
	tests/fuzz/run.sh build-fuzz $(FUZZ_SECONDS)

bench: all
	$(BUILD)/bench/bench_sendrecv

install: all
	cmake --install $(BUILD)

clean:
	rm -rf build build-asan build-tsan build-fuzz build-clang .fuzz
