// swift-tools-version:6.1
import PackageDescription

/// Modules that use the store through its backend-neutral API only (see ARCHITECTURE.md, "The store's API").
let storeClientSettings: [SwiftSetting] = [.enableUpcomingFeature("MemberImportVisibility")]

let package = Package(
    name: "Switchboard",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "switchboard", targets: ["switchboard"]),
        .executable(name: "switchboard-device", targets: ["LabDevice"]),
        .library(name: "Store", targets: ["Store"]),
        .library(name: "Engine", targets: ["Engine"]),
        .library(name: "Console", targets: ["Console"]),
    ],
    dependencies: [
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        .package(url: "https://github.com/yaslab/CSV.swift", from: "2.5.2"),
        // The PostgreSQL backend of the store (and only it).
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
    ],
    targets: [
        // System libraries, found through pkg-config.
        .systemLibrary(
            name: "CNcursesw", path: "Sources/CNcursesw", pkgConfig: "ncursesw",
            providers: [.apt(["libncursesw5-dev"])]),
        .systemLibrary(
            name: "CLibSSH2", path: "Sources/CLibSSH2", pkgConfig: "libssh2",
            providers: [.apt(["libssh2-1-dev"])]),
        // ncurses macros Swift cannot import, re-exported as functions.
        .target(name: "CCursesShim", dependencies: ["CNcursesw"], path: "Sources/CCursesShim"),
        // Linux headers the Glibc module leaves out (epoll, for the lab's latency relay).
        .target(name: "CLinux", path: "Sources/CLinux"),

        .target(
            name: "Store",
            dependencies: [
                "CLinux",
                .product(name: "GRDB", package: "GRDB.swift"),
                // The console's device table is read straight off the statement (80,000 rows at start).
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "CSV", package: "CSV.swift"),
                .product(name: "Logging", package: "swift-log"),
            ]),
        // The store's PostgreSQL backend: the one target that knows postgres-nio.
        .target(
            name: "StorePostgres",
            dependencies: [
                "Store",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
            ]),
        .target(
            name: "Engine",
            dependencies: [
                "Store", "CLibSSH2", "TextFSM",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ],
            // Only the store's backends know their database library: with member import visibility, a
            // GRDB method reached through a Store type does not compile here (ArchitectureTests checks the imports).
            swiftSettings: storeClientSettings),
        // The device lab: real sshd processes serving the simulated CLI, for tests, benchmarks and the demo.
        .target(
            name: "Lab",
            dependencies: ["Store", "CLinux"], swiftSettings: storeClientSettings),
        .target(
            name: "Console",
            // The console knows the store's domain operations only, never its database library.
            dependencies: ["Store", "CNcursesw", "CCursesShim"]),
        .executableTarget(
            name: "switchboard",
            dependencies: [
                "Store", "StorePostgres", "Engine", "Console", "Lab", "TextFSM",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: storeClientSettings),

        // The lab's simulated network-OS CLI: what every lab login lands in. No dependencies, so it
        // starts in milliseconds (it runs once per SSH login, benchmarks included).
        // Release builds (benchmarks, the demo) are fully static: loading and relocating the Swift
        // runtime's shared libraries was 2 of the 3.5 ms a start costs (it runs once per lab login).
        // Not in debug builds, whose test bundles link this target too and cannot be static.
        .executableTarget(name: "LabDevice", path: "Sources/LabDevice",
                          linkerSettings: [.unsafeFlags(["-static-executable"], .when(configuration: .release))]),

        // TextFSM templates (Google's textfsm format) and ntc-templates' index, in Swift; Foundation only.
        // On Linux it calls ICU's regex API directly (the toolchain's _FoundationICU, which Foundation
        // already links).
        .target(name: "TextFSM", path: "Sources/TextFSM",
                linkerSettings: [.linkedLibrary("_FoundationICU", .when(platforms: [.linux]))]),
        .testTarget(name: "TextFSMTests", dependencies: ["TextFSM"]),

        // The store's conformance suite (River's riverdrivertest): one definition, run against each backend
        // by StoreTests (SQLite) and StorePostgresTests (PostgreSQL). Plain code, no XCTest.
        .target(name: "StoreConformance", dependencies: ["Store"], path: "Tests/StoreConformance"),
        .testTarget(name: "StoreTests", dependencies: ["Store", "StoreConformance", .product(name: "GRDB", package: "GRDB.swift")]),
        // A throwaway PostgreSQL cluster for the tests that need a server (store and CLI).
        .target(name: "PostgresTestSupport", dependencies: ["Store", "StorePostgres"], path: "Tests/PostgresTestSupport"),
        .testTarget(name: "StorePostgresTests", dependencies: ["Store", "StorePostgres", "StoreConformance", "PostgresTestSupport"]),
        .testTarget(name: "EngineTests", dependencies: ["Engine", "Lab", "Store", "StorePostgres", "PostgresTestSupport", "LabDevice",
                                                     .product(name: "GRDB", package: "GRDB.swift")]),
        .testTarget(name: "LabDeviceTests", dependencies: ["LabDevice"]),
        .testTarget(name: "ConsoleTests", dependencies: ["Console", "Store", "Lab", "StorePostgres", "PostgresTestSupport"]),
        .testTarget(name: "CLITests", dependencies: ["switchboard", "Store", "StorePostgres", "PostgresTestSupport", "LabDevice", "Lab",
                                                  .product(name: "Crypto", package: "swift-crypto")]),
    ]
)
