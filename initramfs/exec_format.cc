#include "initramfs/exec_format.h"

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "base/file.h"
#include "base/reader.h"

namespace cvm::initramfs {

namespace {

constexpr uint32_t PT_DYNAMIC = 2;
constexpr uint32_t PT_INTERP = 3;
constexpr uint32_t PT_NOTE = 4;
constexpr int64_t DT_NULL = 0;
constexpr int64_t DT_NEEDED = 1;
constexpr size_t EHDR_SIZE = 64;
constexpr size_t PHDR_SIZE = 56;
constexpr size_t DYN_SIZE = 16;

struct Segment {
    uint32_t type;
    uint64_t offset;
    uint64_t filesz;
};

// The segment's bytes, or Errc::Format naming it when they are not all within `file`.
Result<ByteView> segment_bytes(ByteView file, const Segment& s, const char* what)
{
    if (s.offset > file.size() || s.filesz > file.size() - s.offset)
        return Error::make(Errc::Format, "ELF %s segment at offset %llu, %llu bytes: past the end of the %zu bytes",
                           what, static_cast<unsigned long long>(s.offset), static_cast<unsigned long long>(s.filesz),
                           file.size());
    return file.subspan(static_cast<size_t>(s.offset), static_cast<size_t>(s.filesz));
}

size_t align4(size_t n)
{
    return (n + 3) & ~size_t(3);
}

Result<void> read_notes(ByteView bytes, std::vector<ElfNote>& out)
{
    Reader r(bytes, "ELF note segment");
    while (r.remaining() >= 12) {
        uint32_t namesz = TRY(r.u32le("n_namesz"));
        uint32_t descsz = TRY(r.u32le("n_descsz"));
        uint32_t type = TRY(r.u32le("n_type"));
        ByteView name = TRY(r.bytes(namesz, "note name"));
        TRY(r.skip(std::min(align4(namesz) - namesz, r.remaining()), "note name padding"));
        TRY(r.skip(descsz, "note descriptor"));
        TRY(r.skip(std::min(align4(descsz) - descsz, r.remaining()), "note descriptor padding"));
        size_t len = std::find(name.begin(), name.end(), 0) - name.begin();
        out.push_back({std::string(name.begin(), name.begin() + len), type});
    }
    return {};
}

Result<void> read_dynamic(ByteView bytes, size_t& needed)
{
    Reader r(bytes, "ELF dynamic segment");
    while (r.remaining() >= DYN_SIZE) {
        int64_t tag = static_cast<int64_t>(TRY(r.u64le("d_tag")));
        TRY(r.skip(8, "d_val"));
        if (tag == DT_NULL)
            break;
        needed += tag == DT_NEEDED ? 1 : 0;
    }
    return {};
}

}  // namespace

bool is_elf(ByteView head)
{
    return head.size() >= 4 && memcmp(head.data(),
                                      "\x7f"
                                      "ELF",
                                      4) == 0;
}

Result<ElfInfo> parse_elf(ByteView file)
{
    if (!is_elf(file))
        return Error::make(Errc::Format, "not an ELF file (no \\x7fELF magic)");
    Reader r(file, "ELF header");
    ByteView ident = TRY(r.bytes(16, "e_ident"));
    if (ident[4] != 2)
        return Error::make(Errc::Format, "ELF class %u: expected 2 (ELF64)", ident[4]);
    if (ident[5] != 1)
        return Error::make(Errc::Format, "ELF data encoding %u: expected 1 (little-endian)", ident[5]);
    ElfInfo info;
    info.type = TRY(r.u16le("e_type"));
    info.machine = TRY(r.u16le("e_machine"));
    TRY(r.skip(4 + 8, "e_version, e_entry"));
    uint64_t phoff = TRY(r.u64le("e_phoff"));
    TRY(r.skip(8 + 4, "e_shoff, e_flags"));
    uint16_t ehsize = TRY(r.u16le("e_ehsize"));
    uint16_t phentsize = TRY(r.u16le("e_phentsize"));
    uint16_t phnum = TRY(r.u16le("e_phnum"));
    if (ehsize != EHDR_SIZE)
        return Error::make(Errc::Format, "ELF e_ehsize %u: expected %zu", ehsize, EHDR_SIZE);
    if (phnum == 0 || phnum > MAX_ELF_PROGRAM_HEADERS || phentsize != PHDR_SIZE)
        return Error::make(Errc::Format, "ELF program headers: %u of %u bytes, expected 1..%zu of %zu bytes", phnum,
                           phentsize, MAX_ELF_PROGRAM_HEADERS, PHDR_SIZE);
    if (phoff > file.size() || uint64_t(phnum) * PHDR_SIZE > file.size() - phoff)
        return Error::make(Errc::Format,
                           "ELF program headers at offset %llu (%u of them): past the end of the %zu bytes",
                           static_cast<unsigned long long>(phoff), phnum, file.size());
    Reader ph(file.subspan(static_cast<size_t>(phoff), size_t(phnum) * PHDR_SIZE), "ELF program headers");
    std::vector<Segment> segments;
    for (uint16_t i = 0; i < phnum; ++i) {
        Segment s{};
        s.type = TRY(ph.u32le("p_type"));
        TRY(ph.skip(4, "p_flags"));
        s.offset = TRY(ph.u64le("p_offset"));
        TRY(ph.skip(16, "p_vaddr, p_paddr"));
        s.filesz = TRY(ph.u64le("p_filesz"));
        TRY(ph.skip(16, "p_memsz, p_align"));
        segments.push_back(s);
    }
    for (const Segment& s : segments) {
        if (s.type == PT_INTERP) {
            if (info.interpreter)
                return Error::make(Errc::Format, "ELF has two PT_INTERP segments");
            ByteView bytes = TRY(segment_bytes(file, s, "PT_INTERP"));
            auto nul = std::find(bytes.begin(), bytes.end(), 0);
            if (bytes.empty() || nul != bytes.end() - 1)
                return Error::make(Errc::Format, "ELF PT_INTERP is not one NUL-terminated path");
            info.interpreter = std::string(bytes.begin(), nul);
        } else if (s.type == PT_DYNAMIC) {
            TRY(read_dynamic(TRY(segment_bytes(file, s, "PT_DYNAMIC")), info.needed));
        } else if (s.type == PT_NOTE) {
            TRY(read_notes(TRY(segment_bytes(file, s, "PT_NOTE")), info.notes));
        }
    }
    return info;
}

namespace {

constexpr size_t PATH_MAX_BYTES = 4096;  // include/uapi/linux/limits.h: PATH_MAX

Error no_exec(int err, const std::string& what)
{
    return Error::from_errno(Errc::Format, err, "%s", what.c_str());
}

uint64_t le(ByteView b, size_t at, size_t n)
{
    uint64_t v = 0;
    for (size_t i = 0; i < n; ++i)
        v |= uint64_t(b[at + i]) << (8 * i);
    return v;
}

// fs/binfmt_script.c: load_script(): the first word after "#!" within BINPRM_BUF_SIZE.
Result<std::optional<ExecInterpreter>> script_interpreter(ByteView head)
{
    ByteView line = head.subspan(2, std::min(head.size(), BINPRM_BUF_SIZE) - 2);
    line = line.first(std::find(line.begin(), line.end(), '\n') - line.begin());
    auto blank = [](uint8_t c) { return c == ' ' || c == '\t'; };
    auto start = std::find_if_not(line.begin(), line.end(), blank);
    auto end = std::find_if(start, line.end(), [&](uint8_t c) { return blank(c) || c == 0; });
    if (start == end)
        return no_exec(ENOEXEC, "\"#!\" line names no interpreter");
    return std::optional<ExecInterpreter>(ExecInterpreter{std::string(start, end), ExecVia::Script});
}

// fs/binfmt_elf.c: load_elf_binary() (compat_binfmt_elf.c for ELF32): the first PT_INTERP.
Result<std::optional<ExecInterpreter>> elf_interpreter(ByteView head)
{
    const std::optional<ExecInterpreter> unknown;
    if (head.size() < 16 || head[5] != 1)
        return unknown;  // not little-endian: not this reader's to judge
    bool wide = head[4] == 2;
    if (!wide && head[4] != 1)
        return unknown;
    size_t ehdr = wide ? EHDR_SIZE : 52, phdr = wide ? PHDR_SIZE : 32;
    if (head.size() < ehdr)
        return unknown;
    uint64_t phoff = wide ? le(head, 32, 8) : le(head, 28, 4);
    uint64_t phentsize = le(head, wide ? 54 : 42, 2), phnum = le(head, wide ? 56 : 44, 2);
    if (phentsize != phdr || phnum == 0 || phoff > head.size() || phnum * phdr > head.size() - phoff)
        return unknown;  // load_elf_phdrs() refuses it, or it is past what was read
    for (uint64_t i = 0; i < phnum; ++i) {
        size_t at = static_cast<size_t>(phoff + i * phdr);
        if (le(head, at, 4) != PT_INTERP)
            continue;
        uint64_t offset = wide ? le(head, at + 8, 8) : le(head, at + 4, 4);
        uint64_t filesz = wide ? le(head, at + 32, 8) : le(head, at + 16, 4);
        if (filesz < 2 || filesz > PATH_MAX_BYTES)
            return no_exec(ENOEXEC, "ELF PT_INTERP of " + std::to_string(filesz) + " bytes: expected 2.." +
                                        std::to_string(PATH_MAX_BYTES));
        if (offset > head.size() || filesz > head.size() - offset)
            return no_exec(EIO, "ELF PT_INTERP at offset " + std::to_string(offset) + ": past the end of the " +
                                    std::to_string(head.size()) + " bytes read");
        ByteView bytes = head.subspan(static_cast<size_t>(offset), static_cast<size_t>(filesz));
        if (bytes.back() != 0)
            return no_exec(ENOEXEC, "ELF PT_INTERP does not end in a NUL");
        auto nul = std::find(bytes.begin(), bytes.end(), 0);
        return std::optional<ExecInterpreter>(ExecInterpreter{std::string(bytes.begin(), nul), ExecVia::Loader});
    }
    return unknown;
}

}  // namespace

Result<std::optional<ExecInterpreter>> interpreter_of(ByteView head)
{
    if (head.size() >= 2 && head[0] == '#' && head[1] == '!')
        return script_interpreter(head);
    if (is_elf(head))
        return elf_interpreter(head);
    return std::optional<ExecInterpreter>();
}

ExecChain walk_exec_chain(const std::string& command, const ExecLookup& lookup)
{
    ExecChain chain;
    chain.steps.push_back({command, ExecVia::Command, ""});
    for (int rewrites = 0;;) {
        const ExecStep step = chain.steps.back();
        auto head = lookup(step);
        if (!head) {
            chain.error = head.error();
            return chain;
        }
        // load_script() opened this file already; exec_binprm()'s next round then gives ELOOP.
        if (rewrites > MAX_SCRIPT_REWRITES) {
            chain.error = no_exec(ELOOP, "\"#!\" interpreters nest deeper than the kernel's " +
                                             std::to_string(MAX_SCRIPT_REWRITES) + " (fs/exec.c: exec_binprm())");
            return chain;
        }
        if (step.via == ExecVia::Loader) {
            if (!is_elf(head.value()))  // load_elf_binary(): "Not an ELF interpreter"
                chain.error = no_exec(ELIBBAD, "the loader is not an ELF file (no \\x7fELF magic)");
            return chain;  // loaded by load_elf_binary() itself: its own interpreter is never looked at
        }
        auto next = interpreter_of(head.value());
        if (!next) {
            chain.error = next.error();
            return chain;
        }
        if (!next->has_value())
            return chain;
        rewrites += next.value()->via == ExecVia::Script ? 1 : 0;
        chain.steps.push_back({next.value()->path, next.value()->via, step.path});
    }
}

Result<Bytes> read_head(const std::string& path, size_t max)
{
    UniqueFd fd = TRY(open_for_reading(path));
    Bytes out(max);
    size_t got = 0;
    while (got < max) {
        size_t n = TRY(read_some(fd.get(), std::span<uint8_t>(out).subspan(got), path));
        if (n == 0)
            break;
        got += n;
    }
    out.resize(got);
    return out;
}

std::string exec_step_label(const ExecStep& step, const std::string& command_label)
{
    switch (step.via) {
    case ExecVia::Command: return command_label + " " + step.path;
    case ExecVia::Script: return "interpreter " + step.path + " of " + step.named_by;
    case ExecVia::Loader: break;
    }
    return "loader " + step.path + " (PT_INTERP) of " + step.named_by;
}

}  // namespace cvm::initramfs
