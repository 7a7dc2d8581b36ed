#include "fw_cfg_file.h"

#include <sys/stat.h>

#include <cerrno>

#include "base/file.h"
#include "kernel-cmdline/values.h"

namespace cvm::agent {
namespace {

bool exists(const std::string& path)
{
    struct stat st {};
    return stat(path.c_str(), &st) == 0;
}

Error failed(FwCfgFailure* out, FwCfgFailure failure, Error error)
{
    if (out)
        *out = failure;
    return error;
}

}  // namespace

Result<Bytes> read_fw_cfg_file(const std::string& sysfs, std::string_view name, size_t max_size, FwCfgFailure* failure)
{
    if (failure)
        *failure = FwCfgFailure::None;
    std::string file = sysfs + "/by_name/" + std::string(name);
    if (!exists(sysfs))
        return failed(
            failure, FwCfgFailure::NoDriver,
            Error::make(Errc::Config, "%s does not exist: the qemu_fw_cfg module is not loaded", sysfs.c_str()));
    if (!exists(sysfs + "/by_name"))
        return failed(failure, FwCfgFailure::NoDevice,
                      Error::make(Errc::Config, "%s/by_name does not exist: no QEMU fw_cfg device", sysfs.c_str()));
    if (!exists(file + "/raw"))
        return failed(failure, FwCfgFailure::NoFile,
                      Error::from_errno(Errc::Config, errno, "%s/raw does not exist", file.c_str()));

    // "%u\n": ten digits and the newline at most.
    auto size_text = read_text_file(file + "/size", 16);
    if (!size_text)
        return failed(failure, FwCfgFailure::Unreadable, size_text.release_error());
    std::string_view digits = size_text.value();
    if (!digits.empty() && digits.back() == '\n')
        digits.remove_suffix(1);
    auto size = cmdline::parse_decimal(digits, UINT32_MAX);
    if (!size)
        return failed(failure, FwCfgFailure::Unreadable,
                      Error::make(Errc::Format, "%s/size: expected a decimal size", file.c_str()));
    if (*size > max_size)
        return failed(
            failure, FwCfgFailure::TooLarge,
            Error::make(Errc::Format, "%s: %u bytes, more than the %zu allowed", file.c_str(), *size, max_size));
    auto raw = read_file(file + "/raw", max_size);
    if (!raw)
        return failed(failure, FwCfgFailure::Unreadable, raw.release_error());
    if (raw->size() != *size)
        return failed(
            failure, FwCfgFailure::Unreadable,
            Error::make(Errc::Format, "%s/raw: %zu bytes read, but its size is %u", file.c_str(), raw->size(), *size));
    return raw.release_value();
}

}  // namespace cvm::agent
