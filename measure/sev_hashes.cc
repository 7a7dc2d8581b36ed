#include "measure/sev_hashes.h"

#include <cstdlib>
#include <cstring>

#include "measure/bzimage.h"

namespace cvm::measure {

namespace {

void put_entry(uint8_t* at, const Guid& g, const crypto::Sha256Digest& hash)
{
    memcpy(at, g.bytes.data(), g.bytes.size());
    at[16] = SEV_HASH_TABLE_ENTRY_SIZE;
    at[17] = 0;
    memcpy(at + 18, hash.data(), hash.size());
}

}  // namespace

crypto::Sha256Digest cmdline_hash(std::string_view append)
{
    crypto::Sha256 h;
    h.update(as_bytes(append));
    const uint8_t nul = 0;
    h.update(ByteView(&nul, 1));
    return h.finish();
}

Result<KernelHashes> hash_kernel_inputs(const std::string& kernel, const std::optional<std::string>& initrd,
                                        std::string_view append)
{
    TRY(check_bzimage(kernel));
    KernelHashes out;
    out.cmdline = cmdline_hash(append);
    if (!initrd) {
        out.initrd = crypto::Sha256::of({});
        out.kernel = TRY(crypto::sha256_file(kernel));
        return out;
    }
    // Kernel and initrd on two threads: the initrd is often hundreds of MiB.
    auto [kernel_hash, initrd_hash] = TRY(crypto::sha256_files_parallel(kernel, *initrd));
    out.kernel = kernel_hash;
    out.initrd = initrd_hash;
    return out;
}

PaddedSevHashTable build_sev_hash_table(const KernelHashes& h)
{
    PaddedSevHashTable t{};
    memcpy(t.data(), SEV_HASH_TABLE_HEADER_GUID.bytes.data(), 16);
    t[0x10] = SEV_HASH_TABLE_SIZE;
    t[0x11] = 0;
    put_entry(&t[0x12], SEV_CMDLINE_ENTRY_GUID, h.cmdline);
    put_entry(&t[0x44], SEV_INITRD_ENTRY_GUID, h.initrd);
    put_entry(&t[0x76], SEV_KERNEL_ENTRY_GUID, h.kernel);
    return t;
}

std::array<uint8_t, 4096> build_sev_hashes_page(const KernelHashes& h, size_t offset)
{
    if (offset > 4096 - PADDED_SEV_HASH_TABLE_SIZE)
        abort();
    std::array<uint8_t, 4096> page{};
    PaddedSevHashTable t = build_sev_hash_table(h);
    memcpy(page.data() + offset, t.data(), t.size());
    return page;
}

}  // namespace cvm::measure
