#include "fake_configfs_tsm.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <unistd.h>

namespace cvm::test {

namespace {

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

Error kernel_error(int err, const std::string& path, const char* why)
{
    return Error::from_errno(Errc::Io, err, "cannot read %s: %s (%s)", path.c_str(), strerror(err), why);
}

}  // namespace

FakeConfigfsTsm::FakeConfigfsTsm(std::string root, const sim::SimulatedPsp& psp)
        : m_root(std::move(root)), m_psp(psp), m_real(agent::system_configfs_files())
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

Result<void> FakeConfigfsTsm::make_dir(const std::string& path)
{
    if (path.rfind(m_root + "/", 0) != 0 || path.find('/', m_root.size() + 1) != std::string::npos)
        return Error::from_errno(Errc::Io, EPERM, "fake configfs: mkdir %s outside the report group", path.c_str());
    TRY(m_real.make_dir(path));
    TRY(put_text(path + "/provider", provider));
    TRY(put_text(path + "/generation", "0\n"));
    TRY(put_text(path + "/privlevel_floor", "0\n"));
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

Result<void> FakeConfigfsTsm::write(const std::string& path, ByteView data)
{
    std::string dir, attribute;
    Entry* entry = entry_of(path, dir, attribute);
    if (entry && attribute == "privlevel") {
        // tsm_report_privlevel_store: kstrtouint, then floor <= value <= TSM_PRIVLEVEL_MAX (3).
        std::string text(data.begin(), data.end());
        char* end = nullptr;
        unsigned long value = strtoul(text.c_str(), &end, 0);
        if (text.empty() || (*end != '\0' && *end != '\n') || value > 3)
            return Error::from_errno(Errc::Io, EINVAL, "cannot write %s: Invalid argument", path.c_str());
        entry->privlevel = static_cast<unsigned>(value);
    }
    TRY(m_real.write(path, data));
    if (entry && (attribute == "privlevel" || attribute == "inblob")) {
        entry->generation += 1;
        entry->stale = true;
        TRY(put_text(dir + "/generation", std::to_string(entry->generation) + "\n"));
    }
    return {};
}

Result<void> FakeConfigfsTsm::generate(const std::string& dir, Entry& entry)
{
    Bytes inblob = TRY(m_real.read(dir + "/inblob", 4096));
    if (inblob.size() != 64)  // sev_report_new: inblob_len != SNP_REPORT_USER_DATA_SIZE
        return kernel_error(EINVAL, dir + "/outblob", "inblob is not 64 bytes");
    std::array<uint8_t, 64> report_data;
    memcpy(report_data.data(), inblob.data(), 64);
    Bytes report = TRY(m_psp.get_report(report_data, entry.privlevel));
    if (tamper)
        tamper(report);
    TRY(put_file(dir + "/outblob", report));
    if (auxblob_visible)
        TRY(put_file(dir + "/auxblob", auxblob ? *auxblob : m_psp.cert_table()));
    ++reports_generated;
    last_privlevel = entry.privlevel;
    entry.stale = false;
    if (concurrent_writes > 0) {
        entry.generation += static_cast<unsigned long>(concurrent_writes);
        TRY(put_text(dir + "/generation", std::to_string(entry.generation) + "\n"));
    }
    return {};
}

Result<Bytes> FakeConfigfsTsm::read(const std::string& path, size_t max_size)
{
    std::string dir, attribute;
    Entry* entry = entry_of(path, dir, attribute);
    if (entry && (attribute == "outblob" || attribute == "auxblob")) {
        if (entry->generation == 0)  // tsm_report_read: no inblob written yet
            return kernel_error(EINVAL, path, "no inblob");
        if (entry->stale)
            TRY(generate(dir, *entry));
    }
    return m_real.read(path, max_size);
}

}  // namespace cvm::test
