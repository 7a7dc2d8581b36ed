#include "verify/binding.h"

#include <cstdio>

#include "verify/rules.h"

namespace cvm::verify {

using snp::Product;

namespace {

std::string cpuid_text(const snp::AttestationReport& report)
{
    char buf[64];
    auto p = report.cpuid_product();
    snprintf(buf, sizeof buf, "CPUID family %02xh model %02xh stepping %u (%s)", report.cpuid_fam_id,
             report.cpuid_mod_id, report.cpuid_step, p ? snp::product_name(*p).data() : "unknown product");
    return buf;
}

void compare(std::string& mismatches, const char* component, uint8_t cert, uint8_t reported)
{
    if (cert == reported)
        return;
    char buf[96];
    snprintf(buf, sizeof buf, "%s%s: certificate %u, REPORTED_TCB %u", mismatches.empty() ? "" : "; ", component, cert,
             reported);
    mismatches += buf;
}

// TCB_VERSION bytes that no SPL describes: 2..5 on Milan/Genoa, 4..6 on Turin. They are reserved,
// and a VEK derived for non-zero values there would not match its SPL extensions we know.
void reserved_tcb_bytes(std::string& mismatches, uint64_t raw, Product product)
{
    int first = product == Product::Turin ? 4 : 2, last = product == Product::Turin ? 6 : 5;
    for (int i = first; i <= last; ++i) {
        auto b = static_cast<uint8_t>(raw >> (8 * i));
        if (b == 0)
            continue;
        char buf[80];
        snprintf(buf, sizeof buf, "%sREPORTED_TCB reserved byte %d: 0x%02x, expected 0", mismatches.empty() ? "" : "; ",
                 i, b);
        mismatches += buf;
    }
}

}  // namespace

std::optional<VekKind> signer_of(const snp::AttestationReport& report)
{
    if (report.mask_chip_key)
        return std::nullopt;
    switch (report.signing_key) {
    case snp::SigningKey::Vcek: return VekKind::Vcek;
    case snp::SigningKey::Vlek: return VekKind::Vlek;
    case snp::SigningKey::None: break;
    }
    return std::nullopt;
}

Claim check_signing_key(const snp::AttestationReport& report)
{
    std::string found = "SIGNING_KEY " + std::string(snp::signing_key_name(report.signing_key)) + ", MASK_CHIP_KEY " +
                        std::to_string(report.mask_chip_key);
    bool ok = signer_of(report).has_value();
    return make_claim("report.signing_key", ok, found, "SIGNING_KEY VCEK (0) or VLEK (1), MASK_CHIP_KEY 0",
                      ok ? "signed by the " + std::string(snp::signing_key_name(report.signing_key))
                         : "the report is unsigned: no endorsement key signed it");
}

Claim check_struct_version(const snp::AmdExtensions& ext, Product product)
{
    uint32_t expected = product == Product::Turin ? 1 : 0;
    std::string want =
        "structVersion " + std::to_string(expected) + " (" + std::string(snp::product_name(product)) + ")";
    if (!ext.struct_version)
        return make_claim("vek.struct_version", false, "no structVersion extension", want,
                          "the TCB layout of the certificate is unknown");
    bool ok = *ext.struct_version == expected;
    return make_claim("vek.struct_version", ok, "structVersion " + std::to_string(*ext.struct_version), want,
                      ok ? "TCB layout matches the product" : "the certificate's TCB layout is not the product's");
}

Claim check_product(const snp::AmdExtensions& ext, Product product, const snp::AttestationReport* report)
{
    std::string want(snp::product_name(product));
    std::string found = ext.product_name ? "productName " + printable(*ext.product_name) : "no productName extension";
    Rules rules("vek.product", found, want);
    auto line = ext.product_name ? snp::product_from_name(*ext.product_name) : std::nullopt;
    rules.need(line == product, found, want, "the certificate is not for the product of this chain and report");
    if (report && report->version >= 3) {
        rules.need(report->cpuid_product() == product, cpuid_text(*report), want,
                   "the report's CPUID names another product");
    }
    return std::move(rules).finish(report && report->version >= 3 ? "productName and report CPUID agree"
                                                                  : "productName agrees (report has no CPUID fields)");
}

Claim check_kind(const snp::AmdExtensions& ext, VekKind kind)
{
    std::string found = std::string(ext.hwid ? "hwID" : "no hwID") + ", " + (ext.csp_id ? "cspID" : "no cspID");
    bool vcek = kind == VekKind::Vcek;
    std::string want = vcek ? "hwID, no cspID" : "cspID, no hwID";
    bool ok = vcek ? (ext.hwid && !ext.csp_id) : (ext.csp_id && !ext.hwid);
    return make_claim("vek.kind", ok, found, want,
                      ok ? std::string(vek_kind_name(kind)) + " extensions"
                         : "the extensions are not those of a " + std::string(vek_kind_name(kind)));
}

Claim check_tcb(const snp::AmdExtensions& ext, Product product, const snp::AttestationReport& report)
{
    snp::TcbVersion reported = snp::TcbVersion::decode(report.reported_tcb, product);
    std::string want = "REPORTED_TCB " + reported.to_string(product);
    auto cert = ext.tcb(product);
    if (!cert.ok())
        return make_claim("vek.tcb", false, "incomplete SPL extensions", want, std::string(cert.error().message()));
    std::string mismatches;
    compare(mismatches, "fmc", cert->fmc, reported.fmc);  // both 0 unless Turin
    compare(mismatches, "boot_loader", cert->boot_loader, reported.boot_loader);
    compare(mismatches, "tee", cert->tee, reported.tee);
    compare(mismatches, "snp", cert->snp, reported.snp);
    compare(mismatches, "microcode", cert->microcode, reported.microcode);
    reserved_tcb_bytes(mismatches, report.reported_tcb, product);
    bool ok = mismatches.empty();
    return make_claim("vek.tcb", ok, "certificate SPLs " + cert->to_string(product), want,
                      ok ? "every SPL equals its REPORTED_TCB component" : mismatches);
}

Claim check_hwid(const snp::AmdExtensions& ext, VekKind kind, Product product, const snp::AttestationReport& report)
{
    const ByteView chip(report.chip_id);
    if (kind == VekKind::Vlek)
        return make_claim("vek.hwid", true, ext.hwid ? "hwID present" : "no hwID", "no hwID (VLEK)",
                          "VLEK: not bound to a chip, CHIP_ID not compared");
    if (all_zero(chip))
        return make_claim("vek.hwid", true, "CHIP_ID all zero", "hwID == CHIP_ID",
                          "CHIP_ID is masked (MASK_CHIP_ID): hwID not compared");
    const size_t n = product == Product::Turin ? 8 : 64;
    std::string want = "CHIP_ID" + std::string(n == 8 ? "[0..8) " : " ") + to_hex(chip.first(n));
    if (!ext.hwid)
        return make_claim("vek.hwid", false, "no hwID extension", want, "a VCEK must carry hwID");
    Rules rules("vek.hwid", "hwID " + to_hex(*ext.hwid), want);
    bool same = ext.hwid->size() == n && std::equal(ext.hwid->begin(), ext.hwid->end(), chip.begin());
    rules.need(same, "hwID " + to_hex(*ext.hwid), want, "the VCEK belongs to another chip");
    if (n == 8)
        rules.need(all_zero(chip.subspan(8)), "CHIP_ID[8..64) " + to_hex(chip.subspan(8)), "zero",
                   "a Turin CHIP_ID is 8 bytes; the rest must be zero");
    return std::move(rules).finish("hwID equals CHIP_ID");
}

}  // namespace cvm::verify
