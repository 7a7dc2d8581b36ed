#include "proto/hpke.h"

#include <doctest/doctest.h>

#include <cstring>
#include <string>

namespace cvm::proto {
namespace {

Bytes hex(std::string_view text)
{
    auto bytes = from_hex(text);
    REQUIRE(bytes);
    return *bytes;
}

template <size_t N>
std::array<uint8_t, N> hex_array(std::string_view text)
{
    Bytes bytes = hex(text);
    REQUIRE(bytes.size() == N);
    std::array<uint8_t, N> out;
    memcpy(out.data(), bytes.data(), N);
    return out;
}

template <size_t N>
Secret<N> hex_secret(std::string_view text)
{
    auto bytes = hex_array<N>(text);
    Secret<N> out;
    memcpy(out.expose().data(), bytes.data(), N);
    return out;
}

template <size_t N>
std::string hex_of(const Secret<N>& s)
{
    return to_hex(s.expose());
}

bool contains(const Error& e, std::string_view needle)
{
    return e.message().find(needle) != std::string_view::npos;
}

// RFC 9180 Appendix A.2.1: DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, ChaCha20Poly1305, mode_base
// (mode 0, kem_id 32, kdf_id 1, aead_id 3), transcribed from the RFC text; encryption sequence
// number 0 only, the one a single-shot seal uses.
namespace a21 {
constexpr std::string_view INFO = "4f6465206f6e2061204772656369616e2055726e";
constexpr std::string_view SK_EM = "f4ec9b33b792c372c1d2c2063507b684ef925b8c75a42dbcbf57d63ccd381600";
constexpr std::string_view PK_EM = "1afa08d3dec047a643885163f1180476fa7ddb54c6a8029ea33f95796bf2ac4a";
constexpr std::string_view SK_RM = "8057991eef8f1f1af18f4a9491d16a1ce333f695d4db8e38da75975c4478e0fb";
constexpr std::string_view PK_RM = "4310ee97d88cc1f088a5576c77ab0cf5c3ac797f3d95139c6c84b5429c59662a";
constexpr std::string_view ENC = "1afa08d3dec047a643885163f1180476fa7ddb54c6a8029ea33f95796bf2ac4a";
constexpr std::string_view SHARED_SECRET = "0bbe78490412b4bbea4812666f7916932b828bba79942424abb65244930d69a7";
constexpr std::string_view KEY = "ad2744de8e17f4ebba575b3f5f5a8fa1f69c2a07f6e7500bc60ca6e3e3ec1c91";
constexpr std::string_view BASE_NONCE = "5c4d98150661b848853b547f";
constexpr std::string_view PT = "4265617574792069732074727574682c20747275746820626561757479";
constexpr std::string_view AAD = "436f756e742d30";
constexpr std::string_view CT = "1c5250d8034ec2b784ba2cfd69dbdb8af406cfe3ff938e131f0def8c8b60b4db"
                                "21993c62ce81883d2dd1b51a28";
}  // namespace a21

X25519KeyPair vector_ephemeral()
{
    return X25519KeyPair::from_private(hex_secret<32>(a21::SK_EM));
}

X25519KeyPair vector_recipient()
{
    return X25519KeyPair::from_private(hex_secret<32>(a21::SK_RM));
}

TEST_CASE("HPKE: RFC 9180 A.2.1 key pairs")
{
    CHECK(to_hex(vector_ephemeral().public_key()) == a21::PK_EM);
    CHECK(to_hex(vector_recipient().public_key()) == a21::PK_RM);
}

TEST_CASE("HPKE: RFC 9180 A.2.1 Encap, Decap and key schedule")
{
    auto sender_secret = detail::dhkem_encap(vector_ephemeral(), hex_array<32>(a21::PK_RM));
    REQUIRE(sender_secret.ok());
    CHECK(hex_of(sender_secret.value()) == a21::SHARED_SECRET);

    auto recipient_secret = detail::dhkem_decap(vector_recipient(), hex_array<32>(a21::ENC));
    REQUIRE(recipient_secret.ok());
    CHECK(hex_of(recipient_secret.value()) == a21::SHARED_SECRET);

    auto schedule = detail::key_schedule_base(sender_secret.value(), hex(a21::INFO));
    CHECK(hex_of(schedule.key) == a21::KEY);
    CHECK(hex_of(schedule.base_nonce) == a21::BASE_NONCE);
}

TEST_CASE("HPKE: RFC 9180 A.2.1 encryption sequence number 0, sealed and opened")
{
    auto sealed = hpke_seal_with_ephemeral(hex_array<32>(a21::PK_RM), vector_ephemeral(), hex(a21::INFO), hex(a21::AAD),
                                           hex(a21::PT));
    REQUIRE(sealed.ok());
    CHECK(to_hex(sealed->enc) == a21::ENC);
    CHECK(to_hex(sealed->ct) == a21::CT);

    auto opened = hpke_open(vector_recipient(), hex(a21::ENC), hex(a21::INFO), hex(a21::AAD), hex(a21::CT));
    REQUIRE(opened.ok());
    CHECK(to_hex(opened->expose()) == a21::PT);
}

TEST_CASE("HPKE: seal and open round trip with fresh keys")
{
    X25519KeyPair recipient = X25519KeyPair::generate();
    const Bytes info = {'i'}, aad = {'a', 'a', 'd'};
    for (size_t size : {0, 1, 63, 64, 65, 1000}) {
        CAPTURE(size);
        Bytes plaintext(size, static_cast<uint8_t>(size));
        auto sealed = hpke_seal(recipient.public_key(), info, aad, plaintext);
        REQUIRE(sealed.ok());
        CHECK(sealed->ct.size() == size + HPKE_TAG_SIZE);
        auto opened = hpke_open(recipient, sealed->enc, info, aad, sealed->ct);
        REQUIRE(opened.ok());
        CHECK(constant_time_equal(opened->expose(), plaintext));
    }
    auto first = hpke_seal(recipient.public_key(), {}, {}, {});
    auto second = hpke_seal(recipient.public_key(), {}, {}, {});
    REQUIRE((first.ok() && second.ok()));
    CHECK(first->enc != second->enc);  // a fresh ephemeral key per seal
}

struct Fixture {
    X25519KeyPair recipient = X25519KeyPair::generate();
    Bytes info = {'c', 'v', 'm'};
    Bytes aad = Bytes(64, 0x5a);
    HpkeSealed sealed = hpke_seal(recipient.public_key(), info, aad, Bytes(40, 0x11)).release_value();

    void check_refused(ByteView enc, ByteView info_, ByteView aad_, ByteView ct, const X25519KeyPair* key = nullptr)
    {
        auto opened = hpke_open(key ? *key : recipient, enc, info_, aad_, ct);
        REQUIRE_FALSE(opened.ok());
        CHECK(opened.error().code() == Errc::Crypto);
        CHECK(contains(opened.error(), "HPKE open: ciphertext authentication failed"));
    }
};

TEST_CASE("HPKE: open refuses a wrong key, enc, info, aad or any changed ciphertext bit")
{
    Fixture f;
    REQUIRE(hpke_open(f.recipient, f.sealed.enc, f.info, f.aad, f.sealed.ct).ok());

    X25519KeyPair other = X25519KeyPair::generate();
    f.check_refused(f.sealed.enc, f.info, f.aad, f.sealed.ct, &other);

    for (size_t i = 0; i < f.sealed.enc.size(); ++i) {
        for (uint8_t bit : {uint8_t{0x01}, uint8_t{0x80}}) {
            CAPTURE(i);
            X25519PublicKey enc = f.sealed.enc;
            enc[i] ^= bit;
            // Bit 255 is ignored by X25519 (RFC 7748 §5) but enc is in kem_context, so even
            // that flip changes the key. Other flips may land on a low-order point: also refused.
            auto opened = hpke_open(f.recipient, enc, f.info, f.aad, f.sealed.ct);
            REQUIRE_FALSE(opened.ok());
            CHECK(opened.error().code() == Errc::Crypto);
        }
    }
    for (size_t i = 0; i < f.sealed.ct.size(); ++i) {  // ciphertext and, in the last 16, the tag
        CAPTURE(i);
        Bytes ct = f.sealed.ct;
        ct[i] ^= 0x04;
        f.check_refused(f.sealed.enc, f.info, f.aad, ct);
    }
    Bytes aad = f.aad;
    aad.back() ^= 1;
    f.check_refused(f.sealed.enc, f.info, aad, f.sealed.ct);
    f.check_refused(f.sealed.enc, f.info, {}, f.sealed.ct);
    f.check_refused(f.sealed.enc, Bytes{'c', 'v', 'n'}, f.aad, f.sealed.ct);
    f.check_refused(f.sealed.enc, {}, f.aad, f.sealed.ct);
    Bytes shortened(f.sealed.ct.begin(), f.sealed.ct.end() - 1);
    f.check_refused(f.sealed.enc, f.info, f.aad, shortened);
}

TEST_CASE("HPKE: open bounds-checks enc and ct before any cryptography")
{
    Fixture f;
    for (size_t size : {0, 16, 31, 33, 64}) {
        CAPTURE(size);
        Bytes enc(size, 0x09);
        auto opened = hpke_open(f.recipient, enc, f.info, f.aad, f.sealed.ct);
        REQUIRE_FALSE(opened.ok());
        CHECK(opened.error().code() == Errc::Format);
        CHECK(contains(opened.error(), "enc is"));
    }
    for (size_t size : {0, 1, 15}) {
        CAPTURE(size);
        Bytes ct(f.sealed.ct.begin(), f.sealed.ct.begin() + static_cast<ptrdiff_t>(size));
        auto opened = hpke_open(f.recipient, f.sealed.enc, f.info, f.aad, ct);
        REQUIRE_FALSE(opened.ok());
        CHECK(opened.error().code() == Errc::Format);
        CHECK(contains(opened.error(), "shorter than the 16-byte tag"));
    }
    // Exactly a tag (an empty plaintext's ciphertext) is well-formed; this one just does not verify.
    f.check_refused(f.sealed.enc, f.info, f.aad, ByteView(f.sealed.ct).first(16));
}

// The X25519 points of small order that libsodium refuses (RFC 7748 §5's u-coordinates 0, 1, the
// two order-8 points, and p-1, p, p+1): the DH result with any private key is all zero.
constexpr std::string_view LOW_ORDER[] = {
    "0000000000000000000000000000000000000000000000000000000000000000",
    "0100000000000000000000000000000000000000000000000000000000000000",
    "e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800",
    "5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157",
    "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
    "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
    "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
};

TEST_CASE("HPKE: low-order recipient keys are refused at seal, low-order enc at open")
{
    Fixture f;
    for (std::string_view point : LOW_ORDER) {
        CAPTURE(point);
        auto key = hex_array<32>(point);
        auto sealed = hpke_seal(key, f.info, f.aad, Bytes{1, 2, 3});
        REQUIRE_FALSE(sealed.ok());
        CHECK(sealed.error().code() == Errc::Crypto);
        CHECK(contains(sealed.error(), "HPKE seal"));
        CHECK(contains(sealed.error(), "all-zero"));

        auto opened = hpke_open(f.recipient, key, f.info, f.aad, f.sealed.ct);
        REQUIRE_FALSE(opened.ok());
        CHECK(opened.error().code() == Errc::Crypto);
        CHECK(contains(opened.error(), "HPKE open"));
        CHECK(contains(opened.error(), "all-zero"));
    }
}

}  // namespace
}  // namespace cvm::proto
