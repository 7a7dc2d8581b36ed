// What execve(2) needs from a file before it runs it, read the way the kernel does, for the
// builder's checks (checks.h) and the agent's FATAL hint when the workload cannot start:
//   - "#!" scripts (fs/binfmt_script.c: load_script()): the interpreter is the first word after
//     "#!" on the first line, within the kernel's BINPRM_BUF_SIZE (256) bytes;
//   - ELF64 (fs/binfmt_elf.c: load_elf_binary()): the header, the program headers, PT_INTERP
//     (the dynamic loader, opened like the program), PT_DYNAMIC's DT_NEEDED entries and PT_NOTE
//     notes. Parsed through the bounds-checked Reader: every offset and size is checked against
//     the bytes given, a field that does not fit is Errc::Format naming it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/bytes.h"
#include "base/result.h"

namespace cvm::initramfs {

inline constexpr size_t BINPRM_BUF_SIZE = 256;  // include/linux/binfmts.h
inline constexpr uint16_t ELF_EM_X86_64 = 62;   // include/uapi/linux/elf-em.h
inline constexpr uint16_t ELF_ET_EXEC = 2;      // include/uapi/linux/elf.h
inline constexpr uint16_t ELF_ET_DYN = 3;
inline constexpr size_t MAX_ELF_PROGRAM_HEADERS = 4096;

// The ELF note that marks a cvminit agent (agent/fatal.cc emits it): name "cvminit", type 1.
inline constexpr const char* CVMINIT_NOTE_NAME = "cvminit";
inline constexpr uint32_t CVMINIT_NOTE_TYPE = 1;

struct ElfNote {
    std::string name;  // without its NUL
    uint32_t type{0};
};

struct ElfInfo {
    uint16_t type{0};                        // e_type
    uint16_t machine{0};                     // e_machine
    std::optional<std::string> interpreter;  // PT_INTERP, without its NUL
    size_t needed{0};                        // DT_NEEDED entries in PT_DYNAMIC (shared libraries)
    std::vector<ElfNote> notes;              // from every PT_NOTE segment
};

bool is_elf(ByteView head);  // starts with "\x7f" "ELF"

// Parses an ELF64 little-endian file's header and program headers from `file`. Errc::Format for
// a file without the ELF magic, a 32-bit or big-endian file, a header that is not ELF64's size,
// program headers that are not 56 bytes or more than MAX_ELF_PROGRAM_HEADERS, and any table or
// segment outside `file` -- except, when `prefix` (`file` is only the start of the file), a
// PT_DYNAMIC or PT_NOTE segment past its end, which is then skipped.
Result<ElfInfo> parse_elf(ByteView file, bool prefix = false);

// The interpreter execve() would open for a file starting with `head`: the "#!" word, or ELF's
// PT_INTERP (needs the program headers and the PT_INTERP bytes in `head`). nullopt when it needs
// none (a static ELF, or a file that is neither: execve gives ENOEXEC for that). Errc::Format for
// a "#!" line without an interpreter, or an ELF file parse_elf() refuses.
Result<std::optional<std::string>> interpreter_of(ByteView head);

// The first `max` bytes of `path` (fewer if it is shorter). Errc::Io naming the path.
Result<Bytes> read_head(const std::string& path, size_t max);

}  // namespace cvm::initramfs
