#include "release_fixture.h"

#include <doctest.h>

#include "base/base64.h"

namespace cvm::test {

using namespace release;

Statement sample_statement()
{
    Statement s;
    const char* names[] = {"firmware", "kernel", "initrd", "init-data"};
    for (uint8_t i = 0; i < 4; ++i) {
        Subject subject;
        subject.name = names[i];
        subject.sha256.fill(static_cast<uint8_t>(0x10 + i));
        s.subjects.push_back(subject);
    }
    Predicate& p = s.predicate;
    p.tool = "cvm 0.1.0";
    p.source_date_epoch = SAMPLE_EPOCH;
    p.not_after = SAMPLE_NOT_AFTER;
    p.policy = 0x30000;
    p.guest_features = 0x1;
    p.cmdline = "console=ttyS0 cvminit.initdata=fw_cfg \"quoted\" \\ é";
    p.host_data = std::array<uint8_t, 32>{};
    p.host_data->fill(0xAB);
    ShapeMeasurement a;
    a.shape = {4, "EPYC-Milan", "QEMU"};
    a.measurement.fill(0x01);
    ShapeMeasurement b;
    b.shape = {8, "EPYC-Genoa", "ec2"};
    b.measurement.fill(0x02);
    p.shapes = {a, b};
    return s;
}

const SigningKey& p256_key()
{
    static SigningKey key = SigningKey::generate(KeyKind::EcdsaP256).release_value();
    return key;
}

const SigningKey& ed25519_key()
{
    static SigningKey key = SigningKey::generate(KeyKind::Ed25519).release_value();
    return key;
}

std::string hand_bundle(std::string_view payload, const SigningKey& key, std::string_view payload_type)
{
    Bytes sig = key.sign(pae(payload_type, as_bytes(payload))).release_value();
    std::string hint = key.public_key().hint();
    return std::string("{\"dsseEnvelope\":{\"payload\":\"") + base64_encode(as_bytes(payload)) +
           "\",\"payloadType\":\"" + std::string(payload_type) + "\",\"signatures\":[{\"keyid\":\"" + hint +
           "\",\"sig\":\"" + base64_encode(sig) + "\"}]},\"mediaType\":\"" + BUNDLE_MEDIA_TYPE +
           "\",\"verificationMaterial\":{\"publicKey\":{\"hint\":\"" + hint + "\"},\"tlogEntries\":[]}}";
}

VerifyOptions options_for(const SigningKey& key)
{
    VerifyOptions options;
    options.key = &key.public_key();
    options.now = SAMPLE_EPOCH;
    return options;
}

std::string replace_once(std::string text, std::string_view from, std::string_view to)
{
    size_t at = text.find(from);
    REQUIRE_MESSAGE(at != std::string::npos, "\"" << std::string(from) << "\" not in the text");
    text.replace(at, from.size(), to);
    return text;
}

}  // namespace cvm::test
