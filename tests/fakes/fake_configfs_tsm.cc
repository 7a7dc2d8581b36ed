#include "fake_configfs_tsm.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <unistd.h>

namespace cvm::test {

namespace {

constexpr size_t TSM_INBLOB_MAX = 64;      // include/linux/tsm.h
constexpr unsigned TSM_PRIVLEVEL_MAX = 3;  // include/linux/tsm.h (TSM_REPORT_PRIVLEVEL_MAX in mainline)

// Creates or replaces a file with `data` (the fake kernel's own writes, not the provider's).
Result<void> put_file(const std::string& path, ByteView data)
{
    FILE* f = fopen(path.c_str(), "wb");
    if (!f)
        return Error::from_errno(Errc::Io, errno, "fake configfs: cannot create %s", path.c_str());
    size_t n = data.empty() ? 0 : fwrite(data.data(), 1, data.size(), f);
    if (fclose(f) != 0 || n != data.size())
        return Error::make(Errc::Io, "fake configfs: cannot write %s", path.c_str());
    return {};
}

Result<void> put_text(const std::string& path, const std::string& text)
{
    return put_file(path, as_bytes(text));
}

// The errors as the real file operations word them (configfs_files.cc, base/file.cc).
Error errno_error(int err, const char* what, const std::string& path)
{
    return Error::from_errno(Errc::Io, err, "cannot %s %s: %s", what, path.c_str(), strerror(err));
}

// kstrtouint(buf, 0, &val): an optional "0x"/"0" base prefix, digits, at most one trailing newline.
std::optional<unsigned> kstrtouint(const std::string& text)
{
    std::string digits = !text.empty() && text.back() == '\n' ? text.substr(0, text.size() - 1) : text;
    if (digits.empty() || digits[0] == '-' || digits[0] == '+' || digits[0] == ' ')
        return std::nullopt;
    char* end = nullptr;
    errno = 0;
    unsigned long value = strtoul(digits.c_str(), &end, 0);
    if (errno != 0 || *end != '\0' || value > 0xffffffffu)
        return std::nullopt;
    return static_cast<unsigned>(value);
}

}  // namespace

FakeConfigfsTsm::FakeConfigfsTsm(std::string root, FakeSevGuest& sev_guest)
        : m_root(std::move(root)), m_sev_guest(sev_guest), m_real(agent::system_configfs_files())
{
}

FakeConfigfsTsm::Entry* FakeConfigfsTsm::entry_of(const std::string& path, std::string& dir, std::string& attribute)
{
    size_t slash = path.rfind('/');
    if (slash == std::string::npos)
        return nullptr;
    dir = path.substr(0, slash);
    attribute = path.substr(slash + 1);
    auto it = m_entries.find(dir);
    return it == m_entries.end() ? nullptr : &it->second;
}

// tsm_report_make_item(), then configfs populating the visible attributes.
Result<void> FakeConfigfsTsm::make_dir(const std::string& path)
{
    if (path.rfind(m_root + "/", 0) != 0 || path.find('/', m_root.size() + 1) != std::string::npos)
        return errno_error(EPERM, "create directory", path);
    if (!provider_registered)  // "if (!provider.ops) return ERR_PTR(-ENXIO)"
        return errno_error(ENXIO, "create directory", path);
    TRY(m_real.make_dir(path));
    TRY(put_text(path + "/provider", provider));
    TRY(put_text(path + "/generation", "0\n"));
    TRY(put_text(path + "/privlevel_floor", std::to_string(privlevel_floor) + "\n"));
    TRY(put_text(path + "/inblob", ""));
    TRY(put_text(path + "/outblob", ""));
    if (privlevel_visible)
        TRY(put_text(path + "/privlevel", ""));
    if (auxblob_visible)
        TRY(put_text(path + "/auxblob", ""));
    m_entries[path] = Entry{};
    entries_made.push_back(path);
    return {};
}

Result<void> FakeConfigfsTsm::remove_dir(const std::string& path)
{
    for (const char* attribute :
         {"provider", "generation", "privlevel_floor", "privlevel", "inblob", "outblob", "auxblob"})
        unlink((path + "/" + attribute).c_str());
    m_entries.erase(path);
    return m_real.remove_dir(path);
}

bool FakeConfigfsTsm::exists(const std::string& path)
{
    return m_real.exists(path);
}

// try_advance_write_generation(), and the generation attribute that shows it.
Result<void> FakeConfigfsTsm::advance_generation(const std::string& dir, Entry& entry)
{
    entry.write_generation += 1;
    return put_text(dir + "/generation", std::to_string(entry.write_generation) + "\n");
}

Result<void> FakeConfigfsTsm::write(const std::string& path, ByteView data)
{
    std::string dir, attribute;
    Entry* entry = entry_of(path, dir, attribute);
    if (!entry || (attribute != "privlevel" && attribute != "inblob"))
        return m_real.write(path, data);
    if (attribute == "privlevel") {
        // A text attribute: tsm_report_privlevel_store() runs at write(2), its error is write's.
        auto value = kstrtouint(std::string(data.begin(), data.end()));
        if (!value || privlevel_floor > *value || *value > TSM_PRIVLEVEL_MAX)
            return errno_error(EINVAL, "write", path);
        TRY(m_real.write(path, data));
        entry->privlevel = *value;
        return advance_generation(dir, *entry);
    }
    if (data.empty())  // open and close without write(2): nothing is stored
        return m_real.write(path, data);
    if (data.size() > TSM_INBLOB_MAX) {
        // configfs_bin_write_iter: EFBIG, but write_in_progress is already set, so the release
        // still stores the (empty) buffer: inblob_len = 0 and the generation moves.
        entry->inblob.clear();
        TRY(advance_generation(dir, *entry));
        return errno_error(EFBIG, "write", path);
    }
    TRY(m_real.write(path, data));
    entry->inblob.assign(data.begin(), data.end());  // tsm_report_inblob_write() at release
    return advance_generation(dir, *entry);
}

// tsm_report_read(): the cached report, or a new one from the provider.
Result<void> FakeConfigfsTsm::read_report(const std::string& dir, Entry& entry, const std::string& path)
{
    if (entry.inblob.empty())  // read_cached_report: "if (!report->desc.inblob_len) return -EINVAL"
        return errno_error(EINVAL, "read", path);
    if (entry.outblob && entry.read_generation == entry.write_generation)
        return {};
    entry.outblob.reset();
    entry.auxblob.reset();
    Bytes outblob, auxblob;
    int rc = m_sev_guest.report_new(entry.inblob, entry.privlevel, outblob, auxblob);
    if (rc != 0)
        return errno_error(rc, "read", path);
    if (tamper)
        tamper(outblob);
    entry.outblob = outblob;
    entry.auxblob = auxblob;
    entry.read_generation = entry.write_generation;
    TRY(put_file(dir + "/outblob", outblob));
    if (auxblob_visible)
        TRY(put_file(dir + "/auxblob", auxblob));
    ++reports_generated;
    last_privlevel = entry.privlevel;
    for (; concurrent_writes > 0; --concurrent_writes) {  // another process rewrites inblob meanwhile
        entry.inblob.assign(TSM_INBLOB_MAX, 0x99);
        TRY(advance_generation(dir, entry));
    }
    return {};
}

Result<Bytes> FakeConfigfsTsm::read(const std::string& path, size_t max_size)
{
    std::string dir, attribute;
    Entry* entry = entry_of(path, dir, attribute);
    if (entry && (attribute == "outblob" || attribute == "auxblob"))
        TRY(read_report(dir, *entry, path));
    return m_real.read(path, max_size);
}

}  // namespace cvm::test
