#include "crl_source.h"

#include <cstdio>
#include <cstdlib>

#include "base/file.h"
#include "verify/crl.h"

namespace cvm::cli {

namespace {

void say(const char* format, const std::string& a, const std::string& b = "")
{
    fprintf(stderr, format, a.c_str(), b.c_str());
    fputc('\n', stderr);
}

// Seconds since the epoch, or a UTC date "YYYY-MM-DD" / "YYYY-MM-DDTHH:MM:SSZ".
Result<std::time_t> parse_time(const std::string& text)
{
    char* end = nullptr;
    long long seconds = strtoll(text.c_str(), &end, 10);
    if (!text.empty() && *end == '\0' && seconds >= 0)
        return static_cast<std::time_t>(seconds);
    struct tm tm {};
    int n = 0;
    if (sscanf(text.c_str(), "%4d-%2d-%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &n) == 3 &&
        (static_cast<size_t>(n) == text.size() ||
         (sscanf(text.c_str() + n, "T%2d:%2d:%2dZ%n", &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &n) == 3 &&
          text.size() == 10 + static_cast<size_t>(n)))) {
        tm.tm_year -= 1900;
        tm.tm_mon -= 1;
        std::time_t t = timegm(&tm);
        if (t != static_cast<std::time_t>(-1) && tm.tm_mon >= 0)
            return t;
    }
    return Error::make(Errc::Config, "--at %s: expected seconds since the epoch or YYYY-MM-DD[THH:MM:SSZ] (UTC)",
                       text.c_str());
}

Result<kds::Fetched> fetch(const verify::Verification& v, const kds::KdsOptions& options)
{
    kds::KeyFamily family = *v.vek_kind == verify::VekKind::Vlek ? kds::KeyFamily::Vlek : kds::KeyFamily::Vcek;
    auto client = TRY(kds::KdsClient::create(options));
    return client->crl(*v.product, family);
}

// AMD's CRL for what `v` established, from KDS or its cache; nullopt (said on stderr) when
// there is none to be had. A cached copy that is fresh by the TTL but past its own nextUpdate
// at `now` is asked for again (TTL 0), since AMD has published its successor by then.
std::optional<Bytes> fetch_amd_crl(const verify::Verification& v, const KdsSettings& settings, std::time_t now)
{
    auto fetched = fetch(v, settings.options);
    if (fetched.ok() && fetched.value().source == kds::Source::CacheFresh &&
        settings.options.mode == kds::Mode::Online) {
        auto crl = verify::Crl::parse(fetched.value().data);
        if (crl.ok() && !crl.value().current_at(now)) {
            say("cvm verify: the cached CRL is past its nextUpdate %s: asking KDS for its successor",
                crl.value().next_update());
            kds::KdsOptions again = settings.options;
            again.ttl_seconds = 0;
            fetched = fetch(v, again);
        }
    }
    if (!fetched.ok()) {
        say("cvm verify: no CRL from KDS: %s", std::string(fetched.error().message()));
        return std::nullopt;
    }
    const kds::Fetched& f = fetched.value();
    std::string line = "cvm verify: CRL from " + std::string(kds::source_name(f.source)) + " (" + f.url + ")";
    if (f.refresh_error)
        line += ": KDS not used: " + std::string(f.refresh_error->message());
    if (f.source == kds::Source::CacheStale) {
        // A stale copy is as good as its nextUpdate, which chain.revocation checks.
        auto crl = verify::Crl::parse(f.data);
        if (crl.ok())
            line += "; stale copy, nextUpdate " + crl.value().next_update();
    }
    say("%s", line);
    return f.data;
}

}  // namespace

Result<RevocationSettings> revocation_settings(const Args& args, const policy::Policy& policy, KdsSettings kds)
{
    RevocationSettings s;
    s.kds = std::move(kds);
    s.crl_file = args.get("crl");
    if (args.has("no-revocation") && s.crl_file)
        return Error::make(Errc::Config, "--crl and --no-revocation contradict each other: give one");
    if (args.has("no-revocation"))
        s.off_by = "--no-revocation";
    else if (!policy.revocation)
        s.off_by = "policy revocation = false";
    if (auto at = args.get("at"))
        s.at = TRY(parse_time(*at));
    return s;
}

verify::VerifyOptions revocation_options(verify::VerifyOptions options, const RevocationSettings& s)
{
    options.revocation_off_by = s.off_by;
    if (s.at) {
        options.crl_now = *s.at;
        if (options.now)
            options.now = *s.at;
    }
    return options;
}

std::optional<Bytes> amd_crl_for(const verify::Verification& v, const RevocationSettings& s, std::time_t now)
{
    if (!s.off_by.empty() || s.crl_file)
        return std::nullopt;
    const Claim* revocation = v.find("chain.revocation");
    // Only a chain that verified to a pinned AMD root makes the product and key family worth a
    // KDS request; anything else fails on its own.
    bool amd_chain = v.anchor == verify::Anchor::AmdPinned && v.product && v.vek_kind;
    for (const char* name : {"chain.ark", "chain.ask", "chain.vek"}) {
        const Claim* c = v.find(name);
        amd_chain = amd_chain && c && c->pass;
    }
    if (!amd_chain || !revocation || revocation->pass)
        return std::nullopt;
    return fetch_amd_crl(v, s.kds, now);
}

Result<verify::Verification> verify_with_revocation(verify::Verifier& verifier, verify::Evidence& evidence,
                                                    verify::VerifyOptions options, const RevocationSettings& s)
{
    options = revocation_options(std::move(options), s);
    if (!s.off_by.empty()) {
        say("cvm verify: revocation not checked: turned off by %s", s.off_by);
        return verifier.verify(evidence, options);
    }
    if (s.crl_file) {
        evidence.crl = TRY(read_file(*s.crl_file, verify::CRL_MAX_PEM_SIZE));
        say("cvm verify: CRL from %s", *s.crl_file);
        return verifier.verify(evidence, options);
    }
    verify::Verification v = verifier.verify(evidence, options);
    std::optional<Bytes> crl = amd_crl_for(v, s, options.crl_now.value_or(time(nullptr)));
    if (!crl)
        return v;
    evidence.crl = std::move(*crl);
    return verifier.verify(evidence, options);
}

}  // namespace cvm::cli
