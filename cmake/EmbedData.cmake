# EmbedData.cmake - compiles the Danish code lists of data/ into jm_common.
#
# One file, two modes:
# - included from common/CMakeLists.txt (project mode), it adds a build step
#   that turns data/denmark/municipalities.csv, data/denmark/postcodes.csv and
#   data/target_groups.csv into ${CMAKE_BINARY_DIR}/common/dk_tables.c, and
#   sets JM_DK_TABLES_C to that path. The step re-runs when a CSV or this
#   file changes.
# - run by that step as `cmake -P EmbedData.cmake` (script mode), it does the
#   conversion. The build needs nothing but CMake and the C compiler, and a
#   service never reads the CSVs at run time.
#
# The CSVs are kept deliberately plain: comma-separated, one header line, no
# quoted fields, and none of the characters ; [ ] \ " (which CMake lists or C
# string literals would mangle). The generator refuses anything else rather
# than guess, checks every code and coordinate, sorts the rows by code (dk.c
# binary-searches them) and fails the build with "file:line: reason".
# UTF-8 names are copied verbatim into the C string literals.

if(NOT CMAKE_SCRIPT_MODE_FILE)
  set(JM_DK_TARGET_GROUP_DEFAULT_LIST "2025" CACHE STRING
      "Target-group list version used when a profile names none")
  set(_jm_dk_csvs
      ${PROJECT_SOURCE_DIR}/data/denmark/municipalities.csv
      ${PROJECT_SOURCE_DIR}/data/denmark/postcodes.csv
      ${PROJECT_SOURCE_DIR}/data/target_groups.csv)
  set(JM_DK_TABLES_C ${CMAKE_BINARY_DIR}/common/dk_tables.c)
  add_custom_command(
    OUTPUT ${JM_DK_TABLES_C}
    COMMAND ${CMAKE_COMMAND}
            -DJM_MUNICIPALITIES=${PROJECT_SOURCE_DIR}/data/denmark/municipalities.csv
            -DJM_POSTCODES=${PROJECT_SOURCE_DIR}/data/denmark/postcodes.csv
            -DJM_TARGET_GROUPS=${PROJECT_SOURCE_DIR}/data/target_groups.csv
            -DJM_DEFAULT_LIST=${JM_DK_TARGET_GROUP_DEFAULT_LIST}
            -DJM_OUTPUT=${JM_DK_TABLES_C}
            -P ${CMAKE_CURRENT_LIST_FILE}
    DEPENDS ${_jm_dk_csvs} ${CMAKE_CURRENT_LIST_FILE}
    COMMENT "Embedding data/ code lists into dk_tables.c"
    VERBATIM)
  return()
endif()

# ---- script mode -----------------------------------------------------------

# Empty list elements matter here ("a,,b" has three fields): CMP0007 NEW.
cmake_minimum_required(VERSION 3.20)

foreach(_var JM_MUNICIPALITIES JM_POSTCODES JM_TARGET_GROUPS JM_DEFAULT_LIST
             JM_OUTPUT)
  if(NOT DEFINED ${_var} OR "${${_var}}" STREQUAL "")
    message(FATAL_ERROR "EmbedData.cmake: -D${_var}=... is required")
  endif()
endforeach()

# The JobKind numbers of proto/jobmatch/v1/types.proto; test_dk.c checks
# them against the generated protobuf-c enum.
set(_kind_ORDINARY 1)
set(_kind_WAGE_SUBSIDY_PRIVATE 2)
set(_kind_WAGE_SUBSIDY_PUBLIC 3)
set(_kind_INTERNSHIP 4)
set(_kind_FLEX_JOB 5)
set(_kind_IGU 6)
set(_kind_ADULT_APPRENTICE 7)

set(_number_re "^-?[0-9]+(\\.[0-9]+)?$")

# read_csv(<path> <expected header> <out rows> <out line numbers>)
# Rows come back as a CMake list of "f1,f2,..." strings, without the header
# or blank lines; the second list holds each row's line number in the file.
function(read_csv path header rows_var lines_var)
  file(READ "${path}" text)
  foreach(bad ";" "[" "]" "\\" "\"")
    string(FIND "${text}" "${bad}" pos)
    if(pos GREATER_EQUAL 0)
      message(FATAL_ERROR "${path}: the character '${bad}' is not allowed "
                          "(plain CSV only: no quoting)")
    endif()
  endforeach()
  string(REPLACE "\r" "" text "${text}")
  string(REPLACE "\n" ";" all_lines "${text}")
  set(rows)
  set(numbers)
  set(lineno 0)
  foreach(line IN LISTS all_lines)
    math(EXPR lineno "${lineno} + 1")
    if(lineno EQUAL 1)
      if(NOT line STREQUAL header)
        message(FATAL_ERROR "${path}:1: header must be '${header}'")
      endif()
    elseif(NOT line STREQUAL "")
      list(APPEND rows "${line}")
      list(APPEND numbers ${lineno})
    endif()
  endforeach()
  set(${rows_var} "${rows}" PARENT_SCOPE)
  set(${lines_var} "${numbers}" PARENT_SCOPE)
endfunction()

# split_row(<row> <expected field count> <where> <out>): the fields of one
# row as a CMake list; fails on the wrong number of fields.
function(split_row row count where out)
  string(REPLACE "," ";" fields "${row}")
  list(LENGTH fields n)
  if(NOT n EQUAL count)
    message(FATAL_ERROR "${where}: ${n} fields, expected ${count}")
  endif()
  set(${out} "${fields}" PARENT_SCOPE)
endfunction()

# C string literal: the CSV has no '"' or '\', so only '?' needs escaping
# (-std=c11 enables trigraphs, and "??" could start one).
function(c_string text out)
  string(REPLACE "?" "\\?" text "${text}")
  set(${out} "\"${text}\"" PARENT_SCOPE)
endfunction()

# Sorting the whole "code,..." line sorts by code, because every code of a
# file has the same width (checked below before sorting).
function(sort_and_check_unique rows_var path)
  set(rows ${${rows_var}})
  list(SORT rows)
  set(previous "")
  foreach(row IN LISTS rows)
    string(REGEX MATCH "^[^,]*" code "${row}")
    if(code STREQUAL previous)
      message(FATAL_ERROR "${path}: code ${code} appears twice")
    endif()
    set(previous "${code}")
  endforeach()
  set(${rows_var} "${rows}" PARENT_SCOPE)
endfunction()

# ---- municipalities --------------------------------------------------------

read_csv("${JM_MUNICIPALITIES}" "code,name,region,lat,lon" muni_rows
         muni_lines)
set(muni_codes)
foreach(row lineno IN ZIP_LISTS muni_rows muni_lines)
  set(where "${JM_MUNICIPALITIES}:${lineno}")
  split_row("${row}" 5 "${where}" f)
  list(GET f 0 code)
  list(GET f 1 name)
  list(GET f 2 region)
  list(GET f 3 lat)
  list(GET f 4 lon)
  if(NOT code MATCHES "^[0-9][0-9][0-9]$")
    message(FATAL_ERROR "${where}: code '${code}' is not 3 digits")
  endif()
  if(name STREQUAL "" OR region STREQUAL "")
    message(FATAL_ERROR "${where}: name and region are required")
  endif()
  if(NOT lat MATCHES "${_number_re}" OR NOT lon MATCHES "${_number_re}")
    message(FATAL_ERROR "${where}: lat/lon must be decimal numbers")
  endif()
  list(APPEND muni_codes ${code})
endforeach()
sort_and_check_unique(muni_rows "${JM_MUNICIPALITIES}")

# ---- postcodes -------------------------------------------------------------

read_csv("${JM_POSTCODES}" "postcode,name,municipality_code,lat,lon"
         post_rows post_lines)
foreach(row lineno IN ZIP_LISTS post_rows post_lines)
  set(where "${JM_POSTCODES}:${lineno}")
  split_row("${row}" 5 "${where}" f)
  list(GET f 0 code)
  list(GET f 1 name)
  list(GET f 2 muni)
  list(GET f 3 lat)
  list(GET f 4 lon)
  if(NOT code MATCHES "^[0-9][0-9][0-9][0-9]$")
    message(FATAL_ERROR "${where}: postcode '${code}' is not 4 digits")
  endif()
  if(name STREQUAL "")
    message(FATAL_ERROR "${where}: name is required")
  endif()
  list(FIND muni_codes "${muni}" found)
  if(found LESS 0)
    message(FATAL_ERROR "${where}: unknown municipality '${muni}'")
  endif()
  if(lat STREQUAL "" AND lon STREQUAL "")
    # Known postcode without a trustworthy coordinate: has_coordinates false.
  elseif(NOT lat MATCHES "${_number_re}" OR NOT lon MATCHES "${_number_re}")
    message(FATAL_ERROR "${where}: lat/lon must be numbers, or both empty")
  endif()
endforeach()
sort_and_check_unique(post_rows "${JM_POSTCODES}")

# ---- target groups ---------------------------------------------------------

read_csv("${JM_TARGET_GROUPS}" "list,code,label,job_kinds" group_rows
         group_lines)
set(group_keys)
set(default_found FALSE)
set(group_out "")
foreach(row lineno IN ZIP_LISTS group_rows group_lines)
  set(where "${JM_TARGET_GROUPS}:${lineno}")
  split_row("${row}" 4 "${where}" f)
  list(GET f 0 list_version)
  list(GET f 1 code)
  list(GET f 2 label)
  list(GET f 3 kinds)
  if(NOT list_version MATCHES "^[A-Za-z0-9_.-]+$")
    message(FATAL_ERROR "${where}: bad list version '${list_version}'")
  endif()
  if(NOT code MATCHES "^[a-z0-9_]+$")
    message(FATAL_ERROR "${where}: code '${code}' must be [a-z0-9_]+")
  endif()
  if(label STREQUAL "")
    message(FATAL_ERROR "${where}: label is required")
  endif()
  list(FIND group_keys "${list_version}/${code}" found)
  if(found GREATER_EQUAL 0)
    message(FATAL_ERROR "${where}: ${list_version}/${code} appears twice")
  endif()
  list(APPEND group_keys "${list_version}/${code}")
  if(list_version STREQUAL JM_DEFAULT_LIST)
    set(default_found TRUE)
  endif()
  # "ORDINARY|IGU" -> "(1u << 1) | (1u << 6)"
  string(REPLACE "|" ";" kind_names "${kinds}")
  set(mask "")
  foreach(kind IN LISTS kind_names)
    if(NOT DEFINED _kind_${kind})
      message(FATAL_ERROR "${where}: unknown job kind '${kind}'")
    endif()
    if(NOT mask STREQUAL "")
      string(APPEND mask " | ")
    endif()
    string(APPEND mask "(1u << ${_kind_${kind}})")
  endforeach()
  if(mask STREQUAL "")
    message(FATAL_ERROR "${where}: at least one job kind is required")
  endif()
  c_string("${list_version}" c_list)
  c_string("${code}" c_code)
  c_string("${label}" c_label)
  string(APPEND group_out
         "    {${c_list}, ${c_code}, ${c_label},\n     ${mask}},\n")
endforeach()
if(NOT default_found)
  message(FATAL_ERROR "${JM_TARGET_GROUPS}: the default list "
                      "'${JM_DEFAULT_LIST}' has no rows")
endif()

# ---- output ----------------------------------------------------------------

set(out "/* dk_tables.c - generated by cmake/EmbedData.cmake from\n")
string(APPEND out " * data/denmark/municipalities.csv, data/denmark/postcodes.csv")
string(APPEND out " and\n * data/target_groups.csv. Edit those files, not this")
string(APPEND out " one. Rows are\n * sorted by code. */\n")
string(APPEND out "#include \"dk_tables.h\"\n\n")

string(APPEND out "const jm_dk_municipality jm__dk_municipalities[] = {\n")
foreach(row IN LISTS muni_rows)
  string(REPLACE "," ";" f "${row}")
  list(GET f 0 code)
  list(GET f 1 name)
  list(GET f 2 region)
  list(GET f 3 lat)
  list(GET f 4 lon)
  c_string("${name}" c_name)
  c_string("${region}" c_region)
  string(APPEND out "    {\"${code}\", ${c_name}, ${c_region}, ${lat}, ${lon}},\n")
endforeach()
string(APPEND out "};\n\nconst size_t jm__dk_municipality_count =\n")
string(APPEND out "    sizeof(jm__dk_municipalities) / sizeof(jm__dk_municipalities[0]);\n\n")

string(APPEND out "const jm_dk_postcode jm__dk_postcodes[] = {\n")
foreach(row IN LISTS post_rows)
  string(REPLACE "," ";" f "${row}")
  list(GET f 0 code)
  list(GET f 1 name)
  list(GET f 2 muni)
  list(GET f 3 lat)
  list(GET f 4 lon)
  c_string("${name}" c_name)
  if(lat STREQUAL "")
    set(coords "0, 0, false")
  else()
    set(coords "${lat}, ${lon}, true")
  endif()
  string(APPEND out "    {\"${code}\", ${c_name}, \"${muni}\", ${coords}},\n")
endforeach()
string(APPEND out "};\n\nconst size_t jm__dk_postcode_count =\n")
string(APPEND out "    sizeof(jm__dk_postcodes) / sizeof(jm__dk_postcodes[0]);\n\n")

string(APPEND out "const jm_dk_target_group jm__dk_target_groups[] = {\n")
string(APPEND out "${group_out}")
string(APPEND out "};\n\nconst size_t jm__dk_target_group_count =\n")
string(APPEND out "    sizeof(jm__dk_target_groups) / sizeof(jm__dk_target_groups[0]);\n\n")
c_string("${JM_DEFAULT_LIST}" c_default)
string(APPEND out "const char jm__dk_target_group_default_list[] = ${c_default};\n")

# Write through a temporary file and rename, so that an interrupted run never
# leaves a half-written source behind.
file(WRITE "${JM_OUTPUT}.tmp" "${out}")
file(RENAME "${JM_OUTPUT}.tmp" "${JM_OUTPUT}")
