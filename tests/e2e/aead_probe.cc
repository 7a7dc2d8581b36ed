// The workload of the e2e "aead" boot: proves that the kernel can instantiate gcm(aes) after the
// agent's modules stage -- the allocation sev-guest's probe makes on 6.12
// (drivers/virt/coco/sev-guest/sev-guest.c: init_crypto()) -- by asking the kernel's crypto API
// for it through an AF_ALG socket (crypto/algif_aead.c; the test image adds algif_aead, which a
// production image never carries) and checking a known answer: McGrew and Viega, "The
// Galois/Counter Mode of Operation (GCM)", test case 4 (AES-128, 96-bit IV, 20 bytes of AAD, 60
// bytes of plaintext). Prints one line; exits 0 only when the ciphertext and tag match and the
// kernel rejects a forged tag (EBADMSG).
#include <linux/if_alg.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

namespace {

using Bytes = std::vector<uint8_t>;

Bytes hex(const char* text)
{
    Bytes out;
    for (size_t i = 0; text[i] && text[i + 1]; i += 2)
        out.push_back(static_cast<uint8_t>(std::stoi(std::string(text + i, 2), nullptr, 16)));
    return out;
}

const Bytes KEY = hex("feffe9928665731c6d6a8f9467308308");
const Bytes IV = hex("cafebabefacedbaddecaf888");
const Bytes AAD = hex("feedfacedeadbeeffeedfacedeadbeefabaddad2");
const Bytes PLAIN = hex("d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"
                        "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39");
const Bytes CIPHER = hex("42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e"
                         "21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091");
const Bytes TAG = hex("5bc94fbc3221a5db94fae95ae7121a47");

int fail(const char* what)
{
    printf("aead-probe: gcm(aes) FAILED: %s: %s\n", what, errno ? strerror(errno) : "mismatch");
    return 1;
}

// One AEAD operation on `op`: input AAD || text, output AAD || result (crypto/algif_aead.c).
// Returns the bytes read, or -1 with errno set.
ssize_t run(int op_fd, uint32_t direction, const Bytes& input, Bytes& output)
{
    alignas(cmsghdr) uint8_t control[CMSG_SPACE(sizeof(uint32_t)) * 2 + CMSG_SPACE(sizeof(af_alg_iv) + 12)] = {};
    iovec io{const_cast<uint8_t*>(input.data()), input.size()};
    msghdr msg{};
    msg.msg_iov = &io;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    cmsghdr* c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_ALG;
    c->cmsg_type = ALG_SET_OP;
    c->cmsg_len = CMSG_LEN(sizeof(uint32_t));
    memcpy(CMSG_DATA(c), &direction, sizeof direction);
    c = CMSG_NXTHDR(&msg, c);
    c->cmsg_level = SOL_ALG;
    c->cmsg_type = ALG_SET_AEAD_ASSOCLEN;
    c->cmsg_len = CMSG_LEN(sizeof(uint32_t));
    uint32_t assoclen = static_cast<uint32_t>(AAD.size());
    memcpy(CMSG_DATA(c), &assoclen, sizeof assoclen);
    c = CMSG_NXTHDR(&msg, c);
    c->cmsg_level = SOL_ALG;
    c->cmsg_type = ALG_SET_IV;
    c->cmsg_len = CMSG_LEN(sizeof(af_alg_iv) + IV.size());
    uint32_t ivlen = static_cast<uint32_t>(IV.size());
    memcpy(CMSG_DATA(c), &ivlen, sizeof ivlen);
    memcpy(CMSG_DATA(c) + sizeof ivlen, IV.data(), IV.size());
    if (sendmsg(op_fd, &msg, 0) != static_cast<ssize_t>(input.size()))
        return -1;
    return read(op_fd, output.data(), output.size());
}

}  // namespace

int main()
{
    int tfm = socket(AF_ALG, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
    if (tfm < 0)
        return fail("socket(AF_ALG) (is algif_aead loaded?)");
    sockaddr_alg addr{};
    addr.salg_family = AF_ALG;
    memcpy(addr.salg_type, "aead", 5);
    memcpy(addr.salg_name, "gcm(aes)", 9);
    errno = 0;
    if (bind(tfm, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0)
        return fail("bind aead gcm(aes) (the kernel cannot instantiate it)");
    if (setsockopt(tfm, SOL_ALG, ALG_SET_KEY, KEY.data(), static_cast<socklen_t>(KEY.size())) != 0)
        return fail("ALG_SET_KEY");
    if (setsockopt(tfm, SOL_ALG, ALG_SET_AEAD_AUTHSIZE, nullptr, static_cast<socklen_t>(TAG.size())) != 0)
        return fail("ALG_SET_AEAD_AUTHSIZE");
    int op = accept4(tfm, nullptr, nullptr, SOCK_CLOEXEC);
    if (op < 0)
        return fail("accept");

    Bytes input = AAD;
    input.insert(input.end(), PLAIN.begin(), PLAIN.end());
    Bytes sealed(AAD.size() + PLAIN.size() + TAG.size());
    errno = 0;
    if (run(op, ALG_OP_ENCRYPT, input, sealed) != static_cast<ssize_t>(sealed.size()))
        return fail("encrypt");
    Bytes want = AAD;
    want.insert(want.end(), CIPHER.begin(), CIPHER.end());
    want.insert(want.end(), TAG.begin(), TAG.end());
    errno = 0;
    if (sealed != want)
        return fail("encrypt: ciphertext or tag differs from GCM test case 4");

    Bytes opened(AAD.size() + PLAIN.size());
    if (run(op, ALG_OP_DECRYPT, sealed, opened) != static_cast<ssize_t>(opened.size()))
        return fail("decrypt");
    errno = 0;
    if (!std::equal(PLAIN.begin(), PLAIN.end(), opened.begin() + AAD.size()))
        return fail("decrypt: plaintext differs");
    sealed.back() ^= 1;
    errno = 0;
    if (run(op, ALG_OP_DECRYPT, sealed, opened) >= 0 || errno != EBADMSG)
        return fail("a forged tag was not rejected with EBADMSG");
    close(op);
    close(tfm);
    printf("aead-probe: gcm(aes) instantiated by the kernel; GCM test case 4 ciphertext and tag match, a forged "
           "tag is rejected\n");
    return 0;
}
