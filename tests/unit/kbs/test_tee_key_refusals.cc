// TeeKey::decrypt's refusals: every member of the flattened JWE, of its protected header and of
// the epk missing, extra, duplicated or of the wrong type; base64url that is padded or not
// canonical; wrong lengths; an epk off the curve or of another curve; other algorithms; and the
// cryptographic failures (a changed protected header, tag, iv, ciphertext or wrapped key).
#include <doctest/doctest.h>

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "base/base64.h"
#include "kbs/jwe.h"
#include "kbs/tee_key.h"
#include "proto/json.h"

namespace cvm::kbs {
namespace {

using Members = std::vector<std::pair<std::string, std::string>>;  // name, raw JSON value

std::string quoted(std::string_view s)
{
    return "\"" + std::string(s) + "\"";
}

std::string object(const Members& members)
{
    std::string out = "{";
    for (const auto& member : members)
        out += (out.size() > 1 ? "," : "") + quoted(member.first) + ":" + member.second;
    return out + "}";
}

Members without(Members m, std::string_view name)
{
    std::erase_if(m, [&](const auto& member) { return member.first == name; });
    return m;
}

Members with(Members m, std::string_view name, std::string raw)
{
    bool replaced = false;
    for (auto& member : m) {
        if (member.first == name) {
            member.second = raw;
            replaced = true;
        }
    }
    if (!replaced)
        m.emplace_back(name, std::move(raw));
    return m;
}

// A valid JWE to a fresh TeeKey, taken apart into the members a case changes.
struct Fixture {
    Fixture() : key(TeeKey::generate().release_value())
    {
        auto jwe = jwe::encrypt_flattened(as_bytes("the volume key"), *base64url_decode(key.x()),
                                          *base64url_decode(key.y()), jwe::TEE_PROFILE);
        REQUIRE(jwe.ok());
        valid = jwe.value();
        auto doc = proto::JsonDoc::parse(valid, "jwe");
        REQUIRE(doc.ok());
        for (const char* name : {"protected", "encrypted_key", "iv", "ciphertext", "tag"})
            top.emplace_back(name, quoted(proto::string_member(doc->root(), name, "jwe").value()));
        Bytes header_json = *base64url_decode(proto::string_member(doc->root(), "protected", "jwe").value());
        auto header_doc =
            proto::JsonDoc::parse({reinterpret_cast<const char*>(header_json.data()), header_json.size()}, "header");
        REQUIRE(header_doc.ok());
        yyjson_val* epk_value = yyjson_obj_get(header_doc->root(), "epk");
        for (const char* name : {"kty", "crv", "x", "y"})
            epk.emplace_back(name, quoted(proto::string_member(epk_value, name, "epk").value()));
        header = {{"alg", quoted("ECDH-ES+A256KW")}, {"enc", quoted("A256GCM")}, {"epk", object(epk)}};
    }

    // The JWE with the top-level members `t`, and the protected header `h` when given.
    std::string jwe(const Members& t) const { return object(t); }
    std::string with_header(const Members& h) const
    {
        return object(with(top, "protected", quoted(base64url_encode(as_bytes(object(h))))));
    }
    std::string with_epk(const Members& e) const { return with_header(with(header, "epk", object(e))); }
    std::string raw_member(const char* name) const
    {
        for (const auto& member : top)
            if (member.first == name)
                return member.second.substr(1, member.second.size() - 2);
        FAIL("no member ", name);
        return {};
    }

    TeeKey key;
    std::string valid;
    Members top;
    Members header;
    Members epk;
};

void refused(const TeeKey& key, const std::string& jwe, Errc code, std::string_view needle)
{
    auto result = key.decrypt(jwe);
    REQUIRE_FALSE(result.ok());
    std::string message(result.error().message());
    CAPTURE(message);
    CHECK(result.error().code() == code);
    CHECK(message.find(needle) != std::string::npos);
}

TEST_CASE("TeeKey::decrypt: the fixture's JWE decrypts, and the same JWE rebuilt member by member too")
{
    Fixture f;
    CHECK(f.key.decrypt(f.valid).ok());
    CHECK(f.key.decrypt(f.jwe(f.top)).ok());
}

TEST_CASE("TeeKey::decrypt: top-level members missing, extra, duplicated or of the wrong type")
{
    Fixture f;
    for (const auto& member : f.top) {
        std::string name = member.first;
        CAPTURE(std::string_view(name));
        refused(f.key, f.jwe(without(f.top, name)), Errc::Format, "jwe." + name + ": missing");
        Members twice = f.top;
        twice.push_back(member);
        refused(f.key, f.jwe(twice), Errc::Format, "jwe." + name + ": duplicate member");
        for (const char* raw : {"1", "null", "true", "{}", "[]"})
            refused(f.key, f.jwe(with(f.top, name, raw)), Errc::Format, "jwe." + name + ": found ");
    }
    for (const char* extra : {"aad", "header", "unprotected", "recipients", "Protected"}) {
        CAPTURE(std::string_view(extra));
        refused(f.key, f.jwe(with(f.top, extra, "\"AAAA\"")), Errc::Format,
                std::string("jwe.") + extra + ": unknown member");
    }
}

TEST_CASE("TeeKey::decrypt: not a JSON object, trailing bytes, oversized input")
{
    Fixture f;
    for (std::string text : {std::string(""), std::string("[]"), std::string("\"jwe\""), std::string("{"),
                             f.valid + " x", f.valid + "{}", "\xef\xbb\xbf" + f.valid}) {
        CAPTURE(text.substr(0, 8));
        refused(f.key, text, Errc::Format, "jwe");
    }
    refused(f.key, std::string(MAX_JWE_SIZE + 1, ' '), Errc::Format, "jwe: 1048577 bytes, expected at most 1048576");
}

TEST_CASE("TeeKey::decrypt: base64url padded, of the standard alphabet, non-canonical or spaced")
{
    Fixture f;
    for (const char* name : {"protected", "encrypted_key", "iv", "ciphertext", "tag"}) {
        CAPTURE(std::string_view(name));
        std::string text = f.raw_member(name);
        std::string padded = text + std::string((4 - text.size() % 4) % 4, '=');
        if (padded == text)
            padded += "====";
        const std::string bad[] = {padded,
                                   text + "=",
                                   text.substr(0, text.size() - 1) + "+",
                                   text.substr(0, text.size() - 1) + "/",
                                   " " + text,
                                   text.substr(0, 2) + "\\n" + text.substr(2)};
        for (const std::string& b : bad)
            refused(f.key, f.jwe(with(f.top, name, quoted(b))), Errc::Format, std::string("jwe.") + name + ": \"");
    }
    // 16 bytes are 22 symbols with 4 unused low bits: "AAAAAAAAAAAAAAAAAAAAAB" is not canonical.
    refused(f.key, f.jwe(with(f.top, "tag", quoted("AAAAAAAAAAAAAAAAAAAAAB"))), Errc::Format, "is not base64url");
}

TEST_CASE("TeeKey::decrypt: iv, tag and encrypted_key of the wrong length")
{
    Fixture f;
    const std::pair<const char*, size_t> cases[] = {{"iv", 11},
                                                    {"iv", 13},
                                                    {"iv", 0},
                                                    {"tag", 15},
                                                    {"tag", 17},
                                                    {"tag", 12},
                                                    {"encrypted_key", 39},
                                                    {"encrypted_key", 48},
                                                    {"encrypted_key", 32}};
    for (const auto& c : cases) {
        CAPTURE(std::string_view(c.first));
        CAPTURE(c.second);
        size_t expected = std::string_view(c.first) == "iv" ? 12 : std::string_view(c.first) == "tag" ? 16 : 40;
        refused(f.key, f.jwe(with(f.top, c.first, quoted(base64url_encode(Bytes(c.second, 0x5A))))), Errc::Format,
                std::string("jwe.") + c.first + ": " + std::to_string(c.second) + " bytes, expected " +
                    std::to_string(expected));
    }
}

TEST_CASE("TeeKey::decrypt: the protected header's members and values")
{
    Fixture f;
    for (const char* name : {"alg", "enc", "epk"}) {
        CAPTURE(std::string_view(name));
        refused(f.key, f.with_header(without(f.header, name)), Errc::Format,
                std::string("jwe.protected.") + name + ": missing");
        Members twice = f.header;
        twice.push_back(*std::find_if(twice.begin(), twice.end(), [&](const auto& m) { return m.first == name; }));
        refused(f.key, f.with_header(twice), Errc::Format, std::string("jwe.protected.") + name + ": duplicate");
    }
    for (const char* extra : {"kid", "apu", "apv", "crit", "zip", "cty", "typ", "jku", "x5c"}) {
        CAPTURE(std::string_view(extra));
        refused(f.key, f.with_header(with(f.header, extra, "\"QWxpY2U\"")), Errc::Format,
                std::string("jwe.protected.") + extra + ": unknown member");
    }
    refused(f.key, f.with_header(with(f.header, "alg", "\"ECDH-ES\"")), Errc::Unsupported,
            "jwe.protected.alg: found \"ECDH-ES\", expected \"ECDH-ES+A256KW\"");
    refused(f.key, f.with_header(with(f.header, "alg", "\"RSA-OAEP-256\"")), Errc::Unsupported,
            "jwe.protected.alg: found \"RSA-OAEP-256\"");
    refused(f.key, f.with_header(with(f.header, "enc", "\"A128GCM\"")), Errc::Unsupported,
            "jwe.protected.enc: found \"A128GCM\", expected \"A256GCM\"");
    refused(f.key, f.with_header(with(f.header, "enc", "\"A256CBC-HS512\"")), Errc::Unsupported,
            "jwe.protected.enc: found \"A256CBC-HS512\"");
    for (const char* name : {"alg", "enc"}) {
        CAPTURE(std::string_view(name));
        for (const char* raw : {"256", "null", "[\"A256GCM\"]", "{}"})
            refused(f.key, f.with_header(with(f.header, name, raw)), Errc::Format,
                    std::string("jwe.protected.") + name + ": found ");
    }
    refused(f.key, f.with_header(with(f.header, "epk", "\"key\"")), Errc::Format,
            "jwe.protected.epk: expected a JSON object");
    // Not base64url, not JSON, not an object.
    std::string header_text = f.raw_member("protected");
    refused(f.key, f.jwe(with(f.top, "protected", quoted(header_text + "="))), Errc::Format, "jwe.protected: \"");
    refused(f.key, f.jwe(with(f.top, "protected", quoted(base64url_encode(as_bytes("{\"alg\":"))))), Errc::Format,
            "jwe.protected: not valid JSON");
    refused(f.key, f.jwe(with(f.top, "protected", quoted(base64url_encode(as_bytes("[1]"))))), Errc::Format,
            "jwe.protected: found an array of 1, expected a JSON object");
}

TEST_CASE("TeeKey::decrypt: the epk's members, curve and point")
{
    Fixture f;
    for (const char* name : {"kty", "crv", "x", "y"}) {
        CAPTURE(std::string_view(name));
        refused(f.key, f.with_epk(without(f.epk, name)), Errc::Format,
                std::string("jwe.protected.epk.") + name + ": missing");
        refused(f.key, f.with_epk(with(f.epk, name, "7")), Errc::Format,
                std::string("jwe.protected.epk.") + name + ": found 7, expected a string");
        Members twice = f.epk;
        twice.push_back(*std::find_if(twice.begin(), twice.end(), [&](const auto& m) { return m.first == name; }));
        refused(f.key, f.with_epk(twice), Errc::Format, std::string("jwe.protected.epk.") + name + ": duplicate");
    }
    refused(f.key, f.with_epk(with(f.epk, "d", "\"AAAA\"")), Errc::Format, "jwe.protected.epk.d: unknown member");
    refused(f.key, f.with_epk(with(f.epk, "kty", "\"OKP\"")), Errc::Unsupported,
            "jwe.protected.epk.kty: found \"OKP\", expected \"EC\"");
    refused(f.key, f.with_epk(with(f.epk, "crv", "\"P-521\"")), Errc::Unsupported,
            "jwe.protected.epk.crv: found \"P-521\", expected \"P-256\"");

    // A P-384 epk, as a P-384 sender would write it.
    auto p384 = jwe::EcKey::generate(jwe::Curve::P384);
    REQUIRE(p384.ok());
    Members epk384 = {{"kty", quoted("EC")},
                      {"crv", quoted("P-384")},
                      {"x", quoted(base64url_encode(p384->x()))},
                      {"y", quoted(base64url_encode(p384->y()))}};
    refused(f.key, f.with_epk(epk384), Errc::Unsupported, "jwe.protected.epk.crv: found \"P-384\", expected \"P-256\"");
    refused(f.key, f.with_epk(with(epk384, "crv", quoted("P-256"))), Errc::Format,
            "jwe.protected.epk.x: 48 bytes, expected 32");

    // Off the curve: y with its low bit flipped, a coordinate equal to p, the origin.
    Bytes y = *base64url_decode(f.epk[3].second.substr(1, 43));
    y[31] ^= 0x01;
    refused(f.key, f.with_epk(with(f.epk, "y", quoted(base64url_encode(y)))), Errc::Format,
            "jwe.protected.epk: (x, y) is not a point on P-256");
    Bytes p = *from_hex("ffffffff00000001000000000000000000000000ffffffffffffffffffffffff");
    refused(f.key, f.with_epk(with(f.epk, "x", quoted(base64url_encode(p)))), Errc::Format, "is not a point on P-256");
    refused(f.key,
            f.with_epk(
                with(with(f.epk, "x", quoted(base64url_encode(Bytes(32)))), "y", quoted(base64url_encode(Bytes(32))))),
            Errc::Format, "is not a point on P-256");
    refused(f.key, f.with_epk(with(f.epk, "x", quoted(base64url_encode(Bytes(33, 1))))), Errc::Format,
            "jwe.protected.epk.x: 33 bytes, expected 32");
}

TEST_CASE("TeeKey::decrypt: a changed protected header, tag, iv, ciphertext or wrapped key is Errc::Crypto")
{
    Fixture f;
    // The same header members in another order: the same key agreement, another AAD.
    Members reordered = {f.header[1], f.header[0], f.header[2]};
    refused(f.key, f.with_header(reordered), Errc::Crypto, "jwe.tag: AES-GCM authentication failed");
    for (const char* name : {"tag", "iv", "ciphertext", "encrypted_key"}) {
        CAPTURE(std::string_view(name));
        Bytes bytes = *base64url_decode(f.raw_member(name));
        bytes[bytes.size() / 2] ^= 0x80;
        refused(f.key, f.jwe(with(f.top, name, quoted(base64url_encode(bytes)))), Errc::Crypto,
                std::string_view(name) == "encrypted_key" ? "jwe.encrypted_key: AES key unwrap" : "jwe.tag: AES-GCM");
    }
    // A ciphertext one byte shorter or longer.
    Bytes ciphertext = *base64url_decode(f.raw_member("ciphertext"));
    Bytes longer = ciphertext;
    longer.push_back(0);
    refused(f.key, f.jwe(with(f.top, "ciphertext", quoted(base64url_encode(longer)))), Errc::Crypto, "jwe.tag");
    ciphertext.pop_back();
    refused(f.key, f.jwe(with(f.top, "ciphertext", quoted(base64url_encode(ciphertext)))), Errc::Crypto, "jwe.tag");
}

}  // namespace
}  // namespace cvm::kbs
