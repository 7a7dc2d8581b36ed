// Interop of lib/kbs's TeeKey with an independent JWE implementation (npm jose, test-only):
//
//   jose_jwe_probe RUN_NODE_SH MAKE_JWE_MJS
//
// generates a TeeKey, has make_jwe.mjs (jose's FlattenedEncrypt, ECDH-ES+A256KW / A256GCM, the
// way Trustee's KBS answers a resource) encrypt random plaintexts of 0, 1, 31, 4096 and 70000
// bytes to the key's JWK, and checks that TeeKey::decrypt gives each plaintext back. Then the
// reverse: a jose JWE with one ciphertext byte flipped, one with its protected header changed,
// and one made for another TeeKey's JWK are each refused with Errc::Crypto.
// Exit 0 when every check passes, 1 otherwise, 77 (skipped) when run_node.sh or make_jwe.mjs
// skip for want of node or jose.
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>
#include <yyjson.h>

#include <sodium.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "base/base64.h"
#include "kbs/tee_key.h"
#include "proto/json.h"

extern char** environ;

using namespace cvm;
using namespace cvm::kbs;

namespace {

constexpr int SKIPPED = 77;
int g_checks = 0;
int g_failures = 0;

void check(bool ok, const std::string& what)
{
    ++g_checks;
    if (!ok) {
        ++g_failures;
        fprintf(stderr, "FAIL: %s\n", what.c_str());
    }
}

std::string jwk_json(const TeeKey& key)
{
    yyjson_mut_doc* doc = yyjson_mut_doc_new(nullptr);
    yyjson_mut_doc_set_root(doc, key.jwk(doc));
    std::string text = proto::write_json(doc);
    yyjson_mut_doc_free(doc);
    return text;
}

// Runs `run_node make_jwe jwk plaintext_file`; its stdout, or its exit status when not 0.
struct NodeResult {
    int status = 0;
    std::string out;
};

NodeResult make_jwe(const char* run_node, const char* script, const std::string& jwk, const Bytes& plaintext)
{
    char path[] = "/tmp/jose_jwe_probe.XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0 || write(fd, plaintext.data(), plaintext.size()) != static_cast<ssize_t>(plaintext.size())) {
        perror("jose_jwe_probe: plaintext file");
        exit(1);
    }
    close(fd);
    int pipe_fds[2];
    if (pipe(pipe_fds) != 0) {
        perror("jose_jwe_probe: pipe");
        exit(1);
    }
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, pipe_fds[1], STDOUT_FILENO);
    posix_spawn_file_actions_addclose(&actions, pipe_fds[0]);
    std::vector<char*> argv = {const_cast<char*>(run_node), const_cast<char*>(script), const_cast<char*>(jwk.c_str()),
                               path, nullptr};
    pid_t pid = 0;
    if (posix_spawn(&pid, run_node, &actions, nullptr, argv.data(), environ) != 0) {
        perror("jose_jwe_probe: posix_spawn");
        exit(1);
    }
    posix_spawn_file_actions_destroy(&actions);
    close(pipe_fds[1]);
    NodeResult result;
    char buffer[65536];
    ssize_t n = 0;
    while ((n = read(pipe_fds[0], buffer, sizeof buffer)) > 0)
        result.out.append(buffer, static_cast<size_t>(n));
    close(pipe_fds[0]);
    int status = 0;
    waitpid(pid, &status, 0);
    unlink(path);
    result.status = WIFEXITED(status) ? WEXITSTATUS(status) : 128;
    return result;
}

// `jwe` with the base64url member `name` decoded, changed by `edit`, and re-encoded.
template <typename Edit>
std::string with_member(const std::string& jwe, const char* name, Edit edit)
{
    auto doc = proto::JsonDoc::parse(jwe, "jwe");
    if (!doc.ok())
        return {};
    std::string text(proto::string_member(doc->root(), name, "jwe").value());
    Bytes bytes = base64url_decode(text).value_or(Bytes{});
    edit(bytes);
    std::string out = jwe;
    out.replace(out.find(text), text.size(), base64url_encode(bytes));
    return out;
}

}  // namespace

int main(int argc, char** argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: jose_jwe_probe RUN_NODE_SH MAKE_JWE_MJS\n");
        return 2;
    }
    auto key = TeeKey::generate();
    auto other = TeeKey::generate();
    if (!key.ok() || !other.ok())
        return 1;
    const std::string jwk = jwk_json(key.value());
    std::string largest;
    for (size_t size : {0, 1, 31, 4096, 70000}) {
        Bytes plaintext(size);
        if (size > 0)
            randombytes_buf(plaintext.data(), plaintext.size());
        NodeResult made = make_jwe(argv[1], argv[2], jwk, plaintext);
        if (made.status == SKIPPED)
            return SKIPPED;
        check(made.status == 0, "make_jwe.mjs exits 0 for " + std::to_string(size) + " bytes");
        if (made.status != 0)
            return 1;
        auto back = key->decrypt(made.out);
        check(back.ok(), "jose's JWE of " + std::to_string(size) +
                             " bytes decrypts: " + (back.ok() ? "" : std::string(back.error().message())));
        check(back.ok() && back->size() == size && constant_time_equal(back->expose(), plaintext),
              "jose's JWE of " + std::to_string(size) + " bytes gives the plaintext back");
        largest = made.out;
    }

    auto refused_crypto = [&](const std::string& jwe, const std::string& what) {
        auto result = key->decrypt(jwe);
        check(!result.ok() && result.error().code() == Errc::Crypto, what + " is refused with Errc::Crypto");
    };
    refused_crypto(with_member(largest, "ciphertext", [](Bytes& b) { b[b.size() / 2] ^= 0x01; }),
                   "jose's JWE with a flipped ciphertext byte");
    // The protected header as jose wrote it plus one space: the same members, another AAD.
    refused_crypto(with_member(largest, "protected", [](Bytes& b) { b.insert(b.begin() + 1, ' '); }),
                   "jose's JWE with a re-spaced protected header");
    NodeResult for_other = make_jwe(argv[1], argv[2], jwk_json(other.value()), Bytes{'k', 'e', 'y'});
    if (for_other.status != 0)
        return 1;
    check(other->decrypt(for_other.out).ok(), "jose's JWE to the other key decrypts there");
    refused_crypto(for_other.out, "jose's JWE to another key");

    printf("jose_jwe_probe: %d checks, %d failures\n", g_checks, g_failures);
    return g_failures == 0 ? 0 : 1;
}
