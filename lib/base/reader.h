// Reader: the one bounds-checked cursor over untrusted bytes.
//
// Every read names the field it reads; a read past the end fails with Errc::Format naming the
// field, its offset, how many bytes it needed and how many were left. Nothing is ever cast over
// the buffer. A parse ends with finish(), which fails on trailing bytes. The Reader borrows the
// span: the caller keeps the bytes alive while the Reader and the views it returned are in use.
#pragma once

#include <array>
#include <cstdint>
#include <cstring>

#include "base/bytes.h"
#include "base/result.h"

namespace cvm {

class Reader {
public:
    // `what` names the input in errors ("ATTESTATION_REPORT", "certificate table", ...).
    explicit Reader(ByteView data, const char* what = "input") : m_data(data), m_what(what) {}

    size_t offset() const { return m_offset; }
    size_t remaining() const { return m_data.size() - m_offset; }
    bool at_end() const { return remaining() == 0; }

    Result<uint8_t> u8(const char* field);
    Result<uint16_t> u16le(const char* field);
    Result<uint32_t> u32le(const char* field);
    Result<uint64_t> u64le(const char* field);
    Result<uint16_t> u16be(const char* field);
    Result<uint32_t> u32be(const char* field);

    // A view of the next n bytes, valid as long as the underlying buffer.
    Result<ByteView> bytes(size_t n, const char* field);

    template <size_t N>
    Result<std::array<uint8_t, N>> array(const char* field)
    {
        ByteView v = TRY(bytes(N, field));
        std::array<uint8_t, N> out;
        memcpy(out.data(), v.data(), N);
        return out;
    }

    // A reserved range that the spec says must be zero: fails naming the field and the first
    // non-zero byte's offset and value.
    Result<void> zeros(size_t n, const char* field);

    Result<void> skip(size_t n, const char* field);

    // Succeeds only when every byte was consumed.
    Result<void> finish() const;

private:
    Result<ByteView> take(size_t n, const char* field);

    ByteView m_data;
    size_t m_offset{0};
    const char* m_what;
};

}  // namespace cvm
