// Minimal ELF images for the tests of initramfs/exec_format.h, checks.h and the agent's
// workload_check.h: a header, program headers and the segments they point at, every field
// settable so that tests can break each. ELF64 by default; elf_class 1 lays out ELF32 (i386)
// headers, any other class the ELF64 layout.
#pragma once

#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

namespace cvm::test {

struct ElfSpec {
    uint8_t elf_class = 2;  // ELFCLASS64; 1: ELFCLASS32 (with the ELF32 layout)
    uint8_t data = 1;       // little-endian
    uint16_t type = 2;      // ET_EXEC
    uint16_t machine = 62;  // EM_X86_64
    uint16_t ehsize = 64;
    uint16_t phentsize = 56;
    std::optional<uint16_t> phnum;       // default: the segments given
    std::optional<uint64_t> phoff;       // default: 64
    std::optional<std::string> interp;   // PT_INTERP contents, NUL added
    std::optional<std::string> interp2;  // a second PT_INTERP after the first
    int needed = 0;                      // DT_NEEDED entries in a PT_DYNAMIC
    bool dynamic = false;                // a PT_DYNAMIC even without DT_NEEDED (static-pie)
    std::optional<std::string> note;     // a PT_NOTE with this name, type note_type
    uint32_t note_type = 1;
    uint64_t bad_interp_size = 0;  // > 0: PT_INTERP p_filesz instead of the real one
};

inline std::vector<uint8_t> make_elf(const ElfSpec& s)
{
    struct Seg {
        uint32_t type;
        std::vector<uint8_t> bytes;
    };
    std::vector<Seg> segs;
    auto put = [](std::vector<uint8_t>& b, uint64_t v, int n) {
        for (int i = 0; i < n; ++i)
            b.push_back(static_cast<uint8_t>(i < 8 ? v >> (8 * i) : 0));  // n > 8: zero padding
    };
    for (const auto* interp : {&s.interp, &s.interp2}) {
        if (!*interp)
            continue;
        std::vector<uint8_t> b((*interp)->begin(), (*interp)->end());
        b.push_back(0);
        segs.push_back({3, b});
    }
    if (s.needed || s.dynamic) {
        std::vector<uint8_t> b;
        for (int i = 0; i < s.needed; ++i) {
            put(b, 1, 8);
            put(b, 1 + i, 8);
        }
        put(b, 0x6ffffffb, 8);  // DT_FLAGS_1
        put(b, 0, 8);
        put(b, 0, 16);  // DT_NULL
        segs.push_back({2, b});
    }
    if (s.note) {
        std::vector<uint8_t> b;
        put(b, s.note->size() + 1, 4);
        put(b, 4, 4);
        put(b, s.note_type, 4);
        b.insert(b.end(), s.note->begin(), s.note->end());
        b.push_back(0);
        while (b.size() % 4)
            b.push_back(0);
        put(b, 1, 4);
        segs.push_back({4, b});
    }
    segs.push_back({1, std::vector<uint8_t>(16, 0x90)});  // PT_LOAD
    const bool wide = s.elf_class != 1;
    const int word = wide ? 8 : 4;
    const uint64_t ehsize = wide ? 64 : 52, phsize = wide ? 56 : 32;
    std::vector<uint8_t> out{0x7f, 'E', 'L', 'F', s.elf_class, s.data, 1, 0};
    out.resize(16, 0);
    put(out, s.type, 2);
    put(out, s.machine, 2);
    put(out, 1, 4);
    put(out, 0x401000, word);
    put(out, s.phoff.value_or(ehsize), word);
    put(out, 0, word);
    put(out, 0, 4);
    put(out, wide ? s.ehsize : 52, 2);
    put(out, wide ? s.phentsize : 32, 2);
    put(out, s.phnum.value_or(static_cast<uint16_t>(segs.size())), 2);
    put(out, 0, 2);
    put(out, 0, 2);
    put(out, 0, 2);
    uint64_t data_at = ehsize + phsize * segs.size();
    for (const Seg& g : segs) {
        uint64_t filesz = g.type == 3 && s.bad_interp_size ? s.bad_interp_size : g.bytes.size();
        put(out, g.type, 4);
        if (wide)
            put(out, 4, 4);  // p_flags
        put(out, data_at, word);
        put(out, 0x400000 + data_at, word);
        put(out, 0x400000 + data_at, word);
        put(out, filesz, word);
        put(out, g.bytes.size(), word);
        if (!wide)
            put(out, 4, 4);  // p_flags
        put(out, 1, word);
        data_at += g.bytes.size();
    }
    for (const Seg& g : segs)
        out.insert(out.end(), g.bytes.begin(), g.bytes.end());
    return out;
}

inline std::string as_string(const std::vector<uint8_t>& b)
{
    return std::string(b.begin(), b.end());
}

}  // namespace cvm::test
