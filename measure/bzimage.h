// Recognises a Linux bzImage before its hash is measured.
//
// QEMU adds the kernel hashes only when it boots the kernel through the Linux/x86 boot protocol
// (hw/i386/x86.c: any other kernel, e.g. a PVH ELF, is loaded without them), so measuring
// anything else gives a digest no launch produces. The boot protocol (Documentation/arch/x86/
// boot.rst, "The real-mode kernel header") puts:
//
//   0x1FE  u16 boot_flag = 0xAA55
//   0x202  u32 header    = "HdrS"
//   0x206  u16 version   (protocol 2.00 and later)
//
// A zero-length file is accepted: it is what sev-snp-measure's own tests measure (/dev/null
// as kernel), so their vectors can be reproduced; nothing boots from it.
#pragma once

#include <string>

#include "base/bytes.h"
#include "base/result.h"

namespace cvm::measure {

inline constexpr size_t BZIMAGE_BOOT_FLAG_OFFSET = 0x1FE;
inline constexpr uint16_t BZIMAGE_BOOT_FLAG = 0xAA55;
inline constexpr size_t BZIMAGE_HEADER_OFFSET = 0x202;
inline constexpr uint32_t BZIMAGE_HEADER_MAGIC = 0x5372'6448;  // "HdrS" little-endian
inline constexpr size_t BZIMAGE_VERSION_OFFSET = 0x206;
inline constexpr uint16_t BZIMAGE_MIN_VERSION = 0x200;

// Checks the first bytes of a kernel file (all of it, or at least the header). Errc::Format
// says what is missing.
Result<void> check_bzimage_header(ByteView head);

// Reads the start of `path` and checks it; errors name the file.
Result<void> check_bzimage(const std::string& path);

}  // namespace cvm::measure
