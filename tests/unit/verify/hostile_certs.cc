#include "hostile_certs.h"

#include <doctest.h>

#include <random>
#include <vector>

namespace cvm::test {

namespace {

// One DER element (X.690 §8.1): tag, definite length, content.
Bytes element(uint8_t tag, ByteView content)
{
    Bytes out{tag};
    size_t n = content.size();
    if (n < 0x80) {
        out.push_back(static_cast<uint8_t>(n));
    } else {
        Bytes len;
        for (; n > 0; n >>= 8)
            len.insert(len.begin(), static_cast<uint8_t>(n));
        out.push_back(static_cast<uint8_t>(0x80 | len.size()));
        out.insert(out.end(), len.begin(), len.end());
    }
    out.insert(out.end(), content.begin(), content.end());
    return out;
}

struct Tlv {
    uint8_t tag;
    ByteView whole;  // tag, length and content
    ByteView content;
};

// The elements of `content`, in order; fails the test on malformed DER (the inputs are our own
// fixtures).
std::vector<Tlv> children(ByteView content)
{
    std::vector<Tlv> out;
    size_t at = 0;
    while (at < content.size()) {
        REQUIRE(at + 2 <= content.size());
        uint8_t tag = content[at];
        size_t len = content[at + 1], head = 2;
        if (len & 0x80) {
            size_t bytes = len & 0x7f;
            REQUIRE(at + 2 + bytes <= content.size());
            len = 0;
            for (size_t i = 0; i < bytes; ++i)
                len = len << 8 | content[at + 2 + i];
            head += bytes;
        }
        REQUIRE(at + head + len <= content.size());
        out.push_back({tag, content.subspan(at, head + len), content.subspan(at + head, len)});
        at += head + len;
    }
    return out;
}

Bytes concat(const std::vector<ByteView>& parts)
{
    Bytes out;
    for (ByteView p : parts)
        out.insert(out.end(), p.begin(), p.end());
    return out;
}

Bytes pseudo_random(size_t n, uint64_t seed)
{
    std::mt19937_64 rng(seed);
    Bytes out(n);
    for (uint8_t& b : out)
        b = static_cast<uint8_t>(rng());
    return out;
}

// Certificate ::= SEQUENCE { tbsCertificate, signatureAlgorithm, signatureValue } (RFC 5280 §4.1).
std::vector<Tlv> certificate_fields(ByteView der)
{
    std::vector<Tlv> top = children(der);
    REQUIRE(top.size() == 1);
    std::vector<Tlv> fields = children(top[0].content);
    REQUIRE(fields.size() == 3);
    return fields;
}

}  // namespace

Bytes odd_exponent(size_t bits)
{
    REQUIRE(bits >= 2);
    Bytes e = pseudo_random((bits + 7) / 8, bits);
    size_t top = (bits - 1) % 8;
    e[0] = static_cast<uint8_t>((e[0] & ((1u << top) - 1)) | (1u << top));
    e.back() |= 1;
    if (e[0] & 0x80)  // a DER INTEGER is signed
        e.insert(e.begin(), 0);
    return e;
}

Bytes rsa_spki(size_t modulus_bits, ByteView exponent)
{
    REQUIRE(modulus_bits % 8 == 0);
    Bytes n = pseudo_random(modulus_bits / 8, modulus_bits);
    n[0] |= 0x80;
    n.back() |= 1;
    n.insert(n.begin(), 0);  // positive
    Bytes e(exponent.begin(), exponent.end());
    if (!e.empty() && (e[0] & 0x80))
        e.insert(e.begin(), 0);
    // rsaEncryption 1.2.840.113549.1.1.1, parameters NULL
    const Bytes algorithm = {0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01, 0x05, 0x00};
    Bytes key = element(0x30, concat({element(0x02, n), element(0x02, e)}));
    key.insert(key.begin(), 0);  // BIT STRING: no unused bits
    return element(0x30, concat({algorithm, element(0x03, key)}));
}

Bytes with_public_key(ByteView cert_der, ByteView spki)
{
    std::vector<Tlv> fields = certificate_fields(cert_der);
    // TBSCertificate: version [0], serialNumber, signature, issuer, validity, subject,
    // subjectPublicKeyInfo, ... — the seventh element.
    std::vector<Tlv> tbs = children(fields[0].content);
    REQUIRE(tbs.size() >= 7);
    REQUIRE(tbs[0].tag == 0xa0);
    std::vector<ByteView> parts;
    for (size_t i = 0; i < tbs.size(); ++i)
        parts.push_back(i == 6 ? spki : tbs[i].whole);
    Bytes new_tbs = element(0x30, concat(parts));
    return element(0x30, concat({new_tbs, fields[1].whole, fields[2].whole}));
}

Bytes with_signature_size(ByteView cert_der, size_t size)
{
    std::vector<Tlv> fields = certificate_fields(cert_der);
    Bytes sig = pseudo_random(size, size);
    sig[0] &= 0x7f;
    sig.insert(sig.begin(), 0);  // BIT STRING: no unused bits
    return element(0x30, concat({fields[0].whole, fields[1].whole, element(0x03, sig)}));
}

}  // namespace cvm::test
