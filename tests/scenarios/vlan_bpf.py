#!/usr/bin/python3
"""Load a tiny tc (SCHED_CLS, direct-action) eBPF program and pin it to bpffs.

The test machine's kernel has no 8021q module (no `ip link add ... type vlan`)
and no act_vlan, but it has cls_bpf and the bpf_skb_vlan_push/pop helpers, so
VLAN tags are pushed on egress and popped on ingress of the veth by these
hand-assembled programs. The capture tap sees the tagged frames in both
directions (egress tap runs after tc egress, ingress tap before tc ingress).
Standard library only (bpf(2) via ctypes).

  vlan_bpf.py PINPATH push TPID:VID [TPID:VID ...]   # innermost tag first
  vlan_bpf.py PINPATH pop N                          # pop up to N tags

then:  tc filter add dev DEV egress bpf object-pinned PINPATH direct-action
"""
import ctypes
import os
import socket
import struct
import sys

NR_BPF = {"x86_64": 321, "aarch64": 280}[os.uname().machine]
BPF_PROG_LOAD, BPF_OBJ_PIN = 5, 6
BPF_PROG_TYPE_SCHED_CLS = 3
FN_SKB_VLAN_PUSH, FN_SKB_VLAN_POP = 18, 19

libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long


def insn(code, dst=0, src=0, off=0, imm=0):
    return struct.pack("<BBhi", code, (src << 4) | dst, off, imm)


def mov_reg(dst, src):
    return insn(0xBF, dst, src)          # BPF_ALU64 | BPF_MOV | BPF_X


def mov_imm(dst, imm):
    return insn(0xB7, dst, imm=imm)      # BPF_ALU64 | BPF_MOV | BPF_K


def call(fn):
    return insn(0x85, imm=fn)            # BPF_JMP | BPF_CALL


EXIT = insn(0x95)


def bpf(cmd, attr):
    buf = ctypes.create_string_buffer(attr, len(attr))
    r = libc.syscall(NR_BPF, cmd, buf, len(attr))
    if r < 0:
        e = ctypes.get_errno()
        raise OSError(e, "bpf(%d): %s" % (cmd, os.strerror(e)))
    return r, buf


def main():
    path, mode = sys.argv[1], sys.argv[2]
    prog = mov_reg(6, 1)                 # r6 = skb
    if mode == "push":
        for spec in sys.argv[3:]:
            tpid, vid = (int(x, 0) for x in spec.split(":"))
            prog += mov_reg(1, 6) + mov_imm(2, socket.htons(tpid)) + mov_imm(3, vid)
            prog += call(FN_SKB_VLAN_PUSH)
    elif mode == "pop":
        for _ in range(int(sys.argv[3])):
            prog += mov_reg(1, 6) + call(FN_SKB_VLAN_POP)
    else:
        sys.exit("mode must be push or pop")
    prog += mov_imm(0, 0) + EXIT         # TC_ACT_OK

    insns = ctypes.create_string_buffer(prog, len(prog))
    lic = ctypes.create_string_buffer(b"GPL")
    log = ctypes.create_string_buffer(65536)
    attr = struct.pack("<IIQQIIQII16s", BPF_PROG_TYPE_SCHED_CLS, len(prog) // 8,
                       ctypes.addressof(insns), ctypes.addressof(lic),
                       1, len(log), ctypes.addressof(log), 0, 0, b"tgs_vlan")
    attr += b"\0" * (128 - len(attr))
    try:
        fd, _ = bpf(BPF_PROG_LOAD, attr)
    except OSError:
        sys.stderr.write(log.value.decode(errors="replace"))
        raise
    p = ctypes.create_string_buffer(path.encode())
    attr = struct.pack("<QII", ctypes.addressof(p), fd, 0) + b"\0" * 48
    bpf(BPF_OBJ_PIN, attr)
    os.close(fd)


if __name__ == "__main__":
    main()
