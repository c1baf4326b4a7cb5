# Thin front door: meson + ninja build the code, scripts build the image.
BUILD     ?= build
BUILD_SAN ?= build-san
BUILD_FUZZ ?= build-fuzz
FUZZ_SECONDS ?= 300
OUT       ?= out
DISK      ?= $(OUT)/keel-disk.img
DISK_GIB  ?= 16
# the key pair that signs update bundles (keel-bundle keygen): the images
# trust its public.pem, `make bundle` signs with its private.pem. Unset: the
# build tree's development pair, made once; a release build names its own
# (docs/operations.md "Updates")
KEEL_BUNDLE_KEYS ?= $(BUILD)/keys
export KEEL_BUNDLE_KEYS

.PHONY: all deps build unit fuzz image image-test bundle disk run guest check system platform-check bench bench-smoke bench-conn clean

all: build

deps:
	@scripts/deps.sh

$(BUILD)/build.ninja:
	meson setup $(BUILD) -Dunit_tests=disabled

build: $(BUILD)/build.ninja
	ninja -C $(BUILD)

# unit tests, built separately with AddressSanitizer and UBSan
unit: deps
	@[ -f $(BUILD_SAN)/build.ninja ] || meson setup $(BUILD_SAN) -Db_sanitize=address,undefined -Db_lundef=false
	ninja -C $(BUILD_SAN)
	meson test -C $(BUILD_SAN) --print-errorlogs

# libFuzzer targets (clang, ASan, UBSan), each run for FUZZ_SECONDS with
# its corpus kept in $(BUILD_FUZZ)/corpus-NAME, seeded from fuzz/corpus/NAME
# when there is one (read only)
fuzz: deps
	@[ -f $(BUILD_FUZZ)/build.ninja ] || CC=clang meson setup $(BUILD_FUZZ) -Dfuzz=true \
		-Dunit_tests=disabled -Db_sanitize=address,undefined -Db_lundef=false
	ninja -C $(BUILD_FUZZ)
	@for f in virtq blk pci logs firmware sparse appliance isoimage bundle backup; do \
		mkdir -p $(BUILD_FUZZ)/corpus-$$f; \
		seeds=$$([ -d fuzz/corpus/$$f ] && echo fuzz/corpus/$$f); \
		echo "fuzz_$$f: $(FUZZ_SECONDS) s"; \
		$(BUILD_FUZZ)/fuzz/fuzz_$$f -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 \
			$(BUILD_FUZZ)/corpus-$$f $$seeds 2>&1 | grep -E '^(stat::number_of_executed_units|==[0-9]+==|SUMMARY)' \
			|| exit 1; done

image: deps build
	image/mkimage.sh $(BUILD) $(OUT) product

image-test: deps build
	image/mkimage.sh $(BUILD) $(OUT) test

# the product image as a signed update bundle (acceptance certified):
# $(OUT)/keel-update-VERSION.bundle, for POST /host/update (keel host update apply)
bundle: image
	@v=$$(sed -n 's/^keel-version: //p' $(OUT)/manifest.txt); \
	b=$$(sed -n 's/^keel-commit: //p' $(OUT)/manifest.txt); \
	$(BUILD)/src/bundletool/keel-bundle make --key $(KEEL_BUNDLE_KEYS)/private.pem \
		--version "$$v" --build "$$b" --acceptance certified -o $(OUT)/keel-update-$$v.bundle \
		$(OUT)/vmlinuz $(OUT)/initramfs.img $(OUT)/manifest.txt

# creates the disk once; `make disk FORCE=1` makes a new, empty one
disk: image
	@if [ ! -f $(DISK) ] || [ -n "$(FORCE)" ]; then \
		image/mkdisk.sh $(DISK) $(DISK_GIB) $(OUT)/vmlinuz $(OUT)/initramfs.img $(OUT)/manifest.txt; \
	else echo "disk: $(DISK) kept (make disk FORCE=1 for a new one)"; fi

# boots from the disk, as a server does (UEFI, GRUB, the active boot bank),
# into the image just built: it replaces the active bank's first
run: deps disk
	image/mkdisk.sh --refresh $(DISK) $(OUT)/vmlinuz $(OUT)/initramfs.img $(OUT)/manifest.txt
	/usr/bin/python3 tools/appliance.py --disk $(DISK)

# the README's demo guest: the same Debian kernel and a busybox initramfs
guest: deps
	/usr/bin/python3 tests/system/guest.py $(OUT)/guest

system: image image-test
	scripts/check.sh system

check: deps
	@scripts/check.sh all

# how often the nested test platform lets guests boot (docs/testing.md):
# N boots of the busybox and the systemd guest in one appliance, with
# CPUS vCPUs and THREAD (single|multi) TCG; empty: appliance.py's choice
N ?= 20
CPUS ?=
THREAD ?=
platform-check: deps build image-test
	/usr/bin/python3 tests/system/platform_check.py -n $(N) $(if $(CPUS),--cpus $(CPUS)) \
		$(if $(THREAD),--thread $(THREAD))

# keel-vmm and QEMU side by side in one boot of the bench appliance
# (bench/run.py: RUNS rounds of boot and memory, HEAVY_RUNS of them also
# disk, network and density); results in bench/results/
RUNS ?= 5
HEAVY_RUNS ?= $(RUNS)
bench: deps build image
	image/mkimage.sh $(BUILD) $(OUT) bench
	/usr/bin/python3 bench/run.py --runs $(RUNS) --heavy-runs $(HEAVY_RUNS)

# make check's quick run of the bench: one keel-vmm boot
bench-smoke: deps build image
	image/mkimage.sh $(BUILD) $(OUT) bench
	/usr/bin/python3 bench/run.py --smoke

# keel-hostd's idle connections and a fresh client's latency meanwhile, with
# the native host of the system tests (bench/conn.py; root): a row for each
# number of IDLE connections, CONN_SECONDS of requests each; results in
# bench/results/conn-*
IDLE ?= 0,1000,3000,3900
CONN_SECONDS ?= 30
bench-conn: deps build
	/usr/bin/python3 bench/conn.py --idle $(IDLE) --seconds $(CONN_SECONDS)

clean:
	rm -rf $(BUILD) $(BUILD_SAN) $(BUILD_FUZZ) $(OUT)
