#include "kds_evidence.h"

#include <cstdio>
#include <cstdlib>

#include "snp/report.h"

namespace cvm::cli {

std::string default_kds_cache_dir()
{
    if (const char* xdg = getenv("XDG_CACHE_HOME"); xdg && *xdg)
        return std::string(xdg) + "/cvm/kds";
    if (const char* home = getenv("HOME"); home && *home)
        return std::string(home) + "/.cache/cvm/kds";
    return "";
}

namespace {

void say_source(const char* what, const kds::Fetched& f)
{
    std::string source(kds::source_name(f.source));
    fprintf(stderr, "cvm verify: %s from %s (%s)", what, source.c_str(), f.url.c_str());
    if (f.refresh_error)
        fprintf(stderr, ": KDS not used: %.*s", static_cast<int>(f.refresh_error->message().size()),
                f.refresh_error->message().data());
    fputc('\n', stderr);
}

}  // namespace

Result<verify::Evidence> evidence_from_kds(Bytes report, const KdsSettings& settings)
{
    snp::AttestationReport parsed = TRY(snp::parse_report(report));
    kds::VcekId id = TRY(kds::vcek_id(parsed, settings.product));
    auto client = TRY(kds::KdsClient::create(settings.options));

    kds::Fetched vcek = TRY(client->vcek(id));
    say_source("VCEK", vcek);
    kds::Fetched chain = TRY(client->cert_chain(id.product, kds::KeyFamily::Vcek));
    say_source("ASK and ARK", chain);

    verify::Evidence evidence;
    evidence.report = std::move(report);
    evidence.vek = std::move(vcek.data);
    TRY(verify::add_chain_pem(evidence, std::string(chain.data.begin(), chain.data.end())));
    return evidence;
}

}  // namespace cvm::cli
