#include "measure/bzimage.h"

#include "base/file.h"
#include "base/reader.h"

namespace cvm::measure {

namespace {

inline constexpr size_t HEAD_SIZE = BZIMAGE_VERSION_OFFSET + 2;

}  // namespace

Result<void> check_bzimage_header(ByteView head)
{
    if (head.empty())
        return {};
    if (head.size() < HEAD_SIZE)
        return Error::make(Errc::Format, "not a bzImage: %zu bytes, too short for the Linux boot header (%zu)",
                           head.size(), HEAD_SIZE);
    Reader r(head, "kernel");
    TRY(r.skip(BZIMAGE_BOOT_FLAG_OFFSET, "setup"));
    uint16_t boot_flag = TRY(r.u16le("boot_flag"));
    TRY(r.skip(BZIMAGE_HEADER_OFFSET - BZIMAGE_BOOT_FLAG_OFFSET - 2, "jump"));
    uint32_t magic = TRY(r.u32le("header"));
    uint16_t version = TRY(r.u16le("version"));
    if (boot_flag != BZIMAGE_BOOT_FLAG || magic != BZIMAGE_HEADER_MAGIC)
        return Error::make(Errc::Format,
                           "not a bzImage: no Linux boot protocol header (boot_flag 0x%04x at 0x1fe, expected 0xaa55; "
                           "header 0x%08x at 0x202, expected \"HdrS\")",
                           boot_flag, magic);
    if (version < BZIMAGE_MIN_VERSION)
        return Error::make(Errc::Unsupported, "not a bzImage: boot protocol %u.%02u, expected 2.00 or later",
                           version >> 8, version & 0xFF);
    return {};
}

Result<void> check_bzimage(const std::string& path)
{
    UniqueFd fd = TRY(open_for_reading(path));
    uint8_t head[HEAD_SIZE];
    size_t got = 0;
    while (got < sizeof head) {
        size_t n = TRY(read_some(fd.get(), std::span<uint8_t>(head).subspan(got), path));
        if (n == 0)
            break;
        got += n;
    }
    auto checked = check_bzimage_header(ByteView(head, got));
    if (!checked.ok())
        return checked.release_error().prefix("kernel %s", path.c_str());
    return {};
}

}  // namespace cvm::measure
