// An on-disk cache of KDS answers: one file per object, written atomically (temporary file,
// fsync, rename), so concurrent readers and writers — threads or processes — see whole entries.
//
// File names (keys):
//   vcek-{Product}-{hwid hex}-fmc{F}-bl{B}-tee{T}-snp{S}-ucode{U}.der   one VCEK per chip and full TCB
//   {vcek|vlek}-{Product}-cert_chain.pem                                 one chain per product
//   {vcek|vlek}-{Product}-crl.der                                        one CRL per product
// Each file holds a 20-byte header and the bytes KDS sent:
//   0x00  8  magic "CVMKDS1\n"
//   0x08  8  fetch time, seconds since the Unix epoch (u64 little-endian, two's complement)
//   0x10  4  payload length (u32 little-endian); the payload follows and ends the file
// The cache stores untrusted bytes as received; whoever uses them verifies them.
#pragma once

#include <optional>
#include <string>

#include "base/bytes.h"
#include "base/result.h"
#include "kds/kds_url.h"

namespace cvm::kds {

inline constexpr size_t CACHE_HEADER_SIZE = 20;

struct CacheEntry {
    Bytes data;
    int64_t fetched_at{0};
};

std::string vcek_cache_key(const VcekId& id);
std::string cert_chain_cache_key(snp::Product product, KeyFamily family);
std::string crl_cache_key(snp::Product product, KeyFamily family);

class KdsCache {
public:
    // Uses `dir`, creating it (mode 0700) if it does not exist. Errc::Io if that fails.
    static Result<KdsCache> open(std::string dir);

    const std::string& dir() const { return m_dir; }
    std::string path(const std::string& key) const { return m_dir + "/" + key; }

    // nullopt when there is no entry. An entry that is not in the format above, or whose payload
    // exceeds `max_size`, fails with Errc::Format naming the file.
    Result<std::optional<CacheEntry>> load(const std::string& key, size_t max_size) const;

    Result<void> store(const std::string& key, ByteView data, int64_t fetched_at) const;

private:
    explicit KdsCache(std::string dir) : m_dir(std::move(dir)) {}
    std::string m_dir;
};

}  // namespace cvm::kds
