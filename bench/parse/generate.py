#!/usr/bin/env python3
"""Generates DEVICES outputs of Cisco IOS `show interfaces` (~400 lines each) and `show ip route`
(~400 lines each) into DIR/interfaces/NNNN.txt and DIR/route/NNNN.txt, deterministic (seeded)."""
import os, random, sys

out, n = sys.argv[1], int(sys.argv[2])
rnd = random.Random(7)

def interface(name, up):
    mac = "5254.%04x.%04x" % (rnd.randrange(65536), rnd.randrange(65536))
    state = "up" if up else "administratively down"
    proto = "up" if up else "down"
    lines = [
        f"{name} is {state}, line protocol is {proto}",
        f"  Hardware is iGbE, address is {mac} (bia {mac})",
        f"  Description: link {rnd.randrange(1000)} to rtr-{rnd.randrange(100)}",
        f"  Internet address is 10.{rnd.randrange(256)}.{rnd.randrange(256)}.1/30",
        f"  MTU {rnd.choice([1500, 9000, 9216])} bytes, BW 1000000 Kbit/sec, DLY 10 usec,",
        "     reliability 255/255, txload 1/255, rxload 1/255",
        "  Encapsulation ARPA, loopback not set",
        "  Keepalive set (10 sec)",
        "  Full Duplex, 1Gbps, media type is RJ45",
        "  output flow-control is unsupported, input flow-control is unsupported",
        "  ARP type: ARPA, ARP Timeout 04:00:00",
        "  Last input 00:00:01, output 00:00:00, output hang never",
        '  Last clearing of "show interface" counters never',
        "  Input queue: 0/75/0/0 (size/max/drops/flushes); Total output drops: 0",
        "  Queueing strategy: fifo",
        "  Output queue: 0/40 (size/max)",
        f"  5 minute input rate {rnd.randrange(10**6)} bits/sec, {rnd.randrange(1000)} packets/sec",
        f"  5 minute output rate {rnd.randrange(10**6)} bits/sec, {rnd.randrange(1000)} packets/sec",
        f"     {rnd.randrange(10**9)} packets input, {rnd.randrange(10**12)} bytes, 0 no buffer",
        f"     Received {rnd.randrange(10**6)} broadcasts (0 IP multicasts)",
        "     0 runts, 0 giants, 0 throttles",
        f"     {rnd.randrange(10)} input errors, {rnd.randrange(10)} CRC, 0 frame, 0 overrun, 0 ignored",
        "     0 watchdog, 0 multicast, 0 pause input",
        f"     {rnd.randrange(10**9)} packets output, {rnd.randrange(10**12)} bytes, 0 underruns",
        f"     0 output errors, 0 collisions, {rnd.randrange(5)} interface resets",
        "     0 unknown protocol drops",
        "     0 babbles, 0 late collision, 0 deferred",
        "     0 lost carrier, 0 no carrier, 0 pause output",
        "     0 output buffer failures, 0 output buffers swapped out",
    ]
    return lines

ROUTE_HEADER = """Codes: L - local, C - connected, S - static, R - RIP, M - mobile, B - BGP
       D - EIGRP, EX - EIGRP external, O - OSPF, IA - OSPF inter area
       N1 - OSPF NSSA external type 1, N2 - OSPF NSSA external type 2
       E1 - OSPF external type 1, E2 - OSPF external type 2
       i - IS-IS, su - IS-IS summary, L1 - IS-IS level-1, L2 - IS-IS level-2
       ia - IS-IS inter area, * - candidate default, U - per-user static route
       o - ODR, P - periodic downloaded static route, H - NHRP, l - LISP
       + - replicated route, % - next hop override

Gateway of last resort is 10.0.0.2 to network 0.0.0.0

S*    0.0.0.0/0 [1/0] via 10.0.0.2""".split("\n")

def routes():
    lines = list(ROUTE_HEADER)
    while len(lines) < 400:
        a = rnd.randrange(1, 224)
        lines.append(f"      {a}.0.0.0/8 is variably subnetted, 24 subnets, 2 masks")
        for k in range(24):
            proto = rnd.choice(["O   ", "O E2", "B   ", "D   ", "C   ", "L   "])
            net = f"{a}.{rnd.randrange(256)}.{k}.0/24"
            gi = f"GigabitEthernet0/{rnd.randrange(48)}"
            if proto.startswith("C") or proto.startswith("L"):
                lines.append(f"{proto}     {net} is directly connected, {gi}")
            elif proto.startswith("B"):
                lines.append(f"{proto}     {net} [20/0] via 192.168.{rnd.randrange(256)}.2, 1w2d")
            else:
                lines.append(f"{proto}     {net} [110/{rnd.randrange(100)}] via 10.0.{rnd.randrange(256)}.2, 01:02:03, {gi}")
    return lines

for kind in ("interfaces", "route"):
    os.makedirs(os.path.join(out, kind), exist_ok=True)
for d in range(n):
    lines = []
    k = 0
    while len(lines) < 400:
        lines += interface(f"GigabitEthernet0/{k}", rnd.random() < 0.8)
        k += 1
    with open(os.path.join(out, "interfaces", "%04d.txt" % d), "w") as f:
        f.write("\n".join(lines) + "\n")
    with open(os.path.join(out, "route", "%04d.txt" % d), "w") as f:
        f.write("\n".join(routes()) + "\n")
