#pragma once

// Tar shards in the WebDataset layout: the members of a sample share a key (the member's path up
// to the first dot of its file name); an image member (.jpg, .jpeg, .png or .webp) and an optional
// .cls holding the class index as text.

#include "core/data/image_source.h"

#include <memory>
#include <string>
#include <vector>

namespace ijepa {

// True for a data spec that names shards: a path ending in ".tar", with or without a brace range.
bool isShardSpec(const std::string& spec);

// "train-{000000..000003}.tar" -> the four names, zero-padded to the width written ("{0..3}"
// unpadded); a spec without braces is itself. Throws ConfigError for a malformed range.
std::vector<std::string> expandShardPattern(const std::string& spec);

// The pattern naming a shard and its numbered siblings: picking ".../train-000003.tar" beside
// train-000000 .. train-000007 gives ".../train-{000000..000007}.tar" (the unbroken run of numbers
// around the one picked, same width); a file without such siblings is itself.
std::string shardPatternFor(const std::string& file);

// Shuffle buffer of the shard order (WebDataset's shuffle(n)): samples leave the buffer in a
// random order once it holds this many.
inline constexpr std::size_t kShardShuffleBuffer = 2000;

// The shards a spec names, indexed from their tar headers (one 512-byte read per member; the
// images are read when drawn, member by member). The training order of an epoch is WebDataset's:
// the shards shuffled, each rank its own shards (shard k of the shuffled list on rank k mod
// worldSize), their samples in order through a shuffle buffer of kShardShuffleBuffer, all drawn
// from the epoch's seed, so resuming at any iteration rebuilds the same order.
// Throws DataError naming a missing shard, a file that is not a tar, or shards without images; a
// corrupt header or a truncated member is kept as a sample that fails to decode with a message
// naming the shard (the loader skips and names it) and the rest of that shard is dropped.
std::shared_ptr<ImageSource> openTarShards(const std::string& spec);

} // namespace ijepa
