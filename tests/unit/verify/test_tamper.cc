// Single-bit changes of a real report must be rejected, whether by the parser (reserved fields,
// versions), by a binding rule or by the signature. Each flip is a full verification with the
// chain cached, i.e. one ECDSA P-384 verification (~1 ms with mbedTLS); the flips are shared out
// over the machine's threads, one Verifier per thread.
//
// Every bit of the signed bytes of every signed vector: 5 x 5376 verifications, about 30 s of CPU.
// Under AddressSanitizer, where each verification costs ~15x as much, the sweep of the signed
// bytes flips one bit per byte (the bit position rotating with the byte), so every byte and every
// bit position is still covered; the native build runs the whole sweep.
#include <doctest.h>

#include <atomic>
#include <thread>
#include <vector>

#include "snp/report.h"
#include "verify/verifier.h"
#include "verify_vectors.h"

using namespace cvm;
using namespace cvm::verify;

namespace {

#if defined(__SANITIZE_ADDRESS__)
constexpr bool SANITIZED = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
constexpr bool SANITIZED = true;
#else
constexpr bool SANITIZED = false;
#endif
#else
constexpr bool SANITIZED = false;
#endif

struct Tally {
    std::atomic<size_t> accepted{0}, by_parser{0}, total{0};
};

// Verifies `base` with each bit bits[first], bits[first + step], ... flipped in turn.
void flip_some(const Evidence& base, const std::vector<size_t>& bits, size_t first, size_t step, Tally& tally)
{
    auto verifier = Verifier::create().release_value();
    Evidence ev = base;
    for (size_t i = first; i < bits.size(); i += step) {
        ev.report = base.report;
        ev.report[bits[i] / 8] ^= static_cast<uint8_t>(1u << (bits[i] % 8));
        Verification v = verifier->verify(ev, test::NO_REVOCATION);
        ++tally.total;
        if (v.pass())
            ++tally.accepted;
        if (!v.find("report.format")->pass)
            ++tally.by_parser;
    }
}

void flip_each(const Evidence& base, const std::vector<size_t>& bits, Tally& tally)
{
    size_t threads = std::max(1u, std::thread::hardware_concurrency());
    std::vector<std::thread> pool;
    for (size_t t = 0; t < threads; ++t)
        pool.emplace_back(flip_some, std::cref(base), std::cref(bits), t, threads, std::ref(tally));
    for (auto& th : pool)
        th.join();
}

// Bit indices: every bit of bytes [first_byte, end_byte), or with `one_per_byte` bit (byte % 8)
// of each byte.
std::vector<size_t> bits_of(size_t first_byte, size_t end_byte, bool one_per_byte = false)
{
    std::vector<size_t> out;
    for (size_t bit = first_byte * 8; bit < end_byte * 8; ++bit) {
        if (!one_per_byte || bit % 8 == (bit / 8) % 8)
            out.push_back(bit);
    }
    return out;
}

void sweep_signed_region(const std::string& dir)
{
    CAPTURE(dir);
    Evidence ev = test::vector_evidence(dir, false);
    REQUIRE(Verifier::create().release_value()->verify(ev, test::NO_REVOCATION).pass());
    std::vector<size_t> bits = bits_of(0, snp::SIGNED_SIZE, SANITIZED);
    Tally tally;
    flip_each(ev, bits, tally);
    CHECK(tally.total == (SANITIZED ? 1 : 8) * snp::SIGNED_SIZE);
    CHECK(tally.accepted == 0);
    // Most flips reach the signature check: the parser alone must not be what rejects them.
    CHECK(tally.by_parser < tally.total / 2);
}

}  // namespace

TEST_CASE("flipping any bit of the signed bytes [0, 0x2A0) of every signed vector fails verification")
{
    for (const auto& dir : test::SIGNED_REPORT_VECTORS)
        sweep_signed_region(dir);
}

TEST_CASE("flipping any bit of SIGNATURE.R or SIGNATURE.S makes every signed vector fail")
{
    for (const auto& dir : test::SIGNED_REPORT_VECTORS) {
        CAPTURE(dir);
        Evidence ev = test::vector_evidence(dir, false);
        Tally tally;
        flip_each(ev, bits_of(snp::SIGNATURE_OFFSET, snp::SIGNATURE_OFFSET + 2 * snp::SIGNATURE_COMPONENT_SIZE), tally);
        CHECK(tally.total == 8 * 2 * snp::SIGNATURE_COMPONENT_SIZE);
        CHECK(tally.accepted == 0);
    }
}
