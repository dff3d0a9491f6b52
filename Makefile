# libsipsess — top-level build.
#   make            library (.so + .a + pkg-config file) and tools
#   make test       installs missing Debian packages, builds, runs every suite
#   make demo       the main job (see README)
#   make bench      figures, never pass/fail
#   make fuzz       bounded libFuzzer runs
#   make install    PREFIX=/usr/local DESTDIR=

VERSION_MAJOR := 0
VERSION_MINOR := 1
VERSION_PATCH := 0
VERSION := $(VERSION_MAJOR).$(VERSION_MINOR).$(VERSION_PATCH)

SHARED ?= ../shared
PREFIX ?= /usr/local
DESTDIR ?=
LIBDIR ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
PYTHON ?= /usr/bin/python3

CC ?= cc
B ?= build
WARN := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wpointer-arith -Wvla
OPT ?= -O2 -g
CFLAGS_LIB := -std=c11 -D_GNU_SOURCE -fPIC -fvisibility=hidden -DSIPSESS_BUILDING \
	-Ilibsipsess/include -Ilibsipsess/src $(WARN) $(OPT) $(EXTRA_CFLAGS)
LDFLAGS_SO := -shared -Wl,-soname,libsipsess.so.$(VERSION_MAJOR) \
	-Wl,--version-script=libsipsess/sipsess.map -Wl,--no-undefined -Wl,-z,defs

LIB_SRC := $(sort $(wildcard libsipsess/src/*/*.c))
LIB_OBJ := $(patsubst libsipsess/src/%.c,$(B)/obj/%.o,$(LIB_SRC))
PUB_HDR := $(sort $(wildcard libsipsess/include/sipsess/*.h)) libsipsess/include/sipsess/version.h
VERSION_H := libsipsess/include/sipsess/version.h

SO_REAL := $(B)/lib/libsipsess.so.$(VERSION)
SO_MAJOR := $(B)/lib/libsipsess.so.$(VERSION_MAJOR)
SO_DEV := $(B)/lib/libsipsess.so
STATIC := $(B)/lib/libsipsess.a
PC := $(B)/lib/pkgconfig/sipsess.pc

.PHONY: all lib test demo bench fuzz install clean deps
all: lib

lib: $(SO_DEV) $(STATIC) $(PC)

$(VERSION_H): libsipsess/include/sipsess/version.h.in Makefile
	sed -e 's/@MAJOR@/$(VERSION_MAJOR)/g' -e 's/@MINOR@/$(VERSION_MINOR)/g' \
	    -e 's/@PATCH@/$(VERSION_PATCH)/g' $< > $@

$(B)/obj/%.o: libsipsess/src/%.c $(PUB_HDR) $(wildcard libsipsess/src/*/*.h) | $(VERSION_H)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_LIB) -c $< -o $@

$(SO_REAL): $(LIB_OBJ) libsipsess/sipsess.map
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS_SO) -o $@ $(LIB_OBJ)

$(SO_MAJOR): $(SO_REAL)
	ln -sf $(notdir $<) $@
$(SO_DEV): $(SO_MAJOR)
	ln -sf $(notdir $<) $@

$(STATIC): $(LIB_OBJ)
	@mkdir -p $(dir $@)
	rm -f $@
	ar rcs $@ $^

$(PC): libsipsess/sipsess.pc.in Makefile
	@mkdir -p $(dir $@)
	sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@LIBDIR@|$(LIBDIR)|g' \
	    -e 's|@INCLUDEDIR@|$(INCLUDEDIR)|g' -e 's|@VERSION@|$(VERSION)|g' $< > $@

-include $(sort $(wildcard mk/*.mk))

clean:
	rm -rf $(B) $(VERSION_H)
