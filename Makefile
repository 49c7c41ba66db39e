# neardup build: core library + CLI, one shared object per plugin folder, one cmocka
# binary per tests/test_*.c. Sources are found by glob, so adding a module or a test
# needs no edit here. `make help` lists the targets.

CC       ?= cc
PREFIX   ?= /usr/local
BUILD    ?= build
OPT      ?= -O2
SANITIZE ?=

WARN   := -Wall -Wextra -Wpedantic -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
          -Wformat=2 -Wvla
CSTD   := -std=c11 -D_DEFAULT_SOURCE -D_XOPEN_SOURCE=700
ifneq ($(SANITIZE),)
SANFLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
endif
CFLAGS  ?= $(OPT) -g
ALL_CFLAGS = $(CSTD) $(WARN) $(CFLAGS) $(SANFLAGS) -pthread -Iinclude -Icore -MMD -MP \
             -DND_VERSION=\"$(VERSION)\" -DND_PLUGIN_INSTALL_DIR=\"$(PREFIX)/lib/neardup\"
LDLIBS  := -lutf8proc -ldeflate -luring -lz -lxxhash -ldl -lm
VERSION := 0.1.0

# Debian packages the build needs; `make deps` installs the missing ones.
DEB_PKGS := gcc make libxxhash-dev libcmocka-dev zlib1g-dev libutf8proc-dev libdeflate-dev liburing-dev

CORE_SRC  := $(filter-out core/main.c,$(wildcard core/*.c))
CORE_OBJ  := $(CORE_SRC:%.c=$(BUILD)/%.o)
LIB       := $(BUILD)/libneardup.a
BIN       := $(BUILD)/neardup
PLUGINS   := $(patsubst plugins/%/,$(BUILD)/plugins/%.so,$(sort $(dir $(wildcard plugins/*/*.c))))
TEST_SRC  := $(wildcard tests/test_*.c)
TESTS     := $(TEST_SRC:tests/%.c=$(BUILD)/tests/%)
# The same tests again on the byte loops that big-endian machines run in place of the
# eight-bytes-at-a-time code (ND_NO_SWAR), so that those loops are tested here too.
PORTABLE_TESTS := $(BUILD)/tests/test_norm_portable $(BUILD)/tests/test_html_portable
TESTS     += $(PORTABLE_TESTS)
TEST_PLUGINS := $(patsubst tests/plugins/%.c,$(BUILD)/tests/plugins/%.so,$(wildcard tests/plugins/*.c))
TOOLS_SRC := $(wildcard corpora/*.c)
TOOLS     := $(TOOLS_SRC:corpora/%.c=$(BUILD)/%)

.PHONY: all deps demo check test test-san install uninstall clean help bench fuzz fuzz-replay
.DEFAULT_GOAL := all

all: $(BIN) $(PLUGINS) $(TOOLS) ## build the CLI, the plugins and the corpus tools

help: ## list the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/' | expand -t 14

deps: ## install missing Debian packages (as root), or print the command
	@missing=""; for p in $(DEB_PKGS); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'ok installed' || missing="$$missing $$p"; \
	done; \
	if [ -z "$$missing" ]; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ]; then \
	  echo "installing:$$missing"; \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing) >/dev/null || \
	    { echo "apt-get install$$missing failed" >&2; exit 1; }; \
	else \
	  echo "missing packages:$$missing" >&2; \
	  echo "run: sudo apt-get install -y$$missing" >&2; exit 1; \
	fi

demo: deps ## set up, build, and report on the bundled sample crawl
	@$(MAKE) --no-print-directory all
	$(BIN) report corpora/sample

check: deps ## set up, build, run every test, then again under ASan+UBSan
	@$(MAKE) --no-print-directory test
	@$(MAKE) --no-print-directory test-san

test: all $(TESTS) $(TEST_PLUGINS) ## run the test suite on this build
	@fail=0; for t in $(TESTS); do \
	  echo "== $$t"; ND_BUILD_DIR=$(BUILD) $$t || fail=1; \
	done; \
	if [ -f fuzz/Makefile.inc ]; then $(MAKE) --no-print-directory fuzz-replay BUILD=$(BUILD) || fail=1; fi; \
	if [ $$fail = 0 ]; then echo "all test binaries passed ($(BUILD))"; else echo "TEST FAILURES ($(BUILD))"; fi; \
	exit $$fail

test-san: ## the whole suite under AddressSanitizer + UndefinedBehaviorSanitizer
	@ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
	  $(MAKE) --no-print-directory test BUILD=$(BUILD)/san SANITIZE=1 OPT=-O1

install: all ## install the CLI and plugins under PREFIX (default /usr/local)
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib/neardup $(DESTDIR)$(PREFIX)/include/neardup
	install -m 755 $(BIN) $(DESTDIR)$(PREFIX)/bin/neardup
	install -m 644 $(PLUGINS) $(DESTDIR)$(PREFIX)/lib/neardup/
	install -m 644 include/neardup/plugin.h $(DESTDIR)$(PREFIX)/include/neardup/

uninstall: ## remove what install put under PREFIX
	rm -f $(DESTDIR)$(PREFIX)/bin/neardup $(DESTDIR)$(PREFIX)/include/neardup/plugin.h
	rm -rf $(DESTDIR)$(PREFIX)/lib/neardup

clean: ## remove build/
	rm -rf $(BUILD)

# ---- rules ----
.SECONDEXPANSION:

$(BUILD)/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -c $< -o $@

$(LIB): $(CORE_OBJ)
	@mkdir -p $(@D)
	rm -f $@
	ar rcs $@ $^

$(BIN): $(BUILD)/core/main.o $(LIB)
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(LDLIBS)

# A plugin may not reach core symbols: -z defs makes any undefined reference fail the
# link, and hidden visibility exports nothing but the entry symbol.
PLUGIN_CFLAGS = $(ALL_CFLAGS) -fPIC -fvisibility=hidden
$(BUILD)/plugins/%.so: $$(wildcard plugins/%/*.c) include/neardup/plugin.h
	@mkdir -p $(@D)
	$(CC) $(PLUGIN_CFLAGS) -shared -Wl,-z,defs -o $@ $(filter %.c,$^) -lxxhash -lm

$(BUILD)/tests/plugins/%.so: tests/plugins/%.c include/neardup/plugin.h
	@mkdir -p $(@D)
	$(CC) $(PLUGIN_CFLAGS) -shared -o $@ $<

$(BUILD)/tests/%: tests/%.c $(LIB) $(wildcard tests/*.h)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -Itests -DND_SOURCE_DIR=\"$(CURDIR)\" -o $@ $< $(LIB) -lcmocka $(LDLIBS)

$(BUILD)/tests/test_norm_portable: tests/test_norm.c core/norm.c $(LIB)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -MF $@.d -DND_NO_SWAR -Itests -DND_SOURCE_DIR=\"$(CURDIR)\" -o $@ $(filter %.c,$^) $(LIB) -lcmocka $(LDLIBS)

$(BUILD)/tests/test_html_portable: tests/test_html.c core/html.c core/extract.c $(LIB)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -MF $@.d -DND_NO_SWAR -Itests -DND_SOURCE_DIR=\"$(CURDIR)\" -o $@ $(filter %.c,$^) $(LIB) -lcmocka $(LDLIBS)

$(BUILD)/%: corpora/%.c $(LIB)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -o $@ $< $(LIB) $(LDLIBS)


-include fuzz/Makefile.inc
-include bench/Makefile.inc
-include corpora/Makefile.inc
-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
