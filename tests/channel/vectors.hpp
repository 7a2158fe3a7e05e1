// Reads tests/vectors/batch-settlement.json (made with viem 2.57.20 from the contract's type
// strings; see its "generator" field) for the known-answer tests.
#pragma once

#include <rapidjson/document.h>

#include <fstream>
#include <sstream>
#include <string>

namespace paychan::test {

inline const rapidjson::Document& vectors() {
  static const rapidjson::Document doc = [] {
    std::ifstream in(std::string{PAYCHAN_VECTORS_DIR} + "/batch-settlement.json");
    std::stringstream text;
    text << in.rdbuf();
    rapidjson::Document d;
    d.Parse(text.str().c_str());
    return d;
  }();
  return doc;
}

inline std::string str(const rapidjson::Value& v, const char* key) { return v[key].GetString(); }

}  // namespace paychan::test
