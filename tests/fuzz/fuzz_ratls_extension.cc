// libFuzzer harness: the RA-TLS id-pe-cmw extension (ratls::parse_extension) and the whole
// certificate (ratls::parse_certificate), then the verifier's rules on what parsed. Each input is
// tried both ways (the seeds hold both kinds). Properties: an accepted extension encodes to one
// that parses to the same evidence; an accepted certificate keeps its DER, its key is one the
// profile allows, its signature covers bytes inside it, and verify_certificate yields the five
// ratls.* claims, never a crash, whatever the reports say.
#include <cstdlib>

#include "ratls/ratls.h"
#include "ratls/verify.h"

using namespace cvm;
using namespace cvm::ratls;

namespace {

const char* const CLAIMS[] = {"ratls.subject_binding", "ratls.nonce", "ratls.issuer_binding", "ratls.signature",
                              "ratls.same_launch"};

void check_extension(ByteView input)
{
    auto set = parse_extension(input);
    if (!set.ok())
        return;
    if (input.size() > MAX_EXTENSION_SIZE)
        abort();
    auto again = parse_extension(encode_extension(set.value()));
    if (!again.ok() || !(again.value() == set.value()))
        abort();
}

void check_certificate(ByteView input)
{
    static verify::Verifier* verifier = verify::Verifier::create().release_value().release();
    auto cert = parse_certificate(input);
    if (!cert.ok())
        return;
    const Certificate& c = cert.value();
    if (c.der.empty() || c.tbs.size() >= c.der.size() || c.signature.empty() || c.spki.empty())
        abort();
    if (c.evidence.subject.report.size() != 1184 || (c.evidence.issuer && c.evidence.issuer->report.size() != 1184))
        abort();
    // An issuer's key must be P-256; the subject evidence carries none.
    if (!c.evidence.subject.spki.empty() || (c.evidence.issuer && c.evidence.issuer->spki.empty()))
        abort();
    auto reparsed = parse_certificate(c.der);
    if (!reparsed.ok() || reparsed.value().evidence != c.evidence || reparsed.value().spki != c.spki)
        abort();
    verify::VerifyOptions options;
    options.revocation_off_by = "fuzzing";
    RatlsVerification v = verify_certificate(c, Expectation{std::string(c.evidence.subject.binding), std::nullopt},
                                             *verifier, options);
    if (v.claims.size() != 5)
        abort();
    for (size_t i = 0; i < 5; ++i) {
        if (v.claims[i].name != CLAIMS[i])
            abort();
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    ByteView input(data, size);
    check_extension(input);
    check_certificate(input);
    return 0;
}
