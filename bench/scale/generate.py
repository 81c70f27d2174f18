#!/usr/bin/env python3
"""Writes an eNMS migration folder with the shape of eNMS's `model_scalability` set:
80,000 devices d1..d80000, 20,027 links, 5,001 pools (1,001 range regexes, then 4,000 `.*`),
10,003 shared services + 1,000 workflows (11,003 services), 2,000 tasks. Deterministic.
Like the real set, the first 28 links (link0..link27) are those of eNMS's `examples` set and name its
devices (Houston, Dallas…), which this set does not hold: an import skips them with a warning."""
import os
import random
import sys

out = sys.argv[1] if len(sys.argv) > 1 else "bench/data/model_scalability"
devices = int(os.environ.get("DEVICES", 80000))
os.makedirs(out, exist_ok=True)
rnd = random.Random(42)

with open(os.path.join(out, "device.yaml"), "w") as f:
    for i in range(1, devices + 1):
        f.write(f"- {{name: d{i}}}\n")

# eNMS's examples links link0..link27: 28 links between 22 US cities that are not in this set.
examples_links = [
    ("Houston", "Dallas"), ("Jackson", "Atlanta"), ("Baltimore", "Washington"), ("Cleveland", "Chicago"),
    ("Cleveland", "Columbus"), ("Cleveland", "Detroit"), ("Cleveland", "Cincinnati"), ("Cleveland", "NewYork"),
    ("PaloAlto", "SanJose"), ("Cambridge", "NewYork"), ("Minneapolis", "Chicago"), ("NewYork", "Philadelphia"),
    ("NewYork", "Washington"), ("Austin", "Dallas"), ("Washington", "SanJose"), ("Washington", "Richmond"),
    ("Washington", "Atlanta"), ("Sacramento", "Oakland"), ("Chicago", "Boston"), ("Chicago", "Denver"),
    ("SanJose", "LosAngeles"), ("SanJose", "Oakland"), ("SanDiego", "LosAngeles"), ("SanFrancisco", "Oakland"),
    ("Dallas", "LosAngeles"), ("Dallas", "Atlanta"), ("Orange", "LosAngeles"), ("Oakland", "Denver"),
]
with open(os.path.join(out, "link.yaml"), "w") as f:
    for i, (a, b) in enumerate(examples_links):
        f.write(f"- {{name: link{i}, source: {a}, destination: {b}}}\n")
    for i in range(20027 - len(examples_links)):
        a, b = rnd.randint(1, devices), rnd.randint(1, devices)
        f.write(f"- {{name: l{i}, source: d{a}, destination: d{b}}}\n")

with open(os.path.join(out, "pool.yaml"), "w") as f:
    for i in range(1001):
        k = i // 100
        f.write(f"- {{device_name: 'd[{max(0, k - 1)}-{min(9, k + 1)}]\\d{{3}}', device_name_match: regex, name: Pool {i}}}\n")
    for i in range(1001, 5001):
        f.write(f"- {{device_name: .*, device_name_match: regex, name: Pool {i}}}\n")

types = ["swiss_army_knife_service", "netmiko_configuration_service", "napalm_backup_service", "netmiko_commands_service"]
with open(os.path.join(out, "service.yaml"), "w") as f:
    for n in ("Start", "End", "Placeholder"):
        f.write(f"- {{name: '[Shared] {n}', scoped_name: {n}, shared: true, type: swiss_army_knife_service}}\n")
    for i in range(1, 10001):
        f.write(f"- {{name: '[Shared] s{i}', scoped_name: s{i}, shared: true, type: {types[i % 4]}}}\n")
    for w in range(1, 1001):
        members = ", ".join(f"'[Shared] s{rnd.randint(1, 999)}'" for _ in range(30))
        f.write(f"- name: w{w}\n  scoped_name: w{w}\n  services: [{members}]\n  shared: false\n  type: workflow\n")

with open(os.path.join(out, "task.yaml"), "w") as f:
    for i in range(1, 2001):
        f.write(f"- {{name: task{i}}}\n")
print(out)
