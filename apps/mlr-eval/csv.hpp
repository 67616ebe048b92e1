#pragma once
// .csv files: numbers separated by commas, one row per image, every row the same width, blanks
// around cells tolerated, blank lines skipped. An optional first row of class names (no cell a
// number) is the header. Values are read as float64. Positions in messages are 1-based
// (line, column), as an editor shows them.
#include <charconv>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "files.hpp"
#include "matrix.hpp"
#include "support.hpp"

namespace mlr_eval {

struct csv_table {
  host_matrix values;              // float64
  std::vector<std::string> names;  // from the header row; empty without one
};

namespace csv_detail {

enum class cell_kind { number, empty, text, out_of_range };

struct cell {
  cell_kind kind;
  double value = 0.0;
};

inline cell parse_cell(std::string_view text) {
  text = trim(text);
  if (text.empty()) return {cell_kind::empty};
  if (text.size() > 1 && text[0] == '+' && text[1] != '-') text.remove_prefix(1);  // from_chars takes no '+'
  double value = 0.0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (end != text.data() + text.size() || ec == std::errc::invalid_argument) return {cell_kind::text};
  if (ec == std::errc::result_out_of_range) return {cell_kind::out_of_range};
  return {cell_kind::number, value};
}

inline std::string where(const std::string& path, std::size_t line, std::size_t column) {
  return path + ": line " + std::to_string(line) + ", column " + std::to_string(column);
}

[[noreturn]] inline void bad_cell(const std::string& path, std::size_t line, std::size_t column,
                                  std::string_view text, cell_kind kind, std::string_view note = {}) {
  std::string found = kind == cell_kind::empty ? "an empty cell"
                      : kind == cell_kind::out_of_range
                          ? in_quotes(trim(text)) + ", out of the range of a double"
                          : in_quotes(trim(text));
  if (note.empty() && text.find_first_of(";\t") != std::string_view::npos)
    note = "cells are separated by commas";
  if (!note.empty()) found += " (" + std::string(note) + ")";
  throw failure(where(path, line, column) + ": expected a number, found " + found);
}

// A header is a row without a single number; a row mixing numbers and text is an error.
inline bool is_header(const std::string& path, std::size_t line, const std::vector<std::string_view>& cells) {
  std::optional<std::size_t> number, text;
  for (std::size_t k = 0; k < cells.size(); ++k) {
    const cell c = parse_cell(cells[k]);
    if (c.kind == cell_kind::number && !number) number = k;
    if (c.kind != cell_kind::number && !text) text = k;
  }
  if (!number) return true;
  if (!text) return false;
  bad_cell(path, line, *text + 1, cells[*text], parse_cell(cells[*text]).kind,
           "a header row holds only class names, a data row only numbers");
}

inline std::vector<std::string> header_names(const std::string& path, std::size_t line,
                                             const std::vector<std::string_view>& cells) {
  std::vector<std::string> names;
  for (std::size_t k = 0; k < cells.size(); ++k) {
    std::string_view name = trim(cells[k]);
    if (name.size() >= 2 && name.front() == '"' && name.back() == '"') name = name.substr(1, name.size() - 2);
    if (name.empty())
      throw failure(where(path, line, k + 1) +
                    ": empty class name in the header row (an index column? "
                    "write the file without one, e.g. pandas' index=False)");
    names.emplace_back(name);
  }
  return names;
}

}  // namespace csv_detail

inline csv_table parse_csv(const std::string& path, std::string_view text) {
  using namespace csv_detail;
  csv_table table;
  std::vector<double> values;
  std::size_t width = 0, width_line = 0;
  index_t rows = 0;
  const auto lines = split(text, '\n');
  for (std::size_t l = 0; l < lines.size(); ++l) {
    const std::size_t line = l + 1;
    if (trim(lines[l]).empty()) continue;
    const auto cells = split(lines[l], ',');
    if (width == 0) {
      width = cells.size();
      width_line = line;
      if (is_header(path, line, cells)) {
        table.names = header_names(path, line, cells);
        continue;
      }
    } else if (cells.size() != width) {
      throw failure(path + ": line " + std::to_string(line) + ": expected " + std::to_string(width) +
                    " values as on line " + std::to_string(width_line) + ", found " +
                    std::to_string(cells.size()));
    }
    for (std::size_t k = 0; k < cells.size(); ++k) {
      const cell c = parse_cell(cells[k]);
      if (c.kind != cell_kind::number) bad_cell(path, line, k + 1, cells[k], c.kind);
      values.push_back(c.value);
    }
    ++rows;
  }
  if (width == 0) fail(path, "the file is empty");
  if (rows == 0) fail(path, "no data rows after the header row");
  table.values = matrix_from<double>(values, rows, static_cast<index_t>(width));
  return table;
}

inline csv_table read_csv(const std::string& path) {
  input_file file(path);
  const std::string text = file.read_all();
  return parse_csv(path, text);
}

}  // namespace mlr_eval
