// The newc writer; see cpio.h for the layout rules that make its output reproducible.
#include "initramfs/cpio.h"

#include "initramfs/exec_format.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/file.h"

namespace cvm::initramfs {

namespace {

constexpr size_t COPY_CHUNK = 256 * 1024;

uint64_t align4(uint64_t n)
{
    return (n + NEWC_ALIGN - 1) & ~uint64_t(NEWC_ALIGN - 1);
}

// Bytes one member takes: header and name padded to 4, then data padded to 4.
uint64_t member_bytes(size_t name_size, uint64_t data_size)
{
    return align4(NEWC_HEADER_SIZE + name_size + 1) + align4(data_size);
}

// "all fields contain hexadecimal ASCII numbers fully padded with '0' on the left to the full
// width of the field" (buffer-format.rst).
void put_hex8(std::string& out, uint32_t v)
{
    static constexpr char DIGITS[] = "0123456789ABCDEF";
    for (int shift = 28; shift >= 0; shift -= 4)
        out.push_back(DIGITS[(v >> shift) & 0xf]);
}

// Writes members and keeps the running offset for the 4-byte alignment.
class NewcOut {
public:
    explicit NewcOut(Sink& sink) : m_sink(sink) {}

    Result<void> header(uint32_t ino, uint32_t mode, uint32_t nlink, uint32_t mtime, uint32_t filesize,
                        std::string_view name)
    {
        std::string h;
        h.reserve(NEWC_HEADER_SIZE + name.size() + 1 + NEWC_ALIGN);
        h.append(NEWC_MAGIC);
        for (uint32_t field :
             {ino, mode, 0u /* uid */, 0u /* gid */, nlink, mtime, filesize, 0u /* maj */, 0u /* min */, 0u /* rmaj */,
              0u /* rmin */, static_cast<uint32_t>(name.size() + 1), 0u /* chksum: "070701" has none */})
            put_hex8(h, field);
        h.append(name);
        h.push_back('\0');
        TRY(data(as_bytes(h)));
        return pad();
    }

    Result<void> data(ByteView bytes)
    {
        m_offset += bytes.size();
        return m_sink.write(bytes);
    }

    Result<void> pad()
    {
        static constexpr uint8_t ZEROS[NEWC_ALIGN] = {};
        return data(ByteView(ZEROS, align4(m_offset) - m_offset));
    }

private:
    Sink& m_sink;
    uint64_t m_offset{0};
};

// Streams a host file's bytes, refusing a file that is not the inode, or not the size, recorded
// when it was added: what is measured must be exactly what was chosen.
Result<void> copy_host_file(const Archive::HostFile& host, uint64_t size, Bytes& buffer, NewcOut& out)
{
    // O_NONBLOCK: a FIFO swapped in for the file must not hang the build (no effect on files).
    UniqueFd fd(open(host.path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK));
    if (!fd.valid())
        return Error::from_errno(Errc::Io, errno, "cannot open %s: %s", host.path.c_str(), strerror(errno));
    struct stat st {};
    if (fstat(fd.get(), &st) != 0)
        return Error::from_errno(Errc::Io, errno, "cannot stat %s: %s", host.path.c_str(), strerror(errno));
    if (!S_ISREG(st.st_mode) || st.st_dev != host.dev || st.st_ino != host.ino ||
        static_cast<uint64_t>(st.st_size) != size)
        return Error::make(Errc::Io, "%s changed while the initramfs was being built", host.path.c_str());
    for (uint64_t left = size; left != 0;) {
        size_t want = static_cast<size_t>(std::min<uint64_t>(left, buffer.size()));
        size_t n = TRY(read_some(fd.get(), std::span<uint8_t>(buffer).first(want), host.path));
        if (n == 0)
            return Error::make(Errc::Io, "%s shrank while the initramfs was being built", host.path.c_str());
        TRY(out.data(ByteView(buffer).first(n)));
        left -= n;
    }
    size_t extra = TRY(read_some(fd.get(), std::span<uint8_t>(buffer).first(1), host.path));
    if (extra != 0)
        return Error::make(Errc::Io, "%s grew while the initramfs was being built", host.path.c_str());
    return {};
}

}  // namespace

Result<std::string> normalize_path(std::string_view path)
{
    if (path.find('\0') != std::string_view::npos)
        return Error::make(Errc::Config, "initramfs path contains a NUL byte");
    std::string out;
    for (size_t at = 0; at <= path.size();) {
        size_t end = path.find('/', at);
        if (end == std::string_view::npos)
            end = path.size();
        std::string_view part = path.substr(at, end - at);
        at = end + 1;
        if (part.empty() || part == ".")
            continue;
        if (part == "..")
            return Error::make(Errc::Config, "initramfs path '%.*s' contains '..', refusing",
                               static_cast<int>(std::min<size_t>(path.size(), 160)), path.data());
        if (part.size() > MAX_COMPONENT_BYTES)
            return Error::make(Errc::Config, "initramfs path has a component of %zu bytes (at most %zu)", part.size(),
                               MAX_COMPONENT_BYTES);
        if (!out.empty())
            out.push_back('/');
        out.append(part);
    }
    if (out.empty())
        return Error::make(Errc::Config, "initramfs path '%.*s' names the root, expected a file below it",
                           static_cast<int>(std::min<size_t>(path.size(), 160)), path.data());
    if (out.size() > MAX_PATH_BYTES)
        return Error::make(Errc::Config, "initramfs path of %zu bytes is longer than %zu", out.size(), MAX_PATH_BYTES);
    // A member named "TRAILER!!!" ends the archive, and a path below it would imply one.
    if (out.substr(0, out.find('/')) == TRAILER_NAME)
        return Error::make(Errc::Config, "initramfs path 'TRAILER!!!' would end the archive, refusing");
    return out;
}

Result<void> Archive::insert(std::string_view raw, Entry entry)
{
    std::string path = TRY(normalize_path(raw));
    // Check everything before changing anything, so a refused add leaves the archive as it was.
    std::vector<std::string> missing;
    for (size_t slash = path.find('/'); slash != std::string::npos; slash = path.find('/', slash + 1)) {
        std::string parent = path.substr(0, slash);
        auto it = m_entries.find(parent);
        if (it == m_entries.end())
            missing.push_back(std::move(parent));
        else if (it->second.type != EntryType::Directory)
            return Error::make(Errc::Config, "cannot add %s: %s is not a directory", path.c_str(), parent.c_str());
    }
    auto it = m_entries.find(path);
    if (it != m_entries.end()) {
        if (it->second.implied && entry.type == EntryType::Directory) {
            it->second.implied = false;
            return {};
        }
        return Error::make(Errc::Config, "%s is added twice%s", path.c_str(),
                           it->second.implied ? " (it is the parent directory of another entry)" : "");
    }
    uint64_t bytes = member_bytes(path.size(), entry.size);
    for (const std::string& parent : missing)
        bytes += member_bytes(parent.size(), 0);
    if (m_entries.size() + missing.size() + 1 > MAX_ENTRIES)
        return Error::make(Errc::Config, "the initramfs would have more than %zu entries", MAX_ENTRIES);
    if (archive_bytes() + bytes > MAX_ARCHIVE_BYTES)
        return Error::make(Errc::Config, "adding %s makes the initramfs larger than %llu bytes", path.c_str(),
                           static_cast<unsigned long long>(MAX_ARCHIVE_BYTES));
    for (std::string& parent : missing) {
        Entry dir;
        dir.implied = true;
        m_entries.emplace(std::move(parent), std::move(dir));
    }
    m_entries.emplace(std::move(path), std::move(entry));
    m_data_bytes += bytes;
    return {};
}

uint64_t Archive::archive_bytes() const
{
    return m_data_bytes + member_bytes(TRAILER_NAME.size(), 0);
}

Result<void> Archive::add_directory(std::string_view path)
{
    return insert(path, Entry{});
}

Result<void> Archive::add_file(std::string_view path, Bytes contents, Exec exec)
{
    Entry e;
    e.type = EntryType::File;
    e.mode = exec == Exec::Yes ? MODE_EXECUTABLE : MODE_FILE;
    e.size = contents.size();
    if (e.size > MAX_FILE_BYTES)
        return Error::make(Errc::Config, "initramfs file of %zu bytes is larger than newc allows", contents.size());
    e.data = std::move(contents);
    return insert(path, std::move(e));
}

Result<void> Archive::add_symlink(std::string_view path, std::string_view target)
{
    if (target.empty() || target.size() > MAX_PATH_BYTES || target.find('\0') != std::string_view::npos)
        return Error::make(Errc::Config, "symlink target for %.*s must be 1..%zu bytes without NUL",
                           static_cast<int>(std::min<size_t>(path.size(), 160)), path.data(), MAX_PATH_BYTES);
    Entry e;
    e.type = EntryType::Symlink;
    e.mode = MODE_SYMLINK;
    e.size = target.size();
    e.data.assign(target.begin(), target.end());
    return insert(path, std::move(e));
}

Result<void> Archive::add_host_file(std::string_view path, const std::string& host_path, std::optional<Exec> exec)
{
    struct stat st {};
    if (stat(host_path.c_str(), &st) != 0)
        return Error::from_errno(Errc::Io, errno, "cannot stat %s: %s", host_path.c_str(), strerror(errno));
    if (!S_ISREG(st.st_mode))
        return Error::make(Errc::Config, "%s is not a regular file", host_path.c_str());
    Exec mode = exec ? *exec : (st.st_mode & 0111) != 0 ? Exec::Yes : Exec::No;
    return add_host_file(path, HostFile{host_path, st.st_dev, st.st_ino}, static_cast<uint64_t>(st.st_size), mode);
}

Result<void> Archive::add_host_file(std::string_view path, HostFile host, uint64_t size, Exec exec)
{
    if (size > MAX_FILE_BYTES)
        return Error::make(Errc::Config, "%s is larger than the %llu bytes newc allows", host.path.c_str(),
                           static_cast<unsigned long long>(MAX_FILE_BYTES));
    Entry e;
    e.type = EntryType::File;
    e.mode = exec == Exec::Yes ? MODE_EXECUTABLE : MODE_FILE;
    e.size = size;
    e.host = std::move(host);
    return insert(path, std::move(e));
}

std::optional<Archive::Found> Archive::find(std::string_view path) const
{
    auto it = m_entries.find(std::string(path));
    if (it == m_entries.end())
        return std::nullopt;
    const Entry& e = it->second;
    return Found{e.type, e.mode, e.type == EntryType::Symlink ? std::string(e.data.begin(), e.data.end()) : ""};
}

Result<Bytes> Archive::read_head(std::string_view path, size_t max) const
{
    auto it = m_entries.find(std::string(path));
    if (it == m_entries.end() || it->second.type != EntryType::File)
        return Error::make(Errc::Config, "/%.*s is not a file in the archive", static_cast<int>(path.size()),
                           path.data());
    const Entry& e = it->second;
    if (!e.host)
        return Bytes(e.data.begin(), e.data.begin() + static_cast<ptrdiff_t>(std::min(max, e.data.size())));
    return initramfs::read_head(e.host->path, max);
}

Result<void> Archive::write(Sink& out, uint32_t mtime) const
{
    NewcOut newc(out);
    Bytes buffer(COPY_CHUNK);
    uint32_t ino = 1;
    for (const auto& [path, e] : m_entries) {
        uint32_t nlink = e.type == EntryType::Directory ? 2 : 1;
        // Sizes were bounded by MAX_FILE_BYTES when added.
        TRY(newc.header(ino++, e.mode, nlink, mtime, static_cast<uint32_t>(e.size), path));
        if (e.host)
            TRY(copy_host_file(*e.host, e.size, buffer, newc));
        else
            TRY(newc.data(e.data));
        TRY(newc.pad());
    }
    // "If the filename is "TRAILER!!!" this is actually an end-of-archive marker; the c_filesize
    // for an end-of-archive marker must be zero." Its other fields as GNU cpio writes them.
    TRY(newc.header(0, 0, 1, 0, 0, TRAILER_NAME));
    return out.finish();
}

}  // namespace cvm::initramfs
