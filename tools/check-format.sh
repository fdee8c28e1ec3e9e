#!/usr/bin/env bash
# check-format.sh - every C source and header of the repository is formatted
# as .clang-format says (the ctest "format"). Lists what is not and exits 1;
# `clang-format -i FILE` fixes a file.
set -euo pipefail
cd "$(dirname "$0")/.."

clang_format=${CLANG_FORMAT:-clang-format}
command -v "$clang_format" >/dev/null || {
  echo "check-format: $clang_format not found (tools/deps.sh installs it)" >&2
  exit 1
}
# The tracked files in a clone; without git (an unpacked tarball), the tree
# minus build directories.
if [ -d .git ] && command -v git >/dev/null; then
  mapfile -t files < <(git ls-files '*.c' '*.h')
else
  mapfile -t files < <(find . -path ./build -prune -o \( -name '*.c' -o -name '*.h' \) -print)
fi
bad=0
for f in "${files[@]}"; do
  if ! "$clang_format" --dry-run --Werror "$f" >/dev/null 2>&1; then
    echo "not formatted: $f (clang-format -i $f)"
    bad=1
  fi
done
[ "$bad" -eq 0 ] && echo "check-format: ${#files[@]} files formatted"
exit "$bad"
