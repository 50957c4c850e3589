# The README's two commands: `make demo` and `make test`. Both install what is missing first.
BUILD_DIR ?= build
ASAN_DIR ?= build-asan
FUZZ_DIR ?= build-fuzz
FUZZ_SECONDS ?= 600
GENERATOR := $(if $(shell command -v ninja 2>/dev/null),-G Ninja,)

.PHONY: all deps build build-asan test test-unit test-asan demo bench fuzz reliability image clean

all: build

deps:
	@scripts/install-deps

build: deps
	@cmake -S . -B $(BUILD_DIR) $(GENERATOR) -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	@cmake --build $(BUILD_DIR)

build-asan: deps
	@cmake -S . -B $(ASAN_DIR) $(GENERATOR) -DCMAKE_BUILD_TYPE=Debug -DSY_SANITIZE=ON >/dev/null
	@cmake --build $(ASAN_DIR)

# Unit + end-to-end tests on the normal build, then again under AddressSanitizer + UBSan.
test: build build-asan
	@echo "== tests ($(BUILD_DIR))"
	@ctest --test-dir $(BUILD_DIR) --output-on-failure
	@echo "== tests under ASan+UBSan ($(ASAN_DIR))"
	@ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  ctest --test-dir $(ASAN_DIR) --output-on-failure

test-unit: build
	@ctest --test-dir $(BUILD_DIR) -L unit --output-on-failure

demo: build
	@BUILD_DIR=$(BUILD_DIR) scripts/demo

bench: build
	@tests/bench/proxy_overhead.sh --build-dir $(BUILD_DIR)

# The full reliability runs (tests/reliability/README.md): faults under load, hostile clients,
# leak sweep, then the 10-minute soak, one after another; each appends its figures to
# tests/reliability/results.jsonl. `make test` runs their quick versions.
reliability: build
	@BUILD_DIR=$(BUILD_DIR) tests/reliability/run-full

# Coverage-guided fuzzing (clang-16, libFuzzer + ASan + UBSan in $(FUZZ_DIR)): every target of
# tests/fuzz for FUZZ_SECONDS seconds each, one after another; new inputs go to a scratch
# directory. `make test` replays the committed corpora without clang. tests/fuzz/README.md.
fuzz: deps
	@BUILD_DIR=$(FUZZ_DIR) FUZZ_SECONDS=$(FUZZ_SECONDS) scripts/fuzz

# The container image (Dockerfile) with podman, from a debootstrap base (no registry needed), then
# tests/image/smoke.sh runs the gateway inside it against the mocks. Root only; not part of `test`.
image:
	@BUILD_DIR=$(BUILD_DIR) scripts/build-image

clean:
	rm -rf $(BUILD_DIR) $(ASAN_DIR) $(FUZZ_DIR) .demo
