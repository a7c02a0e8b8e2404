# SPDX-License-Identifier: MIT
# The protect data path (src/bpf/*.bpf.c), included by the Makefile. Built
# only when clang, bpftool and libbpf are all present; otherwise
# TG_HAVE_BPF stays empty, src/ctl/xdp.c compiles its stubs and
# `tcpguard protect` says it was built without BPF support.
BPF_CLANG ?= clang
BPFTOOL   ?= $(shell command -v bpftool 2>/dev/null || ls /usr/sbin/bpftool 2>/dev/null)
TG_HAVE_BPF ?= $(shell command -v $(BPF_CLANG) >/dev/null 2>&1 && \
	test -n "$(BPFTOOL)" && pkg-config --exists libbpf 2>/dev/null && echo 1)
# Debian keeps asm/ under the multiarch triplet (clang -dumpmachine names
# another one, so ask for the multiarch name).
BPF_ARCH_INC = /usr/include/$(shell $(BPF_CLANG) -print-multiarch 2>/dev/null || gcc -print-multiarch)

ifeq ($(TG_HAVE_BPF),1)
LDLIBS_BPF = $(shell pkg-config --libs libbpf)
BPF_CFLAGS = -DTG_HAVE_BPF=1 -I$(BUILD)/bpf

$(BUILD)/bpf/%.bpf.o: src/bpf/%.bpf.c src/bpf/protect.h
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  BPF     $<")
	$(Q)$(BPF_CLANG) -O2 -g -target bpf -Wall -Werror -I$(BPF_ARCH_INC) -c -o $@ $<

$(BUILD)/bpf/%.skel.h: $(BUILD)/bpf/%.bpf.o
	@$(if $(Q),echo "  SKEL    $@")
	$(Q)$(BPFTOOL) gen skeleton $< name tg_$* > $@.tmp && mv $@.tmp $@

$(BUILD)/src/ctl/xdp.o: $(BUILD)/bpf/protect.skel.h
$(BUILD)/src/ctl/xdp.o: EXTRA_CFLAGS += $(BPF_CFLAGS)
endif
.SECONDARY: $(BUILD)/bpf/protect.bpf.o
