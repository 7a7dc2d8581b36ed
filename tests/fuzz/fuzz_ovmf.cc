// libFuzzer harness: OVMF footer table and SEV metadata (measure/ovmf.h). An accepted image
// must hold the invariants the launch digest code relies on: sections page aligned, non-empty,
// below 4 GiB, outside the image, pairwise disjoint.
#include <cstdlib>

#include "measure/ovmf.h"

using namespace cvm::measure;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    auto fw = FirmwareImage::parse(cvm::Bytes(data, data + size), FOUR_GIB);
    if (!fw.ok())
        return 0;
    const auto& sections = fw.value().sections();
    for (size_t i = 0; i < sections.size(); ++i) {
        uint64_t start = sections[i].gpa, end = start + sections[i].size;
        if (start % GUEST_PAGE_SIZE || end % GUEST_PAGE_SIZE || end <= start || end > FOUR_GIB ||
            end > fw.value().gpa())
            abort();
        for (size_t k = 0; k < i; ++k) {
            if (start < uint64_t(sections[k].gpa) + sections[k].size && sections[k].gpa < end)
                abort();
        }
    }
    for (const FooterEntry& e : fw.value().table().entries()) {
        if (fw.value().table().find(e.guid) != &e.data)
            abort();
    }
    return 0;
}
