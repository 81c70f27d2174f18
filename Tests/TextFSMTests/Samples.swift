/// Hand-written outputs of common commands, as the devices print them.
let realisticSamples: [(platform: String, command: String, text: String)] = [
    ("cisco_ios", "show ip interface brief", """
        Interface              IP-Address      OK? Method Status                Protocol
        GigabitEthernet0/0     10.0.0.1        YES NVRAM  up                    up
        GigabitEthernet0/1     unassigned      YES NVRAM  administratively down down
        GigabitEthernet0/2     192.168.12.1    YES manual up                    up
        Loopback0              1.1.1.1         YES NVRAM  up                    up
        Vlan100                172.16.100.1    YES NVRAM  up                    down
        """),
    ("cisco_ios", "show version", """
        Cisco IOS Software, IOSv Software (VIOS-ADVENTERPRISEK9-M), Version 15.6(2)T, RELEASE SOFTWARE (fc2)
        Technical Support: http://www.cisco.com/techsupport
        Copyright (c) 1986-2016 by Cisco Systems, Inc.
        Compiled Tue 22-Mar-16 16:19 by prod_rel_team


        ROM: Bootstrap program is IOSv

        par-core1 uptime is 2 weeks, 3 days, 4 hours, 12 minutes
        System returned to ROM by reload
        System image file is "flash0:/vios-adventerprisek9-m"
        Last reload reason: Unknown reason

        Cisco IOSv (revision 1.0) with  with 460033K/62464K bytes of memory.
        Processor board ID 9KBJ4WBWQ0LM4JHJ1N24H
        4 Gigabit Ethernet interfaces
        DRAM configuration is 72 bits wide with parity disabled.
        256K bytes of non-volatile configuration memory.
        2097152K bytes of ATA System CompactFlash 0 (Read/Write)
        0K bytes of ATA CompactFlash 1 (Read/Write)

        Configuration register is 0x2102
        """),
    ("cisco_ios", "show interfaces", """
        GigabitEthernet0/0 is up, line protocol is up
          Hardware is iGbE, address is 5254.0012.3456 (bia 5254.0012.3456)
          Description: uplink to par-core2
          Internet address is 10.0.0.1/30
          MTU 1500 bytes, BW 1000000 Kbit/sec, DLY 10 usec,
             reliability 255/255, txload 1/255, rxload 1/255
          Encapsulation ARPA, loopback not set
          Keepalive set (10 sec)
          Full Duplex, 1Gbps, media type is RJ45
          output flow-control is unsupported, input flow-control is unsupported
          ARP type: ARPA, ARP Timeout 04:00:00
          Last input 00:00:01, output 00:00:00, output hang never
          Last clearing of "show interface" counters never
          Input queue: 0/75/0/0 (size/max/drops/flushes); Total output drops: 0
          Queueing strategy: fifo
          Output queue: 0/40 (size/max)
          5 minute input rate 2000 bits/sec, 3 packets/sec
          5 minute output rate 1000 bits/sec, 2 packets/sec
             123456 packets input, 9876543 bytes, 0 no buffer
             Received 1234 broadcasts (0 IP multicasts)
             0 runts, 0 giants, 0 throttles
             0 input errors, 0 CRC, 0 frame, 0 overrun, 0 ignored
             0 watchdog, 0 multicast, 0 pause input
             65432 packets output, 5432109 bytes, 0 underruns
             0 output errors, 0 collisions, 1 interface resets
             0 unknown protocol drops
             0 babbles, 0 late collision, 0 deferred
             0 lost carrier, 0 no carrier, 0 pause output
             0 output buffer failures, 0 output buffers swapped out
        GigabitEthernet0/1 is administratively down, line protocol is down
          Hardware is iGbE, address is 5254.0012.3457 (bia 5254.0012.3457)
          MTU 9000 bytes, BW 1000000 Kbit/sec, DLY 10 usec,
             reliability 255/255, txload 1/255, rxload 1/255
          Encapsulation ARPA, loopback not set
          Keepalive set (10 sec)
          Auto Duplex, Auto Speed, media type is RJ45
          ARP type: ARPA, ARP Timeout 04:00:00
          Last input never, output never, output hang never
          Input queue: 0/75/0/0 (size/max/drops/flushes); Total output drops: 0
          5 minute input rate 0 bits/sec, 0 packets/sec
          5 minute output rate 0 bits/sec, 0 packets/sec
             0 packets input, 0 bytes, 0 no buffer
             0 input errors, 0 CRC, 0 frame, 0 overrun, 0 ignored
             0 packets output, 0 bytes, 0 underruns
             0 output errors, 0 collisions, 0 interface resets
        """),
    ("cisco_ios", "show ip route", """
        Codes: L - local, C - connected, S - static, R - RIP, M - mobile, B - BGP
               D - EIGRP, EX - EIGRP external, O - OSPF, IA - OSPF inter area
               N1 - OSPF NSSA external type 1, N2 - OSPF NSSA external type 2
               E1 - OSPF external type 1, E2 - OSPF external type 2
               i - IS-IS, su - IS-IS summary, L1 - IS-IS level-1, L2 - IS-IS level-2
               ia - IS-IS inter area, * - candidate default, U - per-user static route
               o - ODR, P - periodic downloaded static route, H - NHRP, l - LISP
               + - replicated route, % - next hop override

        Gateway of last resort is 10.0.0.2 to network 0.0.0.0

        S*    0.0.0.0/0 [1/0] via 10.0.0.2
              10.0.0.0/8 is variably subnetted, 4 subnets, 2 masks
        C        10.0.0.0/30 is directly connected, GigabitEthernet0/0
        L        10.0.0.1/32 is directly connected, GigabitEthernet0/0
        O        10.1.0.0/24 [110/2] via 10.0.0.2, 01:02:03, GigabitEthernet0/0
        O E2     10.2.0.0/16 [110/20] via 10.0.0.2, 2d03h, GigabitEthernet0/0
              172.16.0.0/16 is variably subnetted, 2 subnets, 2 masks
        B        172.16.0.0/24 [20/0] via 192.168.12.2, 1w2d
        D        172.16.1.0/24 [90/130816] via 192.168.12.2, 00:10:11, GigabitEthernet0/2
                               [90/130816] via 10.0.0.2, 00:10:11, GigabitEthernet0/0
        """),
    ("arista_eos", "show interfaces status", """
        Port       Name              Status       Vlan     Duplex Speed  Type            Flags Encapsulation
        Et1        uplink-core1      connected    routed   full   100G   100GBASE-SR4
        Et2        server-a          connected    10       full   10G    10GBASE-T
        Et3                          notconnect   1        auto   auto   10GBASE-T
        Et4        trunk-to-acc      connected    trunk    full   25G    25GBASE-CR
        Ma1        oob               connected    routed   a-full a-1G   10/100/1000
        """),
    ("juniper_junos", "show interfaces terse", """
        Interface               Admin Link Proto    Local                 Remote
        ge-0/0/0                up    up
        ge-0/0/0.0              up    up   inet     10.0.0.5/30
                                           inet6    fe80::5254:ff:fe12:3456/64
        ge-0/0/1                up    down
        ge-0/0/1.0              up    down inet     10.0.1.5/30
        lo0                     up    up
        lo0.0                   up    up   inet     5.5.5.5             --> 0/0
        fxp0                    up    up
        fxp0.0                  up    up   inet     192.168.1.5/24
        """),
    ("cisco_nxos", "show version", """
        Cisco Nexus Operating System (NX-OS) Software
        TAC support: http://www.cisco.com/tac
        Documents: http://www.cisco.com/en/US/products/ps9372/tsd_products_support_series_home.html
        Copyright (c) 2002-2020, Cisco Systems, Inc. All rights reserved.

        Software
          BIOS: version 07.68
          NXOS: version 9.3(5)
          BIOS compile time:  04/21/2020
          NXOS image file is: bootflash:///nxos.9.3.5.bin
          NXOS compile time:  7/20/2020 20:00:00 [07/21/2020 05:00:43]

        Hardware
          cisco Nexus9000 C93180YC-EX chassis
          Intel(R) Xeon(R) CPU  @ 1.80GHz with 24632888 kB of memory.
          Processor Board ID FDO21120U8G

          Device name: nyc-leaf1
          bootflash: 53298520 kB
        Kernel uptime is 12 day(s), 3 hour(s), 5 minute(s), 42 second(s)

        Last reset at 123456 usecs after Mon Mar  2 10:00:00 2020
          Reason: Reset Requested by CLI command reload
          System version: 9.3(5)
          Service:

        plugin
          Core Plugin, Ethernet Plugin
        """),
]
