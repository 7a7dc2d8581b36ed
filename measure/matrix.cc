#include "measure/matrix.h"

#include <algorithm>
#include <chrono>
#include <map>
#include <utility>

#include "measure/modes.h"

namespace cvm::measure {

namespace {

Inputs with_shape(const Inputs& in, const LaunchShape& shape)
{
    Inputs one = in;
    one.vcpus = shape.vcpus;
    one.vcpu_sig = shape.vcpu_sig;
    one.vmm = shape.vmm;
    return one;
}

// What check_inputs() refuses in a shape, said of the shape.
Result<void> check_shape(const LaunchShape& shape, size_t index)
{
    if (shape.vcpus < 1 || shape.vcpus > MAX_VCPUS)
        return Error::make(Errc::Config, "shape %zu: %u vCPUs: mode snp needs 1 to %u", index, shape.vcpus, MAX_VCPUS);
    if (shape.vmm == VmmType::Qemu && !shape.vcpu_sig)
        return Error::make(Errc::Config, "shape %zu: QEMU needs the vCPU signature (a vCPU type)", index);
    return {};
}

}  // namespace

Result<Matrix> measure_matrix(const Inputs& in, std::span<const LaunchShape> shapes)
{
    if (in.mode != Mode::Snp)
        return Error::make(Errc::Config, "mode %s: the shape matrix is computed for mode snp only", mode_name(in.mode));
    if (shapes.empty())
        return Error::make(Errc::Config, "no shapes to measure: expected at least one");
    uint32_t max_vcpus = 0;
    for (size_t i = 0; i < shapes.size(); ++i) {
        TRY(check_shape(shapes[i], i));
        max_vcpus = std::max(max_vcpus, shapes[i].vcpus);
    }
    // The shape-independent checks, as measure() makes them.
    TRY(check_inputs(with_shape(in, shapes[0])));

    using Clock = std::chrono::steady_clock;
    auto ms_since = [](Clock::time_point t) {
        return std::chrono::duration<double, std::milli>(Clock::now() - t).count();
    };
    Clock::time_point start = Clock::now();
    SnpImage image = TRY(prepare_snp(in, max_vcpus));
    Matrix out;
    out.image_ms = ms_since(start);
    start = Clock::now();
    out.ovmf_sha256 = image.ovmf_sha256;
    out.ovmf_snp_hash = image.ovmf_snp_hash;
    out.kernel_hashes = image.kernel_hashes;
    out.measurements.resize(shapes.size());

    // Shapes with the same VMSA pages, by VMM and signature (RDX holds it for QEMU only, but
    // grouping by the value given is right whatever build_vmsa() makes of it).
    std::map<std::pair<VmmType, uint64_t>, std::vector<size_t>> groups;
    for (size_t i = 0; i < shapes.size(); ++i)
        groups[{shapes[i].vmm, shapes[i].vcpu_sig.value_or(0)}].push_back(i);

    std::map<VmmType, Gctx> metadata;
    for (auto& [key, members] : groups) {
        auto [vmm, sig] = key;
        auto chain = metadata.find(vmm);
        if (chain == metadata.end())
            chain = metadata.emplace(vmm, snp_metadata_chain(image, vmm)).first;
        std::array<VmsaPage, 2> pages = snp_vmsa_pages(image, in.guest_features, sig, vmm);
        const crypto::Sha384Digest digests[2] = {crypto::Sha384::of(pages[0]), crypto::Sha384::of(pages[1])};

        // One walk up the vCPU counts: N vCPUs' digest is N - 1 vCPUs' with one more VMSA page.
        std::stable_sort(members.begin(), members.end(),
                         [&](size_t a, size_t b) { return shapes[a].vcpus < shapes[b].vcpus; });
        Gctx gctx = chain->second;
        uint32_t added = 0;
        for (size_t index : members) {
            for (; added < shapes[index].vcpus; ++added)
                gctx.update_vmsa_page(digests[added == 0 ? 0 : 1]);
            out.measurements[index] = gctx.ld();
        }
    }
    out.shapes_ms = ms_since(start);
    return out;
}

}  // namespace cvm::measure
