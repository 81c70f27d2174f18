#!/usr/bin/env python3
"""The Python side of bench/parse: ntc-templates' parse_output (CliTable, index read once) on every
file, the rows printed as JSON like `switchboard parse --json`; the row count on stderr."""
import json, sys
from ntc_templates.parse import parse_output
platform, command, files = sys.argv[1], sys.argv[2], sys.argv[3:]
rows = 0
out = sys.stdout
for path in files:
    with open(path) as f:
        data = parse_output(platform=platform, command=command, data=f.read())
    rows += len(data)
    out.write(json.dumps(data) + "\n")
print(rows, file=sys.stderr)
