// The PEM text of AMD's ARK, ASK and ASVK per product line (amd_roots_pem.cc). Internal to the
// verify layer: use amd_roots.h, which checks each against its pinned fingerprint.
#pragma once

namespace cvm::verify::amd_pem {

extern const char ARK_MILAN[], ASK_MILAN[], ASVK_MILAN[];
extern const char ARK_GENOA[], ASK_GENOA[], ASVK_GENOA[];
extern const char ARK_TURIN[], ASK_TURIN[], ASVK_TURIN[];

}  // namespace cvm::verify::amd_pem
