# berth: build, demo and test. Every target that needs packages installs them
# first, so a fresh machine needs only `make demo` or `make test` as root.

export PATH := /usr/local/go/bin:$(PATH)
GO        ?= go
VERSION   := 0.1.0-dev
COMMIT    := $(shell git rev-parse --short HEAD 2>/dev/null || echo unknown)
# Static, against musl: cgo links libseccomp.a, built for musl from
# Debian's source by hack/build-libseccomp-musl.sh; netgo/osusergo keep
# libc's name services out. Not glibc: its static start runs 52 cpuid
# instructions before the Go runtime's first thread (9 with musl), each a
# trap to the hypervisor on a VM, and its code is larger. Linked with musl,
# `berth --version` takes 0.35-0.4 ms less CPU and 0.9 MB less RSS here,
# the binary is 0.8 MB smaller (docs/performance.md).
TAGS      := netgo osusergo urfave_cli_no_docs
LDFLAGS   := -s -w -X main.version=$(VERSION) -X main.gitCommit=$(COMMIT) \
             -linkmode external -extldflags '-static'
DEPS_STAMP := .cache/deps-installed
MUSL      := $(CURDIR)/.cache/musl
# musl-gcc sees no kernel headers of its own; the cgo packages and
# libseccomp's get them from MUSL/kernel-headers.
MUSL_ENV  := CGO_ENABLED=1 CC=musl-gcc CGO_CFLAGS='-O2 -g -isystem $(MUSL)/kernel-headers' \
             PKG_CONFIG_LIBDIR=$(MUSL)/lib/pkgconfig

.PHONY: all berth berth-syms deps demo test unit fuzz fuzz-short integration runcdiff engines vm-test conformance lint bench bench-quick clean

all: berth

# The linker writes its output through a shared mapping, which leaves the
# file in the page cache as large folios (1 MB each here), and Linux maps a
# whole folio on a page fault: every berth process would map nearly all of
# the binary. Written with write(2), as an installer writes it (and as it
# comes back when read from disk), it is cached in small folios and a
# process maps little more than it touches: 0.3 to 0.6 MB less RSS each.
berth: $(DEPS_STAMP) .cache/musl/lib/libseccomp.a
	@mkdir -p .cache
	$(MUSL_ENV) $(GO) build -trimpath -tags '$(TAGS)' -ldflags "$(LDFLAGS)" -o .cache/berth.linked .
	cp .cache/berth.linked .cache/berth.copy && mv -f .cache/berth.copy berth

# berth as `make berth` builds it, with its symbols, for profiling
# (docs/performance.md).
berth-syms: $(DEPS_STAMP) .cache/musl/lib/libseccomp.a
	$(MUSL_ENV) $(GO) build -trimpath -tags '$(TAGS)' -ldflags "$(filter-out -s -w,$(LDFLAGS))" -o .cache/berth-syms .

$(DEPS_STAMP): hack/install-deps.sh
	hack/install-deps.sh
	@mkdir -p $(dir $@) && touch $@

.cache/musl/lib/libseccomp.a: hack/build-libseccomp-musl.sh | $(DEPS_STAMP)
	hack/build-libseccomp-musl.sh $(MUSL)

deps: $(DEPS_STAMP)

demo: berth
	hack/demo.sh

test: berth lint unit fuzz-short integration runcdiff engines vm-test conformance

lint: $(DEPS_STAMP)
	@out=$$(gofmt -l main.go *.go libcontainer spec integration hack 2>/dev/null); \
	 if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

unit: $(DEPS_STAMP)
	$(GO) test -count=1 $$($(GO) list ./... | grep -v /integration)

# Each fuzz target (go test -fuzz) for 20000 runs in `make test` (a second
# or two each), for FUZZTIME each in `make fuzz` (15 targets: 75 minutes
# at 5m); a failing input lands in the package's testdata/fuzz, to be
# checked in with its fix (hack/fuzz.sh).
FUZZTIME ?= 5m
fuzz-short: $(DEPS_STAMP)
	hack/fuzz.sh 20000x
fuzz: $(DEPS_STAMP)
	hack/fuzz.sh $(FUZZTIME)

integration: berth
	BERTH_BINARY=$(CURDIR)/berth $(GO) test -count=1 -timeout 20m $$($(GO) list ./integration/... | grep -v -e /engines -e /runcdiff)

# Each scenario against berth and against Debian's runc, compared
# (docs/runcdiff.md); about a minute.
runcdiff: berth
	hack/install-deps.sh runc
	BERTH_BINARY=$(CURDIR)/berth $(GO) test -count=1 -parallel 4 -timeout 10m ./integration/runcdiff/

# berth under podman, containerd and docker (docs/integration.md), about a
# minute. `make engines ENGINES_RUNTIME=/usr/sbin/runc` runs the same checks
# against runc, to tell a berth bug from a problem of the machine.
engines: berth .cache/bin/crictl
	hack/install-deps.sh engines
	BERTH_BINARY=$(CURDIR)/berth BERTH_ENGINES_RUNTIME=$(ENGINES_RUNTIME) CRICTL=$(CURDIR)/.cache/bin/crictl \
		$(GO) test -count=1 -timeout 15m ./integration/engines/

# The CRI client the kubelet's side of the engine tests uses; Debian has
# none. About a minute to build on a new machine.
.cache/bin/crictl:
	GOBIN=$(CURDIR)/.cache/bin $(GO) install sigs.k8s.io/cri-tools/cmd/crictl@v1.34.0

# The integration tests that need pure cgroup v2, in a VM (docs/vm.md).
vm-test: $(DEPS_STAMP)
	hack/vm-test.sh
	hack/vm-test.sh -lsm selinux

# The OCI validation suite (docs/conformance.md).
conformance: berth
	hack/conformance.sh

# berth against runc and crun (docs/performance.md); timings stay out of test.
bench: BENCH_FLAGS :=
bench-quick: BENCH_FLAGS := -reps 5 -rounds 1 -n 10,50
bench bench-quick: berth
	hack/install-deps.sh bench
	$(GO) build -o .cache/bench/ ./hack/bench ./hack/bench/spawner
	.cache/bench/bench $(BENCH_FLAGS) -json .cache/bench/$@.json

clean:
	rm -rf berth .cache
