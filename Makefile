# ssereplay: one plain Makefile, no configure step.
#
#   make            build backend/ssereplay
#   make deps       install what is missing from Debian's packages
#   make test       deps, build, unit tests, integration tests (real lighttpd,
#                   Apache, the npm ws client), browser tests (chromium)
#   make asan       the whole suite built with ASan + UBSan
#   make fuzz       libFuzzer harnesses for every parser [FUZZ_SECONDS=10]
#   make demo       run the demo on http://127.0.0.1:$(PORT)/
#   make bench      the performance comparison (not part of make test)
#   make clean

CC	?= cc
PORT	?= 8080

# The warning list is explicit and `make check-flags` proves it is in effect.
WARNINGS = -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
	   -Wpointer-arith -Wformat=2 -Wvla
ifneq ($(CI),)
WERROR	 = -Werror
endif
CFLAGS	?= -O2 -g
ALL_CFLAGS = -std=c11 -D_GNU_SOURCE $(WARNINGS) $(WERROR) $(CFLAGS) $(SANITIZE)
LDLIBS	 = -lfcgi -lsqlite3 -ljansson -lpthread -lwslay -lcrypto -lseccomp -lnats

# Objects go to backend/.obj (or .obj-asan): the top level stays as agreed.
OBJDIR	?= backend/.obj
BIN	 = $(OBJDIR)/ssereplay

MODULES	 = log config valid eventid query sse body evlog hub fcgi http \
	   committer metrics cli cgi serve sseparse httpclient
MODULES += wshandshake wsconn
MODULES += wsmsg asyncpub wsserve auth quota sandbox
MODULES += logdrv jsmap jslog
LIBOBJS	 = $(MODULES:%=$(OBJDIR)/%.o)
HEADERS	 = $(wildcard backend/*.h)

UNIT_SRCS  = $(wildcard tests/unit/test_*.c)
UNIT_BINS  = $(UNIT_SRCS:tests/unit/%.c=$(OBJDIR)/tests/%)

.PHONY: all deps test unit integration asan demo bench clean check-flags

all: backend/ssereplay backend/ssereplay-check

# Copied by rename, so that a running copy (a demo, a test) is not in the way.
backend/ssereplay: $(BIN)
	@if [ "$(OBJDIR)" = "backend/.obj" ]; then cp $(BIN) $@.new && mv -f $@.new $@; fi

backend/ssereplay-check: $(OBJDIR)/ssereplay-check
	@if [ "$(OBJDIR)" = "backend/.obj" ]; then cp $< $@.new && mv -f $@.new $@; fi

$(OBJDIR)/ssereplay-check: $(OBJDIR)/check_main.o $(OBJDIR)/check.o \
		$(OBJDIR)/libssereplay.a
	$(CC) $(ALL_CFLAGS) -o $@ $^ -lm

$(OBJDIR)/%.o: backend/%.c $(HEADERS) | $(OBJDIR)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(OBJDIR)/libssereplay.a: $(LIBOBJS)
	rm -f $@ && ar rcs $@ $^

$(BIN): $(OBJDIR)/main.o $(OBJDIR)/libssereplay.a
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(LDLIBS)

$(OBJDIR)/tests/%: tests/unit/%.c $(OBJDIR)/libssereplay.a $(HEADERS) | $(OBJDIR)
	@mkdir -p $(OBJDIR)/tests
	$(CC) $(ALL_CFLAGS) -Ibackend -o $@ $< $(OBJDIR)/libssereplay.a \
		$(LDLIBS) -lcmocka

$(OBJDIR):
	mkdir -p $@

deps:
	@sh tests/deps.sh

# Every suite appends "passed failed" to $(RESULTS); the last line sums them.
RESULTS	= $(OBJDIR)/results

SAN_VARS = OBJDIR=backend/.obj-asan CC=clang \
	   SANITIZE="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all"

# The suite runs twice: on the normal build, then on the ASan + UBSan build.
test: deps
	@$(MAKE) --no-print-directory check-flags all
	@rm -f $(RESULTS)
	@$(MAKE) --no-print-directory -k unit integration RESULTS=$(abspath $(RESULTS)) || true
	@echo "== the same suite under AddressSanitizer + UndefinedBehaviorSanitizer"
	@$(MAKE) --no-print-directory -k $(SAN_VARS) unit integration RESULTS=$(abspath $(RESULTS)) || true
	@echo "== every parser that sees outside input, fuzzed for 3 s each (make fuzz runs longer)"
	@$(MAKE) --no-print-directory fuzz-test RESULTS=$(abspath $(RESULTS)) || true
	@sh tests/summary.sh $(RESULTS)

unit: $(UNIT_BINS)
	@sh tests/unit/run.sh $(RESULTS) $(UNIT_BINS)

integration: $(BIN) $(OBJDIR)/ssereplay-check
	@SSEREPLAY_BIN=$(abspath $(BIN)) python3 tests/integration/run.py \
		--results $(RESULTS)
	@node tests/browser/run.mjs --bin $(abspath $(BIN)) --results $(RESULTS)

asan: deps
	@rm -f backend/.obj-asan/results
	@$(MAKE) --no-print-directory -k $(SAN_VARS) unit integration \
		RESULTS=$(abspath backend/.obj-asan/results) || true
	@sh tests/summary.sh backend/.obj-asan/results

check-flags:
	@out=$$($(CC) $(ALL_CFLAGS) -Q --help=warnings 2>/dev/null) || \
		{ echo "check-flags: $(CC) cannot list its warnings; skipped"; exit 0; }; \
	for w in -Wunused-variable -Wextra -Wshadow -Wstrict-prototypes \
		 -Wmissing-prototypes -Wpointer-arith -Wformat-security -Wvla; do \
		echo "$$out" | grep -Eq -- "^[[:space:]]+$$w[[:space:]]+\[enabled\]" || \
			{ echo "check-flags: $$w is not in effect"; exit 1; }; \
	done; echo "check-flags: the warning list is in effect"

demo: deps all
	@sh tests/demo.sh $(PORT)

bench: deps all
	@$(MAKE) --no-print-directory -C tests/bench QUICK=$(QUICK)

clean:
	rm -rf backend/.obj backend/.obj-asan backend/ssereplay backend/ssereplay-check

# ---- fuzzing (issue 8, "Parsers fuzzed") -----------------------------------
# make fuzz [FUZZ_SECONDS=N]  build a libFuzzer harness per parser that sees
#                             outside input (tests/fuzz/fuzz_*.c) and run
#                             each N seconds (default 10) on a copy of its
#                             seeds; non-zero exit on any crash, the input
#                             kept in backend/.obj-fuzz/crashes/
# make fuzz-test              the same, 3 s each, "P F" appended to $(RESULTS)
# The backend is built with clang, ASan, UBSan and libFuzzer's coverage
# (fuzzer-no-link) into backend/.obj-fuzz; each harness links it with
# -fsanitize=fuzzer, which brings libFuzzer's main().
FUZZ_SECONDS ?= 10
FUZZ_DIR     = backend/.obj-fuzz
FUZZ_SAN     = -fsanitize=fuzzer-no-link,address,undefined \
	       -fno-sanitize-recover=all -fno-omit-frame-pointer
FUZZ_NAMES   = $(patsubst tests/fuzz/fuzz_%.c,%,$(wildcard tests/fuzz/fuzz_*.c))
FUZZ_BINS    = $(FUZZ_NAMES:%=$(FUZZ_DIR)/fuzz_%)
FUZZ_JOBS   ?= $(shell nproc 2>/dev/null || echo 2)

.PHONY: fuzz fuzz-test fuzz-build fuzz-bins fuzz-clean

fuzz: deps
	@$(MAKE) --no-print-directory fuzz-build
	@sh tests/fuzz/run.sh -t $(FUZZ_SECONDS) -d $(FUZZ_DIR) -j $(FUZZ_JOBS) \
		$(FUZZ_BINS)

# Called by make test: never fails make itself, tests/summary.sh decides.
fuzz-test:
	@if $(MAKE) --no-print-directory fuzz-build; then \
		sh tests/fuzz/run.sh -t 3 -d $(FUZZ_DIR) -j $(FUZZ_JOBS) \
			-r $(RESULTS) $(FUZZ_BINS); \
	else \
		echo "fuzz: the harnesses do not build"; \
		echo "0 $(words $(FUZZ_NAMES))" >>$(RESULTS); \
	fi

# The library through the rules above, with the fuzzing build's variables.
fuzz-build:
	@$(MAKE) --no-print-directory -j$(FUZZ_JOBS) OBJDIR=$(FUZZ_DIR) CC=clang \
		SANITIZE="$(FUZZ_SAN)" fuzz-bins

fuzz-bins: $(FUZZ_BINS)
	@:

$(FUZZ_DIR)/fuzz_%: tests/fuzz/fuzz_%.c $(wildcard tests/fuzz/*.h) \
		$(FUZZ_DIR)/libssereplay.a $(HEADERS)
	clang -std=c11 -D_GNU_SOURCE $(WARNINGS) $(WERROR) $(CFLAGS) $(FUZZ_SAN) \
		-fsanitize=fuzzer -Ibackend -o $@ $< $(FUZZ_DIR)/libssereplay.a \
		$(LDLIBS)

clean: fuzz-clean
fuzz-clean:
	rm -rf $(FUZZ_DIR)
