#include "verify/amd_roots.h"

#include "verify/amd_roots_pem.h"

namespace cvm::verify {

namespace {

struct Pin {
    snp::Product product;
    RootKind kind;
    const char* pem;
    std::string_view sha256;  // of the DER, from amd_roots/FINGERPRINTS.txt
};

using snp::Product;

constexpr Pin PINS[] = {
    {Product::Milan, RootKind::Ark, amd_pem::ARK_MILAN,
     "69d063b45344d26a2e94e1f4210de49ef555308287d4c174445c95639a540bcd"},
    {Product::Milan, RootKind::Ask, amd_pem::ASK_MILAN,
     "67d303bd3905fd38db8b20e0793699870e7fa612eaad5dec358293fd8c0bac1b"},
    {Product::Milan, RootKind::Asvk, amd_pem::ASVK_MILAN,
     "c5e081f59b7efab1fe2f8b505e159704e72f29cab7ef7cf628a05a42439082f5"},
    {Product::Genoa, RootKind::Ark, amd_pem::ARK_GENOA,
     "4c6598d19c18719c5dfd4a7d335f674e5bfe1d8f800cea2cf270c10d103db2f1"},
    {Product::Genoa, RootKind::Ask, amd_pem::ASK_GENOA,
     "5464738c1546aed5f2cecf1dc98c5c960a92e8913238a61711bc90ec6e828521"},
    {Product::Genoa, RootKind::Asvk, amd_pem::ASVK_GENOA,
     "197e610743a917d6b9bb982a5a9226ccc0a15b611be0619e626aca9151457372"},
    {Product::Turin, RootKind::Ark, amd_pem::ARK_TURIN,
     "1f084161a44bb6d93778a904877d4819cafa5d05ef4193b2ded9dd9c73dd3f6a"},
    {Product::Turin, RootKind::Ask, amd_pem::ASK_TURIN,
     "5b77ef5fe7a7a004fd9032668fba9d0fda22f88c4442069a479636a6ae3b3185"},
    {Product::Turin, RootKind::Asvk, amd_pem::ASVK_TURIN,
     "104e10a8bd060a3c20a434261a57d0588fd65a88915b4f65b08bdecaf8df1a3c"},
};

const Pin& pin_of(Product product, RootKind kind)
{
    for (const Pin& p : PINS) {
        if (p.product == product && p.kind == kind)
            return p;
    }
    abort();  // every (product, kind) pair is in the table
}

}  // namespace

std::string_view vek_kind_name(VekKind kind)
{
    return kind == VekKind::Vcek ? "VCEK" : "VLEK";
}

std::string_view root_kind_name(RootKind kind)
{
    switch (kind) {
    case RootKind::Ark: return "ARK";
    case RootKind::Ask: return "ASK";
    case RootKind::Asvk: return "ASVK";
    }
    return "?";
}

RootKind issuer_of(VekKind kind)
{
    return kind == VekKind::Vcek ? RootKind::Ask : RootKind::Asvk;
}

std::string amd_common_name(Product product, RootKind kind)
{
    std::string line(snp::product_name(product));
    switch (kind) {
    case RootKind::Ark: return "ARK-" + line;
    case RootKind::Ask: return "SEV-" + line;
    case RootKind::Asvk: return "SEV-VLEK-" + line;
    }
    return "?";
}

std::string_view amd_common_name(VekKind kind)
{
    return kind == VekKind::Vcek ? "SEV-VCEK" : "SEV-VLEK";
}

std::string_view pinned_fingerprint(Product product, RootKind kind)
{
    return pin_of(product, kind).sha256;
}

Result<Certificate> load_amd_root(Product product, RootKind kind)
{
    const Pin& pin = pin_of(product, kind);
    auto cert = Certificate::parse(as_bytes(pin.pem));
    if (!cert.ok())
        return cert.release_error().prefix("built-in %s-%s", root_kind_name(kind).data(),
                                           snp::product_name(product).data());
    std::string found = cert->fingerprint_hex();
    if (found != pin.sha256)
        return Error::make(Errc::Chain, "built-in %s %s: SHA-256 is %s, expected the pinned %s",
                           root_kind_name(kind).data(), amd_common_name(product, kind).c_str(), found.c_str(),
                           pin.sha256.data());
    return cert;
}

Result<AmdRoots> load_amd_roots(Product product)
{
    // Each TRY on its own: one leaving a braced initializer would skip the destructors of the
    // certificates already made.
    auto ark = TRY(load_amd_root(product, RootKind::Ark));
    auto ask = TRY(load_amd_root(product, RootKind::Ask));
    auto asvk = TRY(load_amd_root(product, RootKind::Asvk));
    return AmdRoots{product, std::move(ark), std::move(ask), std::move(asvk)};
}

}  // namespace cvm::verify
