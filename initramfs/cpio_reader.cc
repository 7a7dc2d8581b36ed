// The strict newc reader (cpio.h). Every byte goes through the bounds-checked Reader; sizes
// from the archive are compared with what is left before anything is taken.
#include <set>

#include "base/reader.h"
#include "initramfs/cpio.h"

namespace cvm::initramfs {

namespace {

// File types the kernel's init/initramfs.c creates (st_mode & S_IFMT).
constexpr uint32_t TYPE_MASK = 0170000;
constexpr uint32_t TYPE_SOCKET = 0140000;
constexpr uint32_t TYPE_SYMLINK = 0120000;
constexpr uint32_t TYPE_FILE = 0100000;
constexpr uint32_t TYPE_BLOCK = 0060000;
constexpr uint32_t TYPE_DIRECTORY = 0040000;
constexpr uint32_t TYPE_CHAR = 0020000;
constexpr uint32_t TYPE_FIFO = 0010000;

Result<uint32_t> hex8(Reader& r, const char* field, size_t member)
{
    ByteView v = TRY(r.bytes(8, field));
    uint32_t out = 0;
    for (uint8_t c : v) {
        uint32_t digit;
        if (c >= '0' && c <= '9')
            digit = c - '0';
        else if (c >= 'a' && c <= 'f')
            digit = c - 'a' + 10u;
        else if (c >= 'A' && c <= 'F')
            digit = c - 'A' + 10u;
        else
            return Error::make(Errc::Format, "newc member at offset 0x%zx: %s is not 8 hexadecimal digits", member,
                               field);
        out = out << 4 | digit;
    }
    return out;
}

// Padding up to the next multiple of 4 from the start of the archive; the writer fills it with
// zeros ("ALGN(n) means padding with null bytes").
Result<void> align(Reader& r, const char* field)
{
    size_t pad = (NEWC_ALIGN - r.offset() % NEWC_ALIGN) % NEWC_ALIGN;
    return r.zeros(pad, field);
}

bool has_data(uint32_t type)
{
    // "The c_filesize should be zero for any file which is not a regular file or symlink."
    return type == TYPE_FILE || type == TYPE_SYMLINK;
}

bool known_type(uint32_t type)
{
    switch (type) {
    case TYPE_SOCKET:
    case TYPE_SYMLINK:
    case TYPE_FILE:
    case TYPE_BLOCK:
    case TYPE_DIRECTORY:
    case TYPE_CHAR:
    case TYPE_FIFO: return true;
    default: return false;
    }
}

}  // namespace

Result<std::vector<NewcEntry>> read_newc(ByteView archive)
{
    Reader r(archive, "newc archive");
    std::vector<NewcEntry> entries;
    std::set<std::string_view> seen;
    for (;;) {
        size_t at = r.offset();
        if (r.at_end())
            return Error::make(Errc::Format, "newc archive ends at offset 0x%zx without a \"TRAILER!!!\" member", at);
        ByteView magic = TRY(r.bytes(NEWC_MAGIC.size(), "c_magic"));
        std::string_view m(reinterpret_cast<const char*>(magic.data()), magic.size());
        if (m == NEWC_CRC_MAGIC)
            return Error::make(Errc::Unsupported,
                               "newc member at offset 0x%zx: the \"070702\" (crc) variant is not "
                               "supported, expected \"070701\"",
                               at);
        if (m != NEWC_MAGIC)
            return Error::make(Errc::Format, "newc member at offset 0x%zx: c_magic is not \"070701\"", at);
        NewcEntry e;
        e.ino = TRY(hex8(r, "c_ino", at));
        e.mode = TRY(hex8(r, "c_mode", at));
        e.uid = TRY(hex8(r, "c_uid", at));
        e.gid = TRY(hex8(r, "c_gid", at));
        e.nlink = TRY(hex8(r, "c_nlink", at));
        e.mtime = TRY(hex8(r, "c_mtime", at));
        uint32_t filesize = TRY(hex8(r, "c_filesize", at));
        e.dev_major = TRY(hex8(r, "c_maj", at));
        e.dev_minor = TRY(hex8(r, "c_min", at));
        e.rdev_major = TRY(hex8(r, "c_rmaj", at));
        e.rdev_minor = TRY(hex8(r, "c_rmin", at));
        uint32_t namesize = TRY(hex8(r, "c_namesize", at));
        uint32_t chksum = TRY(hex8(r, "c_chksum", at));
        if (chksum != 0)
            return Error::make(Errc::Format, "newc member at offset 0x%zx: c_chksum is 0x%x, expected 0 for \"070701\"",
                               at, chksum);
        if (namesize < 2 || namesize > MAX_PATH_BYTES + 1)
            return Error::make(Errc::Format, "newc member at offset 0x%zx: c_namesize %u is not in 2..%zu", at,
                               namesize, MAX_PATH_BYTES + 1);
        ByteView name = TRY(r.bytes(namesize, "name"));
        std::string_view path(reinterpret_cast<const char*>(name.data()), name.size() - 1);
        if (name.back() != 0 || path.find('\0') != std::string_view::npos)
            return Error::make(Errc::Format, "newc member at offset 0x%zx: the name is not one NUL-terminated string",
                               at);
        TRY(align(r, "name padding"));
        if (path == TRAILER_NAME) {
            if (filesize != 0)
                return Error::make(Errc::Format, "newc trailer at offset 0x%zx: c_filesize is %u, must be zero", at,
                                   filesize);
            break;
        }
        uint32_t type = e.mode & TYPE_MASK;
        if (!known_type(type) || (e.mode & ~0177777u) != 0)
            return Error::make(Errc::Format, "newc member '%s': c_mode 0%o is not a known file type",
                               std::string(path).c_str(), e.mode);
        if (!has_data(type) && filesize != 0)
            return Error::make(Errc::Format, "newc member '%s': c_filesize is %u, must be zero for this file type",
                               std::string(path).c_str(), filesize);
        // "c_filesize must not be zero for a symlink."
        if (type == TYPE_SYMLINK && filesize == 0)
            return Error::make(Errc::Format, "newc member '%s': a symlink without a target", std::string(path).c_str());
        if (!seen.insert(path).second)
            return Error::make(Errc::Format, "newc member '%s' at offset 0x%zx appears twice",
                               std::string(path).c_str(), at);
        e.data = TRY(r.bytes(filesize, "file data"));
        TRY(align(r, "data padding"));
        e.path = std::string(path);
        entries.push_back(std::move(e));
    }
    // The kernel skips zero bytes between archives; anything else after our trailer is not ours.
    size_t end = r.offset();
    ByteView rest = TRY(r.bytes(r.remaining(), "trailing bytes"));
    if (!all_zero(rest))
        return Error::make(Errc::Format,
                           "newc archive: %zu bytes after the trailer at offset 0x%zx are not zero padding",
                           rest.size(), end);
    return entries;
}

}  // namespace cvm::initramfs
