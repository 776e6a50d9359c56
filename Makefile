# The two commands of the README: `make demo` (the main job) and `make check` (the tests).
# Both install missing Debian packages first (scripts/deps.sh).
BUILD ?= build
ASAN_BUILD ?= build-asan
CC := clang
JOBS ?= $(shell nproc)
CMAKE_FLAGS ?=

.PHONY: all deps build build-gcc demo check check-asan unit fuzz clean format bench

all: build

deps:
	bash scripts/deps.sh build test interop

build: deps
	cmake -S . -B $(BUILD) -DCMAKE_C_COMPILER=$(CC) $(CMAKE_FLAGS) >/dev/null
	cmake --build $(BUILD) -j $(JOBS)

demo: build
	bash scripts/demo.sh $(BUILD)

# Every test label; LABEL=unit (or exchange, net, interop, fuzz) runs one group.
check: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS) $(if $(LABEL),-L $(LABEL),)

# The whole tree built with gcc too (Debian's default cc): its warnings are errors as well.
build-gcc: deps
	cmake -S . -B build-gcc -DCMAKE_C_COMPILER=gcc -DHIKE_FUZZ=OFF $(CMAKE_FLAGS) >/dev/null
	cmake --build build-gcc -j $(JOBS)

# The unit and exchange tests again under AddressSanitizer + UndefinedBehaviorSanitizer.
check-asan: deps
	cmake -S . -B $(ASAN_BUILD) -DCMAKE_C_COMPILER=$(CC) -DHIKE_SANITIZE=ON -DHIKE_FUZZ=OFF \
	    -DCMAKE_BUILD_TYPE=Debug >/dev/null
	cmake --build $(ASAN_BUILD) -j $(JOBS)
	cd $(ASAN_BUILD) && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	    UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	    ctest --output-on-failure -j $(JOBS) -L 'unit|exchange'

# IKE benchmarks against strongSwan (bench/README.md); not part of make check.
bench: deps
	bash scripts/deps.sh test interop bench
	JOBS=$(JOBS) bash bench/run.sh

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) build-gcc
