#!/usr/bin/env bash
# Each program given runs on tcmalloc: the dynamic linker binds libc's own calls of malloc to it
# (so every library's allocations go there), as CMakeLists.txt's PAYCHAN_TCMALLOC intends and the
# benchmarks measured. Usage: allocator_test.sh PROGRAM... (each is started with --help and its
# exit status ignored: the bindings are made before main runs).
set -u
status=0
for program in "$@"; do
  bindings=$(LD_DEBUG=bindings "$program" --help 2>&1 >/dev/null)
  if grep -q "binding file [^ ]*libc\.so\.6 .* to [^ ]*libtcmalloc_minimal\.so[^ ]* .*symbol \`malloc'" <<<"$bindings"; then
    echo "ok: $(basename "$program") allocates through tcmalloc"
  else
    echo "FAIL: $(basename "$program") does not allocate through tcmalloc"
    status=1
  fi
done
exit $status
