#pragma once

#include "core/eval/embeddings.h"
#include "core/data/image_source.h"

#include <string>

namespace ijepa {

// A file name as one line of a text or TSV file: backslash, newline, carriage return and tab
// written as \\, \n, \r and \t (a file system allows all of them in a name), the rest unchanged.
std::string oneLine(const std::string& name);

// Writes a folder for TensorBoard's Embedding Projector (`tensorboard --logdir DIR`, or the
// standalone projector): tensors.tsv (one embedding per row), metadata.tsv (label and file, with a
// header), sprite.png (a grid of thumbnails in row order, at most 8192 px square) and
// projector_config.pbtxt tying them together. Thumbnails are re-read from `source` by file name.
// Returns the thumbnail side used. Throws DataError naming the folder if it cannot be written.
int writeProjector(const std::string& dir, const Embeddings& embeddings, const ImageSource& source,
                   const std::string& tensorName = "ijepa");

} // namespace ijepa
