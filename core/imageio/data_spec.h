#pragma once

#include "core/data/image_source.h"
#include "core/train/diagnostics.h"

#include <cstdint>
#include <memory>
#include <string>

namespace ijepa {

// What a data spec names, the one syntax of `ijepa train --data`, `eval --train/--test`, `embed
// --data` and the workbench: "fashion-mnist" (or "fashion-mnist:train"), "fashion-mnist:test",
// tar shards in the WebDataset layout ("shards/train-{000000..000127}.tar", tar_shards.h), or an
// image folder (first-level sub-folders are classes).
struct OpenedData {
    std::shared_ptr<ImageSource> train;   // the images named (the first `split` of them with a split)
    // Held-out images for diagnostics, the embedding browser and evaluation: Fashion-MNIST's test
    // split for "fashion-mnist"; with a split, the rest of the folder; else the images themselves.
    std::shared_ptr<ImageSource> heldOut;
    std::shared_ptr<ImageSource> named;   // all the images the spec names, before any split or limit
};

// `split` in (0, 1): a seeded split of the images named, `split` of them in `train` (0: none).
// `limit` > 0 keeps the first `limit` training images. Throws DataError naming a missing or empty
// folder, ConfigError for a split outside [0, 1).
OpenedData openDataSpec(const std::string& spec, double split = 0.0, std::int64_t limit = 0);

// The labelled split the online probe and the end-of-run k-NN use for a spec: Fashion-MNIST's train
// (database) and test (queries) splits; an image folder with class sub-folders: a seeded 80/20
// split of it; a folder without classes: none, and `off` says why. Reuses what openDataSpec opened
// (without a split) instead of reading the files again.
struct EvaluationSplit {
    std::shared_ptr<ImageSource> train, test;
    std::string off;
};
EvaluationSplit evaluationSplit(const std::string& spec, const OpenedData& data);

// Points the diagnostics at the spec's probe set: queries from the evaluation split's test part
// (or the held-out images when there are no labels), the database from its train part, and the
// whole split for the end-of-run k-NN when `finalEval`.
void useProbeSet(DiagnosticsOptions& diagnostics, const std::string& spec, const OpenedData& data, bool finalEval);

} // namespace ijepa
