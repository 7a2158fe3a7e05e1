#!/usr/bin/env python3
"""Inclusive instructions per call of chosen functions in a callgrind output file.

Usage: callgrind_per_call.py [--relative-to LABEL] CALLGRIND_OUT LABEL=REGEX [LABEL=REGEX ...]
Each REGEX is searched in the demangled function names; every function it matches counts (their
call counts and inclusive costs are summed), so make it specific. Inclusive cost is what callgrind
records on each call arc, i.e. it is exact for non-recursive functions. Prints one line per label:
calls and instructions per call (and, with --relative-to, the ratio to that label's figure)."""
import re
import sys


def per_call(path, patterns):
    lines = open(path).read().split('\n')
    names, calls, cost, callee = {}, {}, {}, None
    for i, line in enumerate(lines):
        m = re.match(r'^(c?)fn=\((\d+)\)(?: (.*))?$', line)
        if m:
            if m.group(3):
                names[m.group(2)] = m.group(3)
            callee = m.group(2) if m.group(1) else None
            continue
        m = re.match(r'^calls=(\d+)', line)
        if m and callee:
            fields = lines[i + 1].split()
            calls[callee] = calls.get(callee, 0) + int(m.group(1))
            cost[callee] = cost.get(callee, 0) + (int(fields[1]) if len(fields) > 1 else 0)
            callee = None
    out = {}
    for label, regex in patterns:
        n = c = 0
        for k, name in names.items():
            if k in calls and re.search(regex, name):
                n += calls[k]
                c += cost[k]
        out[label] = (n, c / n if n else 0.0)
    return out


if __name__ == '__main__':
    args = sys.argv[1:]
    base = None
    if args[0] == '--relative-to':
        base, args = args[1], args[2:]
    results = per_call(args[0], [arg.split('=', 1) for arg in args[1:]])
    for label, (n, value) in results.items():
        line = f'  {label:32s} {n:9d} calls {value:12.0f} instructions/call'
        if base and results[base][1]:
            line += f'  {value / results[base][1]:6.3f} x {base}'
        print(line)
