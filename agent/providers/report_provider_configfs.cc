#include "providers/report_provider_configfs.h"

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <string_view>
#include <sys/stat.h>
#include <unistd.h>

#include "providers/evidence_check.h"
#include "snp/cert_table.h"
#include "snp/report.h"

namespace cvm::agent {

namespace {

// sev_guest's tsm_ops name, as the `provider` attribute shows it (sysfs_emit "%s\n").
constexpr std::string_view SEV_GUEST_PROVIDER = "sev_guest\n";
constexpr size_t ATTRIBUTE_MAX = 64;  // provider and generation are short text lines
constexpr int MAX_NAME_ATTEMPTS = 8;

std::string printable(const Bytes& text)
{
    std::string out;
    for (uint8_t c : text) {
        if (c == '\n')
            out += "\\n";
        else
            out += (c >= 0x20 && c < 0x7f) ? static_cast<char>(c) : '?';
    }
    return out;
}

// The generation attribute: a decimal unsigned long and a newline (tsm.c, sysfs_emit "%lu\n").
Result<unsigned long> read_generation(ConfigfsFiles& files, const std::string& entry)
{
    std::string path = entry + "/generation";
    Bytes text = TRY(files.read(path, ATTRIBUTE_MAX));
    unsigned long value = 0;
    size_t i = 0;
    for (; i < text.size() && text[i] >= '0' && text[i] <= '9'; ++i) {
        if (value > (~0ul - 9) / 10)
            return Error::make(Errc::Format, "%s: number out of range", path.c_str());
        value = value * 10 + (text[i] - '0');
    }
    if (i == 0 || i + 1 != text.size() || text[i] != '\n')
        return Error::make(Errc::Format, "%s is '%s', expected a decimal number and a newline", path.c_str(),
                           printable(text).c_str());
    return value;
}

// "...or it can prevent conflicts by creating a report instance per requesting context": a name
// no other process uses, and a fresh one if a stale entry has it. mkdir's errno is kept.
Result<std::string> make_entry(ConfigfsFiles& files, const std::string& root, const char* kind)
{
    static std::atomic<unsigned> counter{0};
    for (int attempt = 0;; ++attempt) {
        std::string entry = root + "/cvminit-" + kind + std::to_string(getpid()) + "-" + std::to_string(counter++);
        auto made = files.make_dir(entry);
        if (made)
            return entry;
        if (made.error().errno_value() != EEXIST || attempt + 1 == MAX_NAME_ATTEMPTS)
            return made.release_error();
    }
}

}  // namespace

ConfigfsTsmProvider::ConfigfsTsmProvider(std::string root, ConfigfsFiles& files)
        : m_root(std::move(root)), m_files(files)
{
}

ConfigfsTsmProvider::Probe ConfigfsTsmProvider::probe(const std::string& root, ConfigfsFiles& files)
{
    struct stat st {};
    if (stat(root.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
        return {State::Missing, 0};
    auto entry = make_entry(files, root, "probe-");
    if (!entry)
        return {State::NoProvider, entry.error().errno_value()};
    // A probe entry that cannot be removed is left behind; the provider still answers.
    (void)files.remove_dir(entry.value());
    return {State::Ready, 0};
}

Result<DerivedKey> ConfigfsTsmProvider::derive_key(const DerivedKeyRequest&)
{
    return Error::make(Errc::Unsupported,
                       "configfs-tsm has no derived keys: Linux's TSM report interface only makes reports "
                       "(SNP_GET_DERIVED_KEY is an ioctl of /dev/sev-guest)");
}

Result<Evidence> ConfigfsTsmProvider::get_report(const ReportData& report_data)
{
    m_outblob_eio = false;
    std::string entry = TRY_PREFIX(make_entry(m_files, m_root, ""), "configfs-tsm: cannot create a report entry");
    Result<Evidence> result = request(entry, report_data);
    auto removed = m_files.remove_dir(entry);
    if (!result.ok())
        return result;
    if (!removed.ok())
        return removed.release_error().prefix("configfs-tsm: cannot remove report entry %s", entry.c_str());
    return result;
}

Result<Evidence> ConfigfsTsmProvider::request(const std::string& entry, const ReportData& report_data)
{
    Bytes provider = TRY(m_files.read(entry + "/provider", ATTRIBUTE_MAX));
    if (std::string_view(reinterpret_cast<const char*>(provider.data()), provider.size()) != SEV_GUEST_PROVIDER)
        return Error::make(Errc::Unsupported, "%s/provider is '%s', expected 'sev_guest\\n' (not an SEV-SNP guest)",
                           entry.c_str(), printable(provider).c_str());

    unsigned long before = TRY(read_generation(m_files, entry));
    unsigned long writes = 0;
    // VMPL 0, as /dev/sev-guest asks for; the attribute exists only when the TSM has the concept.
    if (m_files.exists(entry + "/privlevel")) {
        TRY(m_files.write(entry + "/privlevel", as_bytes("0")));
        ++writes;
    }
    TRY(m_files.write(entry + "/inblob", report_data));
    ++writes;
    auto read_outblob = m_files.read(entry + "/outblob", snp::REPORT_SIZE);
    if (!read_outblob.ok()) {
        int err = read_outblob.error().errno_value();
        m_outblob_eio = err == EIO;
        // sev_report_new() checks is_vmpck_empty() first: ENOTTY, "Inappropriate ioctl for device".
        if (err == ENOTTY)
            return read_outblob.release_error().prefix(
                "configfs-tsm: the VMPCK was wiped by an earlier failure; reboot to attest again");
        return read_outblob.release_error();
    }
    Bytes outblob = read_outblob.release_value();
    Bytes auxblob;
    if (m_files.exists(entry + "/auxblob"))
        auxblob = TRY(m_files.read(entry + "/auxblob", snp::CERT_TABLE_MAX_SIZE));
    unsigned long after = TRY(read_generation(m_files, entry));
    if (after != before + writes)
        return Error::make(Errc::Io,
                           "%s/generation moved from %lu to %lu, expected %lu: another writer used the entry, "
                           "the report may not be for our inblob",
                           entry.c_str(), before, after, before + writes);

    std::string source = entry + "/outblob";
    TRY(check_report(outblob, report_data, 0, source.c_str()));
    source = entry + "/auxblob";
    Bytes table = TRY(normalize_cert_table(auxblob, source.c_str()));
    return Evidence{std::move(outblob), std::move(table), PROVIDER_CONFIGFS_TSM};
}

}  // namespace cvm::agent
