// cvm initdata: compose an init-data document, print the HOST_DATA it binds, and check a
// HOST_DATA (or a report's) against a document, with the code the agent links (lib/initdata).
#include <yyjson.h>

#include <cstdio>
#include <cstdlib>

#include "args.h"
#include "base/file.h"
#include "commands.h"
#include "initdata/initdata.h"
#include "initdata_file.h"
#include "snp/report.h"

namespace cvm::cli {
namespace {

constexpr const char* USAGE =
    R"(usage: cvm initdata compose [--algorithm sha256|sha384|sha512] --entry NAME=FILE... [--out FILE]
       cvm initdata digest FILE [--json]
       cvm initdata check FILE (--host-data HEX | --report REPORT)

An init-data document carries one deployment's configuration outside the measured image, in
the format of Trustee's kbs/docs/initdata.md (algorithm, version "0.1.0", [data] of strings).
The host launches the VM with HOST_DATA = the document's digest (SHA-256, or SHA-384/512 cut to
32 bytes) and hands the document itself to the guest; the guest checks the one against the other
before using a value. launch.toml's `initdata = "FILE"` does both for `cvm launch`.
The digest covers the file's exact bytes: re-encoding it (line ends, comments, key order) is
another HOST_DATA. docs/initdata.md describes it all.

compose              write the canonical document: the two keys, then each entry's file as a
                     TOML literal string, in name order (the same inputs give the same bytes)
  --entry NAME=FILE  a [data] entry from a file (repeatable); cvminit reads "cvminit.toml"
  --algorithm NAME   sha256, sha384 (default, as Trustee's examples) or sha512
  --out FILE         where to write it (default: stdout); HOST_DATA is printed on stderr

digest FILE          check the document as the agent does (and its "cvminit.toml" entry as
                     the deployment settings of docs/initdata.md) and print its HOST_DATA (64 hex
                     digits) on stdout, the algorithm and the full digest on stderr
  --json             {"host_data", "algorithm", "digest", "version", "entries", "size"} instead

check FILE           exit 0 when HOST_DATA is this document's, 1 (naming both) when not
  --host-data HEX    the HOST_DATA to check (64 hex digits)
  --report REPORT    or the HOST_DATA of an attestation report (1184 bytes; its signature is
                     not checked here: `cvm verify` does that)

exit status: 0 success or a match, 1 HOST_DATA mismatch, 2 usage or input error
)";

const std::vector<FlagSpec> FLAGS = {
    {"algorithm", Takes::Value}, {"entry", Takes::Values},    {"out", Takes::Value},
    {"json", Takes::Nothing},    {"host-data", Takes::Value}, {"report", Takes::Value},
};

int fail(const Error& e)
{
    return usage_failure("initdata", e);
}

Result<initdata::Algorithm> algorithm_flag(const Args& args)
{
    std::string name = args.get("algorithm").value_or("sha384");
    for (auto a : {initdata::Algorithm::Sha256, initdata::Algorithm::Sha384, initdata::Algorithm::Sha512}) {
        if (initdata::algorithm_name(a) == name)
            return a;
    }
    return Error::make(Errc::Config, "--algorithm %s: expected sha256, sha384 or sha512", name.c_str());
}

// One positional argument: the document, read and parsed as the agent parses it.
Result<initdata::Document> document_arg(const Args& args, const char* subcommand)
{
    if (args.positional().size() != 1)
        return Error::make(Errc::Config, "%s needs exactly one init-data FILE", subcommand);
    return load_initdata(args.positional()[0]);
}

Result<int> compose(const Args& args)
{
    TRY(refuse_flags(args, "compose", {"json", "host-data", "report"}));
    if (!args.positional().empty())
        return Error::make(Errc::Config, "compose takes no FILE argument (--entry NAME=FILE, --out FILE)");
    initdata::Algorithm algorithm = TRY(algorithm_flag(args));
    std::vector<std::string> entries = args.all("entry");
    if (entries.empty())
        return Error::make(Errc::Config, "compose needs at least one --entry NAME=FILE (cvminit reads %s)",
                           initdata::AGENT_ENTRY);
    std::map<std::string, std::string> data;
    for (const std::string& entry : entries) {
        size_t eq = entry.find('=');
        if (eq == std::string::npos || eq == 0 || eq + 1 == entry.size())
            return Error::make(Errc::Config, "--entry %s: expected NAME=FILE", entry.c_str());
        std::string name = entry.substr(0, eq), path = entry.substr(eq + 1);
        std::string value = TRY_PREFIX(read_text_file(path, initdata::MAX_INITDATA_SIZE), "--entry %s", name.c_str());
        if (!data.emplace(name, std::move(value)).second)
            return Error::make(Errc::Config, "--entry %s: the name is given twice", name.c_str());
    }
    std::string text = TRY(initdata::compose(algorithm, data));
    // What the guest will check: the composed bytes, parsed back as the agent parses them.
    initdata::Document document = TRY(initdata::parse(text));
    TRY(check_agent_entry(document));
    std::string host_data = to_hex(initdata::host_data(document));
    if (auto out = args.get("out")) {
        TRY(write_file_atomic(*out, as_bytes(text)));
        fprintf(stderr, "cvm initdata: %s written (%s, %zu %s); HOST_DATA %s\n", out->c_str(),
                std::string(initdata::algorithm_name(algorithm)).c_str(), data.size(),
                data.size() == 1 ? "entry" : "entries", host_data.c_str());
    } else {
        fwrite(text.data(), 1, text.size(), stdout);
        fprintf(stderr, "cvm initdata: HOST_DATA %s\n", host_data.c_str());
    }
    return EXIT_OK;
}

void print_json(const initdata::Document& d)
{
    yyjson_mut_doc* doc = yyjson_mut_doc_new(nullptr);
    yyjson_mut_val* root = yyjson_mut_obj(doc);
    yyjson_mut_doc_set_root(doc, root);
    std::string host_data = to_hex(initdata::host_data(d));
    std::string digest = to_hex(initdata::digest(d.algorithm, d.text));
    std::string algorithm(initdata::algorithm_name(d.algorithm));
    yyjson_mut_obj_add_strncpy(doc, root, "host_data", host_data.data(), host_data.size());
    yyjson_mut_obj_add_strncpy(doc, root, "algorithm", algorithm.data(), algorithm.size());
    yyjson_mut_obj_add_strncpy(doc, root, "digest", digest.data(), digest.size());
    yyjson_mut_obj_add_strncpy(doc, root, "version", d.version.data(), d.version.size());
    yyjson_mut_val* entries = yyjson_mut_obj_add_arr(doc, root, "entries");
    for (const auto& [name, value] : d.data)
        yyjson_mut_arr_add_strncpy(doc, entries, name.data(), name.size());
    yyjson_mut_obj_add_uint(doc, root, "size", d.text.size());
    size_t len = 0;
    char* text = yyjson_mut_write(doc, YYJSON_WRITE_PRETTY, &len);
    if (text) {
        fwrite(text, 1, len, stdout);
        fputc('\n', stdout);
        free(text);
    }
    yyjson_mut_doc_free(doc);
}

Result<int> digest(const Args& args)
{
    TRY(refuse_flags(args, "digest", {"algorithm", "entry", "out", "host-data", "report"}));
    initdata::Document d = TRY(document_arg(args, "digest"));
    if (args.has("json")) {
        print_json(d);
        return EXIT_OK;
    }
    // stdout is the HOST_DATA alone, for $(cvm initdata digest FILE); the full digest on stderr.
    printf("%s\n", to_hex(initdata::host_data(d)).c_str());
    fprintf(stderr, "cvm initdata: %s %s (HOST_DATA is its first 32 bytes)\n",
            std::string(initdata::algorithm_name(d.algorithm)).c_str(),
            to_hex(initdata::digest(d.algorithm, d.text)).c_str());
    return EXIT_OK;
}

Result<int> check(const Args& args)
{
    TRY(refuse_flags(args, "check", {"algorithm", "entry", "out", "json"}));
    if (args.has("host-data") == args.has("report"))
        return Error::make(Errc::Config, "check needs exactly one of --host-data HEX and --report REPORT");
    initdata::Document d = TRY(document_arg(args, "check"));
    initdata::HostData found{};
    std::string source;
    if (auto hex = args.get("host-data")) {
        auto bytes = from_hex(*hex);
        if (!bytes || bytes->size() != found.size())
            return Error::make(Errc::Config, "--host-data: expected 64 hex digits (32 bytes)");
        std::copy(bytes->begin(), bytes->end(), found.begin());
        source = "--host-data";
    } else {
        std::string path = *args.get("report");
        Bytes raw = TRY(read_file(path, snp::REPORT_SIZE));
        snp::AttestationReport report = TRY_PREFIX(snp::parse_report(raw), "--report %s", path.c_str());
        found = report.host_data;
        source = "the report's HOST_DATA";
    }
    initdata::HostData expected = initdata::host_data(d);
    const std::string& file = args.positional()[0];
    if (found != expected) {
        fprintf(stderr, "cvm initdata: %s %s is not the HOST_DATA of %s, %s (%s of the document), refusing\n",
                source.c_str(), to_hex(found).c_str(), file.c_str(), to_hex(expected).c_str(),
                std::string(initdata::algorithm_name(d.algorithm)).c_str());
        return EXIT_REJECTED;
    }
    printf("HOST_DATA %s is that of %s\n", to_hex(found).c_str(), file.c_str());
    return EXIT_OK;
}

}  // namespace

int cmd_initdata(const std::vector<std::string>& argv)
{
    if (argv.empty() || argv[0] == "-h" || argv[0] == "--help" || argv[0] == "help") {
        fputs(USAGE, argv.empty() ? stderr : stdout);
        return argv.empty() ? EXIT_USAGE : EXIT_OK;
    }
    Result<int> (*run)(const Args&) = argv[0] == "compose"  ? compose
                                      : argv[0] == "digest" ? digest
                                      : argv[0] == "check"  ? check
                                                            : nullptr;
    if (!run)
        return fail(Error::make(Errc::Config, "unknown subcommand '%s' (compose, digest, check)", argv[0].c_str()));
    auto parsed = parse_command("initdata", {argv.begin() + 1, argv.end()}, FLAGS, USAGE, Positional::Allowed);
    if (const int* status = std::get_if<int>(&parsed))
        return *status;
    auto status = run(std::get<Args>(parsed));
    return status.ok() ? status.value() : fail(status.error());
}

}  // namespace cvm::cli
