#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// switchboard-device: the simulated network-OS CLI every Switchboard lab login lands in
// (sshd ForceCommand). All the work is in LabDeviceApp; see App.swift.
exit(LabDeviceApp.run(arguments: Array(CommandLine.arguments.dropFirst())))
