#include "kds/cache.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>

#include "base/file.h"
#include "base/reader.h"

namespace cvm::kds {

namespace {

constexpr char MAGIC[8] = {'C', 'V', 'M', 'K', 'D', 'S', '1', '\n'};

std::string product_part(snp::Product product, KeyFamily family)
{
    return std::string(key_family_name(family)) + "-" + std::string(product_name(product));
}

}  // namespace

std::string vcek_cache_key(const VcekId& id)
{
    const snp::TcbVersion& t = id.tcb;
    return "vcek-" + std::string(product_name(id.product)) + "-" + to_hex(id.hwid) + "-fmc" + std::to_string(t.fmc) +
           "-bl" + std::to_string(t.boot_loader) + "-tee" + std::to_string(t.tee) + "-snp" + std::to_string(t.snp) +
           "-ucode" + std::to_string(t.microcode) + ".der";
}

std::string cert_chain_cache_key(snp::Product product, KeyFamily family)
{
    return product_part(product, family) + "-cert_chain.pem";
}

std::string crl_cache_key(snp::Product product, KeyFamily family)
{
    return product_part(product, family) + "-crl.der";
}

Result<KdsCache> KdsCache::open(std::string dir)
{
    if (dir.empty())
        return Error::make(Errc::Config, "the KDS cache directory is empty");
    if (mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST)
        return Error::from_errno(Errc::Io, errno, "cannot create the KDS cache directory %s: %s", dir.c_str(),
                                 strerror(errno));
    struct stat st {};
    if (stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
        return Error::make(Errc::Io, "the KDS cache %s is not a directory", dir.c_str());
    return KdsCache(std::move(dir));
}

Result<std::optional<CacheEntry>> KdsCache::load(const std::string& key, size_t max_size) const
{
    std::string file = path(key);
    if (access(file.c_str(), F_OK) != 0 && errno == ENOENT)
        return std::optional<CacheEntry>();
    auto raw = read_file(file, CACHE_HEADER_SIZE + max_size);
    if (!raw.ok())
        return raw.release_error().prefix("KDS cache entry");
    Reader r(raw.value(), file.c_str());
    auto magic = TRY(r.array<8>("magic"));
    if (memcmp(magic.data(), MAGIC, sizeof MAGIC) != 0)
        return Error::make(Errc::Format, "%s is not a KDS cache entry (bad magic)", file.c_str());
    CacheEntry entry;
    entry.fetched_at = static_cast<int64_t>(TRY(r.u64le("fetch time")));
    uint32_t length = TRY(r.u32le("payload length"));
    ByteView payload = TRY(r.bytes(length, "payload"));
    TRY(r.finish());
    entry.data.assign(payload.begin(), payload.end());
    return std::optional<CacheEntry>(std::move(entry));
}

Result<void> KdsCache::store(const std::string& key, ByteView data, int64_t fetched_at) const
{
    if (data.size() > UINT32_MAX)
        return Error::make(Errc::Config, "KDS cache entry %s: %zu bytes is too large", key.c_str(), data.size());
    Bytes file(CACHE_HEADER_SIZE + data.size());
    memcpy(file.data(), MAGIC, sizeof MAGIC);
    put_le64(file.data() + 8, static_cast<uint64_t>(fetched_at));
    put_le32(file.data() + 16, static_cast<uint32_t>(data.size()));
    memcpy(file.data() + CACHE_HEADER_SIZE, data.data(), data.size());
    return write_file_atomic(path(key), file, 0600);
}

}  // namespace cvm::kds
