// Evidence completed from AMD's KDS, as `cvm verify --kds` takes it.
#pragma once

#include <optional>
#include <string>

#include "base/result.h"
#include "kds/kds_client.h"
#include "verify/evidence.h"

namespace cvm::cli {

struct KdsSettings {
    kds::KdsOptions options;
    std::optional<snp::Product> product;  // needed for version 2 reports (no CPUID fields)
};

// The default cache directory: $XDG_CACHE_HOME/cvm/kds, else $HOME/.cache/cvm/kds, else none.
std::string default_kds_cache_dir();

// Fetches the VCEK for `report` and the product's ASK + ARK chain (cache first, see
// kds/kds_client.h) and returns them with the report as evidence. Says on stderr where each
// came from (cache-fresh, network, cache-stale and why). VLEK-signed reports fail: KDS does not
// serve VLEKs, they travel with the evidence (--certs or --cert-table).
Result<verify::Evidence> evidence_from_kds(Bytes report, const KdsSettings& settings);

}  // namespace cvm::cli
