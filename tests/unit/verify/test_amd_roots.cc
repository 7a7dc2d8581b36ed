#include <doctest.h>

#include <sstream>
#include <string>

#include "vectors.h"
#include "verify/amd_roots.h"
#include "verify/certificate.h"

using namespace cvm;
using namespace cvm::verify;
using snp::Product;

namespace {

constexpr Product PRODUCTS[] = {Product::Milan, Product::Genoa, Product::Turin};
constexpr RootKind KINDS[] = {RootKind::Ark, RootKind::Ask, RootKind::Asvk};

std::string lower(std::string_view s)
{
    std::string out(s);
    for (char& c : out)
        c = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
    return out;
}

// "ark_milan.pem ... sha256(DER)=<hex>" -> hex, from the vectors' FINGERPRINTS.txt.
std::string fingerprint_from_file(const std::string& file_name)
{
    Bytes text = test::read_vector("snp-reports/amd_roots/FINGERPRINTS.txt");
    std::istringstream lines(std::string(text.begin(), text.end()));
    for (std::string line; std::getline(lines, line);) {
        if (line.rfind(file_name + " ", 0) == 0)
            return line.substr(line.find("sha256(DER)=") + 12, 64);
    }
    FAIL("no fingerprint for ", file_name);
    return {};
}

}  // namespace

TEST_CASE("the nine built-in certificates load, match their pins, the vectors' fingerprints and bytes")
{
    for (Product p : PRODUCTS) {
        for (RootKind k : KINDS) {
            const std::string file = lower(root_kind_name(k)) + "_" + lower(snp::product_name(p)) + ".pem";
            CAPTURE(file);
            auto cert = load_amd_root(p, k);
            REQUIRE_MESSAGE(cert.ok(), std::string(cert.error().message()));
            CHECK(cert->fingerprint_hex() == pinned_fingerprint(p, k));
            CHECK(pinned_fingerprint(p, k) == fingerprint_from_file(file));
            CHECK(cert->subject_cn() == amd_common_name(p, k));
            auto from_vector = Certificate::parse(test::read_vector("snp-reports/amd_roots/" + file)).release_value();
            CHECK(from_vector.fingerprint() == cert->fingerprint());
        }
    }
}

TEST_CASE("load_amd_roots groups one product line")
{
    auto roots = load_amd_roots(Product::Genoa);
    REQUIRE(roots.ok());
    CHECK(roots->ark.subject_cn() == "ARK-Genoa");
    CHECK(roots->intermediate(VekKind::Vcek).subject_cn() == "SEV-Genoa");
    CHECK(roots->intermediate(VekKind::Vlek).subject_cn() == "SEV-VLEK-Genoa");
}

TEST_CASE("AMD's names")
{
    CHECK(amd_common_name(Product::Turin, RootKind::Ark) == "ARK-Turin");
    CHECK(amd_common_name(Product::Milan, RootKind::Ask) == "SEV-Milan");
    CHECK(amd_common_name(Product::Genoa, RootKind::Asvk) == "SEV-VLEK-Genoa");
    CHECK(amd_common_name(VekKind::Vcek) == "SEV-VCEK");
    CHECK(amd_common_name(VekKind::Vlek) == "SEV-VLEK");
    CHECK(issuer_of(VekKind::Vcek) == RootKind::Ask);
    CHECK(issuer_of(VekKind::Vlek) == RootKind::Asvk);
}

TEST_CASE("the pins are distinct")
{
    for (Product p : PRODUCTS) {
        for (RootKind k : KINDS) {
            for (Product q : PRODUCTS) {
                for (RootKind l : KINDS) {
                    if (p != q || k != l)
                        CHECK(pinned_fingerprint(p, k) != pinned_fingerprint(q, l));
                }
            }
        }
    }
}
