// cvm id-block: the SNP ID block and ID authentication block for a launch measurement, as
// sev-snp-measure's snp-create-id-block makes them, and the key digests a `cvm verify` policy
// pins (id_key_digests, author_key_digests).
#include <cstdio>

#include <yyjson.h>

#include "args.h"
#include "base/base64.h"
#include "commands.h"
#include "launch_plan.h"
#include "measure/id_block.h"
#include "measure_request.h"

namespace cvm::cli {

namespace {

constexpr const char* USAGE = R"(usage: cvm id-block --measurement DIGEST --id-key PEM [--author-key PEM] [options]

Makes the ID block and ID authentication block that QEMU passes to SNP_LAUNCH_FINISH
(sev-snp-guest id-block=..., id-auth=...): the expected launch digest and guest policy signed
with the ID key, and the ID key signed with the author key. The PSP then refuses any launch
whose digest or policy differ, and the attestation report carries the keys' digests.

  --measurement DIGEST  the launch digest: base64 (as cvm measure --output-format base64 and
                        sev-snp-measure print it) or 96 hex digits
  --id-key PEM          ECDSA P-384 private key, PEM (SEC1 or PKCS#8, unencrypted)
  --author-key PEM      ECDSA P-384 private key that signs the ID key (optional)
                        (--idkey and --authorkey, snp-create-id-block's spellings, work too)
  --policy VALUE        the guest policy the launch uses (default 0x30000, QEMU's default)
  --family-id HEX       FAMILY_ID, 32 hex digits (default zeros)
  --image-id HEX        IMAGE_ID, 32 hex digits (default zeros)
  --guest-svn N         GUEST_SVN (default 0)
  --output-format FMT   text (default) or json

text output: snp-create-id-block's three lines, then the two lines to paste into a cvm verify
policy:
  id-block=<base64>,id-auth=<base64>[,author-key-enabled=on][,policy=0x...]
                     the whole of QEMU's sev-snp-guest properties for it: author-key-enabled=on
                     with an author key (else the firmware ignores it), policy= when it is not
                     QEMU's default 0x30000 (the launch's policy must be the ID block's)
  id_key_hash: <base64 SHA-384 of the ID public key>
  author_key: <base64 SHA-384 of the author public key>
  id_key_digests = ["<hex>"]
  author_key_digests = ["<hex>"]

Signatures are deterministic (RFC 6979): the same inputs give the same bytes.

exit status: 0 success, 2 usage or input error
)";

const std::vector<FlagSpec> FLAGS = {
    {"measurement", Takes::Value},   {"id-key", Takes::Value},    {"author-key", Takes::Value},
    {"idkey", Takes::Value},         {"authorkey", Takes::Value}, {"policy", Takes::Value},
    {"family-id", Takes::Value},     {"image-id", Takes::Value},  {"guest-svn", Takes::Value},
    {"output-format", Takes::Value},
};

int fail(const Error& e)
{
    return usage_failure("id-block", e);
}

Result<std::optional<std::string>> one_of(const Args& args, const char* name, const char* alias)
{
    if (args.has(name) && args.has(alias))
        return Error::make(Errc::Config, "--%s and --%s are the same option", name, alias);
    return args.has(name) ? args.get(name) : args.get(alias);
}

template <size_t N>
Result<std::array<uint8_t, N>> hex_field(const Args& args, const char* name)
{
    std::array<uint8_t, N> out{};
    auto text = args.get(name);
    if (!text)
        return out;
    auto bytes = from_hex(*text);
    if (!bytes || bytes->size() != N)
        return Error::make(Errc::Config, "--%s: expected %zu hex digits", name, 2 * N);
    std::copy(bytes->begin(), bytes->end(), out.begin());
    return out;
}

Result<measure::IdBlockParams> params(const Args& args)
{
    measure::IdBlockParams p;
    auto text = args.get("measurement");
    if (!text)
        return Error::make(Errc::Config, "needs --measurement DIGEST (see cvm id-block --help)");
    auto ld = text->size() == 2 * p.ld.size() ? from_hex(*text) : base64_decode(*text);
    if (!ld || ld->size() != p.ld.size())
        return Error::make(Errc::Config, "--measurement: expected a 48-byte digest in base64 or 96 hex digits");
    std::copy(ld->begin(), ld->end(), p.ld.begin());
    if (auto policy = args.get("policy"))
        p.policy = TRY(parse_number(*policy, UINT64_MAX, "--policy"));
    if (auto svn = args.get("guest-svn"))
        p.guest_svn = static_cast<uint32_t>(TRY(parse_number(*svn, UINT32_MAX, "--guest-svn")));
    p.family_id = TRY(hex_field<16>(args, "family-id"));
    p.image_id = TRY(hex_field<16>(args, "image-id"));
    return p;
}

std::string qemu_properties(const measure::IdBlockParams& p, const measure::SignedIdBlock& s)
{
    std::string out = id_block_properties(s);
    if (p.policy != measure::DEFAULT_GUEST_POLICY)
        out += ",policy=" + policy_text(p.policy);
    return out;
}

void print_json(const measure::IdBlockParams& p, const measure::SignedIdBlock& s)
{
    yyjson_mut_doc* doc = yyjson_mut_doc_new(nullptr);
    yyjson_mut_val* root = yyjson_mut_obj(doc);
    yyjson_mut_doc_set_root(doc, root);
    auto add = [&](const char* key, const std::string& value) {
        yyjson_mut_obj_add_strncpy(doc, root, key, value.data(), value.size());
    };
    add("measurement", to_hex(p.ld));
    char policy[24];
    snprintf(policy, sizeof policy, "0x%llx", static_cast<unsigned long long>(p.policy));
    add("policy", policy);
    add("family_id", to_hex(p.family_id));
    add("image_id", to_hex(p.image_id));
    yyjson_mut_obj_add_uint(doc, root, "guest_svn", p.guest_svn);
    add("id_block", base64_encode(s.block));
    add("id_auth", base64_encode(s.auth));
    add("qemu_properties", qemu_properties(p, s));
    add("id_key_digest", to_hex(s.id_key_digest));
    if (s.author_key_digest)
        add("author_key_digest", to_hex(*s.author_key_digest));
    size_t len = 0;
    char* text = yyjson_mut_write(doc, YYJSON_WRITE_PRETTY, &len);
    if (text) {
        fwrite(text, 1, len, stdout);
        fputc('\n', stdout);
        free(text);
    }
    yyjson_mut_doc_free(doc);
}

void print_text(const measure::IdBlockParams& p, const measure::SignedIdBlock& s)
{
    printf("%s\n", qemu_properties(p, s).c_str());
    printf("id_key_hash: %s\n", base64_encode(s.id_key_digest).c_str());
    if (s.author_key_digest)
        printf("author_key: %s\n", base64_encode(*s.author_key_digest).c_str());
    printf("id_key_digests = [\"%s\"]\n", to_hex(s.id_key_digest).c_str());
    if (s.author_key_digest)
        printf("author_key_digests = [\"%s\"]\n", to_hex(*s.author_key_digest).c_str());
}

Result<void> run(const Args& args)
{
    std::string format = args.get("output-format").value_or("text");
    if (format != "text" && format != "json")
        return Error::make(Errc::Config, "--output-format: expected text or json");
    measure::IdBlockParams p = TRY(params(args));
    auto id_path = TRY(one_of(args, "id-key", "idkey"));
    auto author_path = TRY(one_of(args, "author-key", "authorkey"));
    if (!id_path)
        return Error::make(Errc::Config, "needs --id-key PEM");
    measure::SigningKey id_key = TRY(load_signing_key(*id_path));
    std::optional<measure::SigningKey> author_key;
    if (author_path)
        author_key.emplace(TRY(load_signing_key(*author_path)));
    measure::SignedIdBlock signed_block = TRY(measure::sign_id_block(p, id_key, author_key ? &*author_key : nullptr));
    if (format == "json")
        print_json(p, signed_block);
    else
        print_text(p, signed_block);
    return {};
}

}  // namespace

int cmd_id_block(const std::vector<std::string>& argv)
{
    auto parsed = parse_command("id-block", argv, FLAGS, USAGE, Positional::None);
    if (const int* status = std::get_if<int>(&parsed))
        return *status;
    const Args& args = std::get<Args>(parsed);
    auto done = run(args);
    if (!done.ok())
        return fail(done.error());
    return EXIT_OK;
}

}  // namespace cvm::cli
