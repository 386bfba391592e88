#!/usr/bin/env python3
"""The x86 listing of a loaded BPF program's JIT image, and the length of a
path through it.

Debian's bpftool is built without libbfd and will not disassemble JIT
images, so this takes the image with BPF_OBJ_GET_INFO_BY_FD (jited_prog_insns)
and disassembles it with objdump. Run as root while the program is loaded
(e.g. `rsstrace -- sleep 30 &`):

    bench/jit_listing.py rss_stat_lean > /tmp/jit.txt
    bench/jit_listing.py rss_stat_lean --path 146,1cf,23d

(rss_stat_lean: a default run's rss_stat program on 6.2+; rss_stat_btf where
the lean path is off, as with --stacks.)

--path counts the instructions from the program's first one to its `ret`,
following each unconditional jump and each conditional jump whose address
(hex) is listed; every other conditional jump falls through. That is how the
per-event counts in docs/performance.md ("The lean path") were taken: read
the listing, name the jumps the event takes, count.
"""
import argparse
import ctypes
import os
import re
import struct
import subprocess
import sys
import tempfile

SYS_BPF = 321  # x86-64
BPF_PROG_GET_NEXT_ID, BPF_PROG_GET_FD_BY_ID, BPF_OBJ_GET_INFO_BY_FD = 11, 13, 15
INFO_SIZE = 256  # struct bpf_prog_info, with room to spare
NAME_AT, NAME_LEN = 64, 16  # bpf_prog_info.name: char[16] after 8 u64s and u32s (uapi)

libc = ctypes.CDLL(None, use_errno=True)


def bpf(cmd, attr):
    r = libc.syscall(SYS_BPF, cmd, ctypes.byref(attr), ctypes.sizeof(attr))
    if r < 0:
        e = ctypes.get_errno()
        raise OSError(e, os.strerror(e))
    return r


def prog_info(fd, jited=None):
    info = (ctypes.c_uint8 * INFO_SIZE)()
    if jited is not None:
        struct.pack_into("I", info, 16, len(jited))
        struct.pack_into("Q", info, 24, ctypes.addressof(jited))
    attr = (ctypes.c_uint8 * 16)()
    struct.pack_into("IIQ", attr, 0, fd, INFO_SIZE, ctypes.addressof(info))
    bpf(BPF_OBJ_GET_INFO_BY_FD, attr)
    return bytes(info)


def find_prog(name):
    """An fd of the newest loaded program called name: the one just started,
    when other rsstrace runs (a test suite) have theirs loaded too."""
    prog_id, found = 0, None
    while True:
        attr = (ctypes.c_uint8 * 16)()
        struct.pack_into("I", attr, 0, prog_id)
        try:
            bpf(BPF_PROG_GET_NEXT_ID, attr)
        except OSError:
            break
        prog_id = struct.unpack_from("I", attr, 4)[0]
        attr = (ctypes.c_uint8 * 16)()
        struct.pack_into("I", attr, 0, prog_id)
        try:
            fd = bpf(BPF_PROG_GET_FD_BY_ID, attr)
        except OSError:
            continue  # unloaded since its id was listed
        info = prog_info(fd)
        if info[NAME_AT:NAME_AT + NAME_LEN].split(b"\0")[0].decode() == name:
            if found is not None:
                os.close(found)
            found = fd
        else:
            os.close(fd)
    if found is None:
        sys.exit(f"jit_listing: no loaded program is called {name}")
    return found


def listing(name):
    fd = find_prog(name)
    size = struct.unpack_from("I", prog_info(fd), 16)[0]
    image = (ctypes.c_uint8 * size)()
    prog_info(fd, image)
    with tempfile.NamedTemporaryFile(suffix=".bin") as f:
        f.write(bytes(image))
        f.flush()
        out = subprocess.run(["objdump", "-D", "-b", "binary", "-mi386:x86-64", f.name],
                             capture_output=True, text=True, check=True).stdout
    return [(int(m.group(1), 16), m.group(2).strip()) for m in
            (re.match(r"^\s+([0-9a-f]+):\t[0-9a-f ]+\t(.*)$", l) for l in out.splitlines()) if m]


def path_length(insns, taken):
    at = {a: i for i, (a, _) in enumerate(insns)}
    i, n = 0, 0
    while i < len(insns):
        a, text = insns[i]
        n += 1
        if text.startswith("ret"):
            return n
        jump = re.match(r"(j\w+)\s+0x([0-9a-f]+)", text)
        if jump and (jump.group(1) == "jmp" or a in taken):
            i = at[int(jump.group(2), 16)]
        else:
            i += 1
    return n


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("prog", help="the loaded program's name (bpftool prog show)")
    ap.add_argument("--path", help="count the path that takes these conditional jumps (hex addresses, comma-separated)")
    a = ap.parse_args()
    insns = listing(a.prog)
    if a.path is None:
        for addr, text in insns:
            print(f"{addr:6x}  {text}")
        return
    print(path_length(insns, {int(x, 16) for x in a.path.split(",") if x}))


if __name__ == "__main__":
    main()
