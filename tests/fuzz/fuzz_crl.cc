// libFuzzer harness: CRL parsing (verify/crl.h) and the chain.revocation check under AMD's Milan
// root. An accepted CRL is its own DER again, its lookups stay inside it, and the claim is
// decided without crashing whatever the bytes; a hostile CRL costs at most one RSA check.
#include <cstdlib>

#include "verify/amd_roots.h"
#include "verify/crl.h"

using namespace cvm;
using namespace cvm::verify;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    static const AmdRoots roots = load_amd_roots(snp::Product::Milan).release_value();
    static CrlSignatureCache cache;
    ByteView input(data, size);
    auto crl = Crl::parse(input);
    if (crl.ok()) {
        auto again = Crl::parse_der(crl.value().der());
        if (!again.ok() || again.value().fingerprint() != crl.value().fingerprint() ||
            again.value().entries() != crl.value().entries())
            abort();
        ByteView issuer = crl.value().issuer_raw();
        ByteView der = crl.value().der();
        if (issuer.empty() || issuer.data() < der.data() || issuer.data() + issuer.size() > der.data() + der.size())
            abort();
        if (!crl.value().next_update_time())
            abort();  // nextUpdate is required, so it is a time
    }
    Claim c =
        check_revocation(input, roots.ark, roots.ask, roots.ask, 1790000000, Anchor::AmdPinned, VekKind::Vcek, &cache);
    if (c.name != "chain.revocation" || (c.pass && !crl.ok()))
        abort();
    return 0;
}
