// What execve(2) needs from a file before it runs it, read the way the kernel does, for the
// builder's checks (checks.h) and the agent's FATAL hint when the workload cannot start (one
// walk of the interpreter chain, walk_exec_chain(), for both):
//   - "#!" scripts (fs/binfmt_script.c: load_script()): the interpreter is the first word after
//     "#!" on the first line, within the kernel's BINPRM_BUF_SIZE (256) bytes;
//   - ELF (fs/binfmt_elf.c: load_elf_binary()): for the workload, only what execve() reads
//     (interpreter_of(): e_ident, program headers, the first PT_INTERP); for the agent, strictly
//     (parse_elf(): ELF64 header, program headers, PT_INTERP, PT_DYNAMIC's DT_NEEDED entries and
//     PT_NOTE notes, through the bounds-checked Reader: a field that does not fit is
//     Errc::Format naming it). Every offset and size is checked against the bytes given.
#pragma once

#include <cstdint>
#include <functional>
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

// Parses an ELF64 little-endian file's header and program headers from `file`, strictly: for
// `cvm initramfs --agent` (a static x86-64 ELF), not for the workload (interpreter_of() reads it
// as execve() does). Errc::Format for a file without the ELF magic, a 32-bit or big-endian file,
// a header that is not ELF64's size, program headers that are not 56 bytes or more than
// MAX_ELF_PROGRAM_HEADERS, two PT_INTERP, a PT_INTERP that is not one NUL-terminated path, and
// any table or segment outside `file`.
Result<ElfInfo> parse_elf(ByteView file);

// How a file of an execve() chain was reached: the command itself, a "#!" line
// (fs/binfmt_script.c: load_script() sets bprm->interpreter, one more round of
// fs/exec.c: exec_binprm()'s loop), or PT_INTERP (fs/binfmt_elf.c: load_elf_binary() opens the
// loader with open_exec() and loads it itself: no round of the loop, and the loader's own
// PT_INTERP or "#!" line is never looked at).
enum class ExecVia { Command, Script, Loader };

struct ExecInterpreter {
    std::string path;
    ExecVia via{ExecVia::Script};
};

// What a walk reads of each file: enough for the program headers and PT_INTERP.
inline constexpr size_t MAX_EXEC_HEAD_BYTES = 1 << 20;
// fs/exec.c: exec_binprm() returns ELOOP once its loop reaches depth > 5: five "#!" rewrites
// are allowed (a PT_INTERP loader does not count).
inline constexpr int MAX_SCRIPT_REWRITES = 5;

// The interpreter execve() would open next for a file starting with `head`, read the kernel's
// way and no stricter:
//   - "#!": the first word of the first line within BINPRM_BUF_SIZE; Errc::Format (ENOEXEC)
//     when there is none;
//   - ELF32 or ELF64 little-endian: e_ident, the program headers and the FIRST PT_INTERP (the
//     kernel breaks out of its loop there), the path up to its first NUL. Errc::Format (ENOEXEC)
//     when load_elf_binary() refuses it: p_filesz below 2 or above PATH_MAX, a last byte that is
//     not NUL, bytes past `head`;
//   - anything else (a static ELF, another class or encoding, program headers this reader cannot
//     place, no format at all): nullopt, "no interpreter known": execve() decides.
// The errors carry the errno execve() would give.
Result<std::optional<ExecInterpreter>> interpreter_of(ByteView head);

// One file of a chain: `path` as execve() opens it, `named_by` the file whose "#!" line or
// PT_INTERP names it ("" for the command).
struct ExecStep {
    std::string path;
    ExecVia via{ExecVia::Command};
    std::string named_by;
};

// How errors name a step: "<command_label> /x", "interpreter /bin/sh of /x" or
// "loader /lib/ld.so (PT_INTERP) of /x".
std::string exec_step_label(const ExecStep& step, const std::string& command_label);

// Finds a step's file (in a filesystem, in an archive): checks it as open_exec() would (exists,
// regular, executable) and returns its first MAX_EXEC_HEAD_BYTES bytes, or the error to report.
using ExecLookup = std::function<Result<Bytes>(const ExecStep&)>;

struct ExecChain {
    std::vector<ExecStep> steps;  // the files opened, the command first; the last is where it stopped
    std::optional<Error> error;   // nullopt when every file was found and the chain ends
};

// Walks the chain execve(command) opens: lookup's error as it gave it; interpreter_of()'s; a
// loader that is not ELF (load_elf_binary(): ELIBBAD); a sixth "#!" rewrite (ELOOP).
ExecChain walk_exec_chain(const std::string& command, const ExecLookup& lookup);

// The first `max` bytes of `path` (fewer if it is shorter). Errc::Io naming the path.
Result<Bytes> read_head(const std::string& path, size_t max);

}  // namespace cvm::initramfs
