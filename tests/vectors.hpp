// Reads the known-answer files in tests/vectors/ (each names its generator in a "generator" field).
#pragma once

#include <rapidjson/document.h>

#include <fstream>
#include <sstream>
#include <string>

namespace paychan::test {

// A vector file of tests/vectors/, parsed once per file name.
inline rapidjson::Document load_vectors(const std::string& file) {
  std::ifstream in(std::string{PAYCHAN_VECTORS_DIR} + "/" + file);
  std::stringstream text;
  text << in.rdbuf();
  rapidjson::Document d;
  d.Parse(text.str().c_str());
  return d;
}

inline const rapidjson::Document& vectors() {
  static const rapidjson::Document doc = load_vectors("batch-settlement.json");
  return doc;
}

inline std::string str(const rapidjson::Value& v, const char* key) { return v[key].GetString(); }

}  // namespace paychan::test
