// The agent's KBS client against a KBS process, without a VM: the simulated platform of
// `cvm sim init DIR` signs the report (at VMPL 0, with HOST_DATA bound to --initdata when given),
// and client::KbsSession runs begin -> report -> attest (with the PSP's certificate table) ->
// fetch. Prints one line per resource, never the value:
//   secret|volume NAME BYTES SHA256-HEX
// On failure prints "kbs_probe: [HTTP N] <the Error's code>: <message>" on stderr and exits 1.
//
// Usage: kbs_probe --platform DIR --url URL [--initdata FILE] [volume:]NAME=REPO/TYPE/TAG...
#include <cstdio>
#include <cstring>
#include <string>

#include "base/bytes.h"
#include "base/file.h"
#include "client/kbs_session.h"
#include "crypto/digest.h"
#include "initdata/initdata.h"
#include "sim/platform_dir.h"
#include "sim/psp.h"
#include "snp/cert_table.h"

using namespace cvm;

namespace {

constexpr const char* USAGE =
    "usage: kbs_probe --platform DIR --url URL [--initdata FILE] [volume:]NAME=REPO/TYPE/TAG...";

int fail(const Error& e, int status)
{
    std::string code(errc_name(e.code()));
    if (status)
        fprintf(stderr, "kbs_probe: [HTTP %d] %s: %.*s\n", status, code.c_str(), static_cast<int>(e.message().size()),
                e.message().data());
    else
        fprintf(stderr, "kbs_probe: %s: %.*s\n", code.c_str(), static_cast<int>(e.message().size()),
                e.message().data());
    return 1;
}

void print(const char* kind, const std::string& name, const SecretBytes& value)
{
    auto digest = crypto::Sha256::of(value.expose());
    printf("%s %s %zu %s\n", kind, name.c_str(), value.size(), to_hex(digest).c_str());
}

struct Args {
    std::string platform;
    std::optional<std::string> initdata_file;
    client::KbsOptions options;
};

bool parse_args(int argc, char** argv, Args& a)
{
    for (int i = 1; i < argc; ++i) {
        std::string arg = argv[i];
        bool has_value = i + 1 < argc;
        if (arg == "--platform" && has_value) {
            a.platform = argv[++i];
        } else if (arg == "--url" && has_value) {
            a.options.url = argv[++i];
        } else if (arg == "--initdata" && has_value) {
            a.initdata_file = argv[++i];
        } else if (arg.rfind("--", 0) != 0 && arg.find('=') != std::string::npos) {
            client::KbsResource r;
            r.volume = arg.rfind("volume:", 0) == 0;
            std::string spec = r.volume ? arg.substr(7) : arg;
            r.name = spec.substr(0, spec.find('='));
            r.path = spec.substr(spec.find('=') + 1);
            a.options.resources.push_back(r);
        } else {
            return false;
        }
    }
    return !a.platform.empty() && !a.options.url.empty();
}

}  // namespace

int main(int argc, char** argv)
{
    Args a;
    if (!parse_args(argc, argv, a)) {
        fprintf(stderr, "%s\n", USAGE);
        return 2;
    }
    sim::LaunchState launch;
    if (a.initdata_file) {
        auto text = read_file(*a.initdata_file, initdata::MAX_INITDATA_SIZE);
        if (!text)
            return fail(text.error(), 0);
        std::string toml(text->begin(), text->end());
        auto document = initdata::parse(toml);
        if (!document)
            return fail(document.error(), 0);
        launch.host_data = initdata::host_data(document.value());
        a.options.initdata_toml = toml;
    }
    auto platform = sim::read_platform(a.platform);
    if (!platform)
        return fail(platform.error(), 0);
    auto psp = sim::SimulatedPsp::create(platform.value(), launch);
    if (!psp)
        return fail(psp.error(), 0);
    auto certs = snp::parse_cert_table(psp->cert_table());
    if (!certs)
        return fail(certs.error(), 0);

    auto session = client::KbsSession::begin(a.options);
    if (!session)
        return fail(session.error(), 0);
    client::KbsSession& s = session.value();
    auto report = psp->get_report(s.report_data(), 0);
    if (!report)
        return fail(report.error(), 0);
    if (auto attested = s.attest(report.value(), certs.value()); !attested)
        return fail(attested.error(), s.last_status());
    auto release = s.fetch();
    if (!release)
        return fail(release.error(), s.last_status());
    for (const auto& secret : release->secrets)
        print("secret", secret.name, secret.value);
    for (const auto& volume : release->volumes)
        print("volume", volume.name, volume.key);
    return 0;
}
