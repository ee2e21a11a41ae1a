#!/usr/bin/env python3
"""Flash and static-RAM use of fw.elf, read from its section headers (the toolchain has no
llvm-size). flash = every allocated section with contents (vectors, text, rodata, exidx, the
.data initialisers); static RAM = .data + .bss. Exits 1 when a budget is exceeded."""
import struct
import sys

SHF_ALLOC, SHT_NOBITS = 0x2, 8
RAM_START = 0x20000000


def sections(path):
    data = open(path, "rb").read()
    assert data[:4] == b"\x7fELF" and data[4] == 1, "expected a 32-bit ELF"
    shoff, = struct.unpack_from("<I", data, 0x20)
    shentsize, shnum, shstrndx = struct.unpack_from("<HHH", data, 0x2E)
    headers = [struct.unpack_from("<IIIIIIIIII", data, shoff + i * shentsize) for i in range(shnum)]
    strtab = headers[shstrndx]
    for name, type_, flags, addr, _off, size, *_ in headers:
        end = data.index(b"\0", strtab[4] + name)
        yield data[strtab[4] + name:end].decode(), type_, flags, addr, size


def static_ram(path):
    """.data + .bss: the bytes of RAM the image occupies before the stack."""
    return sum(size for _name, _type, flags, addr, size in sections(path) if flags & SHF_ALLOC and addr >= RAM_START)


def main():
    path, flash_budget, ram_budget = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    flash = ram = 0
    rows = []
    for name, type_, flags, addr, size in sections(path):
        if not flags & SHF_ALLOC or size == 0:
            continue
        in_flash = type_ != SHT_NOBITS  # .data has contents: its initialisers are in flash too
        in_ram = addr >= RAM_START
        flash += size if in_flash else 0
        ram += size if in_ram else 0
        rows.append(f"  {name:<12} {size:>7} B  at 0x{addr:08x}{'  flash' if in_flash else ''}{'  ram' if in_ram else ''}")
    print("\n".join(rows))
    print(f"flash: {flash} B ({flash / 1024:.1f} KiB) of {flash_budget // 1024} KiB budget")
    print(f"static RAM: {ram} B ({ram / 1024:.1f} KiB) of {ram_budget // 1024} KiB budget (stack not included)")
    failed = False
    if flash > flash_budget:
        print(f"FAIL: flash {flash} B exceeds {flash_budget} B", file=sys.stderr)
        failed = True
    if ram > ram_budget:
        print(f"FAIL: static RAM {ram} B exceeds {ram_budget} B", file=sys.stderr)
        failed = True
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
