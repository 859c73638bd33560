#include "core/imageio/data_spec.h"

#include "core/errors.h"
#include "core/imageio/image_folder.h"
#include "core/imageio/tar_shards.h"

namespace ijepa {
namespace {

std::shared_ptr<ImageSource> openOne(const std::string& spec)
{
    if (spec == "fashion-mnist" || spec == "fashion-mnist:train")
        return openFashionMnist("train");
    if (spec == "fashion-mnist:test")
        return openFashionMnist("test");
    if (isShardSpec(spec))
        return openTarShards(spec);
    return openImageFolder(spec);
}

} // namespace

OpenedData openDataSpec(const std::string& spec, double split, std::int64_t limit)
{
    if (!(split >= 0.0 && split < 1.0))
        throw ConfigError("split " + std::to_string(split) + ": must be in [0, 1) (0: no split)");
    OpenedData data;
    data.named = openOne(spec);
    if (split > 0) {
        std::tie(data.train, data.heldOut) = splitSource(data.named, split, 0);
    } else {
        data.train = data.named;
        data.heldOut = spec == "fashion-mnist" || spec == "fashion-mnist:train" ? openFashionMnist("test") : data.train;
    }
    data.train = limitSource(data.train, limit);
    return data;
}

EvaluationSplit evaluationSplit(const std::string& spec, const OpenedData& data)
{
    if (spec == "fashion-mnist:test") // training on the test split: the probe still votes with train
        return {openFashionMnist("train"), data.named, ""};
    if (spec.rfind("fashion-mnist", 0) == 0) // heldOut is the test split (opened without a split)
        return {data.named, data.heldOut, ""};
    if (data.named->classes().empty())
        return {nullptr, nullptr, "the images have no class sub-folders, so there are no labels to probe with"};
    auto [train, test] = splitSource(data.named, 0.8, 0);
    return {train, test, ""};
}

void useProbeSet(DiagnosticsOptions& d, const std::string& spec, const OpenedData& data, bool finalEval)
{
    const auto split = evaluationSplit(spec, data);
    d.source = split.test ? split.test : data.heldOut;
    d.database = split.train;
    if (!split.off.empty())
        d.probeOff = split.off;
    d.finalTrain = finalEval ? split.train : nullptr;
    d.finalTest = finalEval ? split.test : nullptr;
}

} // namespace ijepa
