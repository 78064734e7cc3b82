// The hostile-input runner: feeds every damaged variant of one file kind to its reader, in process, and
// checks what came back against what the variant allows (torch-free).
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "damage.h"

namespace steper {
namespace hostile {

struct FileKind {
  std::string name;       // "corpus JSONL"
  std::string owner;      // empty: the reader must pass every variant; else the source that owns the reader
                          // (its failures are listed, and left to it)
  std::string base;       // a valid file
  Layout layout = Layout::kJsonLines;
  DamageOptions damage;
  // Writes a variant's bytes under `dir` and returns what the reader is given (a file or a folder).
  std::function<std::string(const std::string& dir, const std::string& bytes)> place;
  // Reads it: a summary of everything loaded (equal summaries = equal content); throws on bad input.
  std::function<std::string(const std::string& input)> load;
  // Field variants ("field: set /context = []") that give the field another form the format allows
  // (a paragraph as one string, an official list where an export had columns): they may load.
  std::vector<std::string> other_valid_forms;
  // Field variants that leave a valid-looking file the reader must still refuse ("field: empty /steps":
  // a trace without steps).
  std::vector<std::string> invalid_forms;
  // More variants of the kind's own (a binary format's structured header).
  std::function<std::vector<Variant>(const std::string& base)> extra_variants;
  // Records in a loaded summary (a kMayLoad JSON variant must keep the base's count); empty: unchecked.
  std::function<size_t(const std::string& summary)> records;
};

struct KindReport {
  size_t tried = 0, rejected = 0, accepted = 0;
  std::vector<std::string> failures;  // "variant: what went wrong"
  std::string text() const;           // "N variants: R rejected with a one-line error, A accepted as valid"
};

// Runs every variant (plus the base, which must load) under `work_dir`.
KindReport run_kind(const FileKind& kind, const std::string& work_dir);

// A file named `name` under dir holding bytes; returns its path.
std::string place_file(const std::string& dir, const std::string& name, const std::string& bytes);
// A copy of folder `base_dir` under dir (files symlinked, not copied) with file `name` replaced by bytes;
// returns the folder.
std::string place_in_folder(const std::string& dir, const std::string& base_dir, const std::string& name,
                            const std::string& bytes, bool copy_others = false);

}  // namespace hostile
}  // namespace steper
