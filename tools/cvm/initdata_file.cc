#include "initdata_file.h"

#include "base/file.h"
#include "kernel-cmdline/deployment.h"

namespace cvm::cli {

Result<void> check_agent_entry(const initdata::Document& document)
{
    auto entry = document.data.find(initdata::AGENT_ENTRY);
    if (entry == document.data.end())
        return {};
    auto deployment = cmdline::parse_deployment(entry->second);
    if (!deployment.ok())
        return deployment.release_error().prefix("[data] \"%s\"", initdata::AGENT_ENTRY);
    return {};
}

Result<initdata::Document> load_initdata(const std::string& path)
{
    std::string text = TRY(read_text_file(path, initdata::MAX_INITDATA_SIZE));
    initdata::Document document = TRY_PREFIX(initdata::parse(text), "%s", path.c_str());
    TRY_PREFIX(check_agent_entry(document), "%s", path.c_str());
    return document;
}

}  // namespace cvm::cli
