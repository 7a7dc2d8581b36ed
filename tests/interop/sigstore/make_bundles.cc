// Writes release bundles made by lib/release's make_bundle for the sigstore-js interop test
// (verify_bundles.js): for each key kind, a fresh key, its public PEM, a bundle of a small
// two-shape statement, and the same bundle with one payload byte flipped (signature kept).
//
//   make_bundles OUT_DIR
//
// OUT_DIR/<kind>.pub.pem, <kind>.bundle.json, <kind>.tampered.json, <kind>.statement.json for
// kind in p256, ed25519.
#include <cstdio>
#include <string>

#include "base/base64.h"
#include "base/file.h"
#include "release/bundle.h"

using namespace cvm;
using namespace cvm::release;

namespace {

Statement statement()
{
    Statement s;
    const char* names[] = {"firmware", "kernel", "initrd"};
    for (uint8_t i = 0; i < 3; ++i) {
        Subject subject;
        subject.name = names[i];
        subject.sha256.fill(static_cast<uint8_t>(0xA0 + i));
        s.subjects.push_back(subject);
    }
    s.predicate.tool = "cvm interop";
    s.predicate.source_date_epoch = 1700000000;
    s.predicate.not_after = int64_t{1700000000} + int64_t{86400} * 365 * 100;
    s.predicate.policy = 0x30000;
    s.predicate.guest_features = 0x1;
    s.predicate.cmdline = "console=ttyS0";
    ShapeMeasurement a;
    a.shape = {1, "EPYC-v4", "QEMU"};
    a.measurement.fill(0x11);
    ShapeMeasurement b;
    b.shape = {64, "EPYC-Genoa", "gce"};
    b.measurement.fill(0x22);
    s.predicate.shapes = {a, b};
    return s;
}

Result<void> write(const std::string& path, std::string_view text)
{
    return write_file_atomic(path, as_bytes(text));
}

// The bundle with one byte of its statement changed and re-encoded, the signature untouched.
Result<std::string> tampered(const std::string& bundle, const std::string& payload)
{
    std::string flipped = payload;
    size_t at = flipped.find("EPYC-Genoa");
    if (at == std::string::npos)
        return Error::make(Errc::Config, "statement has no EPYC-Genoa shape");
    flipped[at + 9] = 'b';
    std::string from = base64_encode(as_bytes(payload));
    size_t where = bundle.find(from);
    if (where == std::string::npos)
        return Error::make(Errc::Config, "bundle does not carry the payload's base64");
    std::string out = bundle;
    out.replace(where, from.size(), base64_encode(as_bytes(flipped)));
    return out;
}

Result<void> make(const std::string& dir, const char* name, KeyKind kind)
{
    SigningKey key = TRY(SigningKey::generate(kind));
    Statement s = statement();
    std::string bundle = TRY(make_bundle(s, key));
    std::string payload = to_json(s);
    std::string prefix = dir + "/" + name;
    TRY(write(prefix + ".pub.pem", key.public_key().pem()));
    TRY(write(prefix + ".statement.json", payload));
    TRY(write(prefix + ".bundle.json", bundle));
    TRY(write(prefix + ".tampered.json", TRY(tampered(bundle, payload))));
    return {};
}

}  // namespace

int main(int argc, char** argv)
{
    if (argc != 2) {
        std::fprintf(stderr, "usage: make_bundles OUT_DIR\n");
        return 2;
    }
    for (auto [name, kind] : {std::pair{"p256", KeyKind::EcdsaP256}, std::pair{"ed25519", KeyKind::Ed25519}}) {
        if (auto made = make(argv[1], name, kind); !made.ok()) {
            std::fprintf(stderr, "make_bundles: %s: %.*s\n", name, static_cast<int>(made.error().message().size()),
                         made.error().message().data());
            return 1;
        }
    }
    return 0;
}
