// swift-tools-version:6.0
import PackageDescription

// Swift 6 mode, and every member a file uses must come from a module that file imports, so the
// compiler keeps the module graph honest (docs/architecture.md, ops/check-imports.sh).
let strict: [SwiftSetting] = [.swiftLanguageMode(.v6), .enableUpcomingFeature("MemberImportVisibility")]
// Modules that wrap a C library or a backend keep it out of their interface: imports are
// internal unless marked `public import`, so a client cannot reach through them.
let sealed: [SwiftSetting] = strict + [.enableUpcomingFeature("InternalImportsByDefault")]

let package = Package(
    name: "Loupe",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "loupe", targets: ["loupe"]),
        // The benchmarks, out of the shipped binary; `loupe bench …` runs this one.
        .executable(name: "loupe-bench", targets: ["loupe-bench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "5.0.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        // Named for the connection guards of `loupe serve` (Hummingbird builds on them already).
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.3"),
        .package(url: "https://github.com/apple/swift-nio-extras", from: "1.35.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
    ],
    targets: [
        // Thin module maps over Debian's -dev packages (found through pkg-config).
        .systemLibrary(name: "CRdKafka", pkgConfig: "rdkafka", providers: [.apt(["librdkafka-dev"])]),
        .systemLibrary(name: "CLMDB", pkgConfig: "lmdb", providers: [.apt(["liblmdb-dev"])]),
        .systemLibrary(name: "CBLAS", pkgConfig: "openblas", providers: [.apt(["libopenblas-dev"])]),

        .target(name: "LoupeLMDB", dependencies: ["CLMDB"], swiftSettings: sealed),
        .target(name: "LoupeStore", dependencies: ["LoupeLMDB", "LoupeBytes", "LoupeEvents"], swiftSettings: strict),
        // Seeded, machine-independent randomness and hashing that every deterministic fold shares.
        .target(name: "LoupeRandomness", swiftSettings: strict),
        // Shared utilities: work on every core, and the one blocking executor.
        .target(name: "LoupeConcurrency", swiftSettings: strict),
        .target(name: "LoupeEvents", dependencies: ["LoupeRandomness"], swiftSettings: strict),
        .target(
            name: "LoupeConfig",
            dependencies: ["LoupeEvents", .product(name: "Yams", package: "Yams")],
            swiftSettings: strict
        ),
        // The log contract (EventLog, topics, partitioning, the merged reader, ingestion): no
        // backend, so a module that needs the protocol links neither librdkafka nor LMDB.
        .target(
            name: "LoupeLog",
            dependencies: ["LoupeConcurrency", "LoupeEvents", "LoupeRandomness", "LoupeConfig", .product(name: "Yams", package: "Yams")],
            swiftSettings: strict
        ),
        .target(name: "LoupeKafka", dependencies: ["LoupeLog", "LoupeEvents", "LoupeConfig", "CRdKafka"], swiftSettings: sealed),
        .target(name: "LoupeEmbeddedLog", dependencies: ["LoupeLog", "LoupeEvents", "LoupeLMDB", "LoupeBytes"], swiftSettings: sealed),
        // Opens the backend a configuration names: for the executables.
        .target(name: "LoupeLogBackends", dependencies: ["LoupeLog", "LoupeKafka", "LoupeEmbeddedLog", "LoupeConfig"], swiftSettings: sealed),
        .target(name: "LoupeML", dependencies: ["CBLAS", "LoupeRandomness"], swiftSettings: sealed),
        // Fixed-width numbers in bytes: the one codec of stored layouts and keys.
        .target(name: "LoupeBytes", swiftSettings: strict),
        .target(name: "LoupeWorld", dependencies: ["LoupeEvents", "LoupeRandomness"], swiftSettings: strict),
        .target(
            name: "LoupeEvaluation", dependencies: ["LoupeEvents", "LoupeRandomness", "LoupeML", "LoupeLearning", "LoupeWorld"],
            swiftSettings: strict),
        .target(
            name: "LoupeLearning",
            dependencies: ["LoupeConcurrency", 
                "LoupeEvents", "LoupeLog", "LoupeStore", "LoupeML", "LoupeRandomness", "LoupeConfig", "LoupeBytes",
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strict
        ),
        // The recommendation pipeline on store snapshots, and batch inference: no HTTP.
        .target(
            name: "LoupeServing",
            dependencies: ["LoupeConcurrency", "LoupeEvents", "LoupeRandomness", "LoupeStore", "LoupeML", "LoupeConfig", "LoupeBytes", "CBLAS"],
            swiftSettings: strict
        ),
        // `loupe serve`'s HTTP service over the pipeline.
        .target(
            name: "LoupeHTTP",
            dependencies: ["LoupeConcurrency", 
                "LoupeServing", "LoupeEvents", "LoupeLog", "LoupeStore", "LoupeConfig",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "LoupeBench",
            dependencies: ["LoupeConcurrency", "LoupeHTTP", 
                "LoupeEvents", "LoupeEmbeddedLog", "LoupeLogBackends", "LoupeRandomness", "LoupeLog", "LoupeWorld", "LoupeLearning", "LoupeStore", "LoupeLMDB", "LoupeServing",
                "LoupeConfig", "LoupeBytes", "CBLAS",
            ],
            swiftSettings: strict
        ),
        // Command-line support shared by the executables: global options, progress, errors.
        .target(
            name: "LoupeCLI",
            dependencies: ["LoupeConfig", "LoupeLog", "LoupeLogBackends", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            swiftSettings: strict
        ),
        .executableTarget(
            name: "loupe-bench",
            dependencies: [
                "LoupeCLI", "LoupeBench", "LoupeConcurrency", "LoupeConfig", "LoupeEvents", "LoupeLog", "LoupeKafka", "LoupeEmbeddedLog",
                "LoupeLogBackends", "LoupeLearning", "LoupeML", "LoupeWorld", "LoupeStore", "LoupeServing", "LoupeHTTP",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: strict
        ),
        .executableTarget(
            name: "loupe",
            dependencies: [
                "LoupeCLI", "LoupeConcurrency", "LoupeEvents", "LoupeConfig", "LoupeLog", "LoupeEmbeddedLog", "LoupeKafka",
                "LoupeLogBackends", "LoupeWorld", "LoupeStore", "LoupeLMDB", "LoupeLearning", "LoupeEvaluation", "LoupeServing",
                "LoupeHTTP",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strict
        ),

        .testTarget(name: "LoupeEventsTests", dependencies: ["LoupeEvents", "LoupeRandomness"], swiftSettings: strict),
        .testTarget(name: "LoupeConcurrencyTests", dependencies: ["LoupeConcurrency"], swiftSettings: strict),
        .testTarget(name: "LoupeBytesTests", dependencies: ["LoupeBytes"], swiftSettings: strict),
        .testTarget(name: "LoupeLMDBTests", dependencies: ["LoupeLMDB"], swiftSettings: strict),
        .testTarget(
            name: "LoupeLearningTests",
            dependencies: ["LoupeEmbeddedLog", "LoupeLearning", "LoupeML", "LoupeWorld", "LoupeLog", "LoupeStore", "LoupeEvents", "LoupeConfig"],
            swiftSettings: strict
        ),
        .testTarget(
            name: "LoupeEvaluationTests",
            dependencies: ["LoupeEvaluation", "LoupeLearning", "LoupeML", "LoupeWorld", "LoupeEvents", "LoupeRandomness"],
            resources: [.copy("Fixtures")], swiftSettings: strict),
        .testTarget(name: "LoupeStoreTests", dependencies: ["LoupeStore", "LoupeLMDB", "loupe"], swiftSettings: strict),
        .testTarget(name: "LoupeLogTests", dependencies: ["LoupeEmbeddedLog", "LoupeKafka", "LoupeLog", "LoupeEvents", .product(name: "Yams", package: "Yams")], swiftSettings: strict),
        .testTarget(
            name: "LoupeMLTests", dependencies: ["LoupeML"], resources: [.copy("Fixtures")], swiftSettings: strict),
        .testTarget(name: "LoupeConfigTests", dependencies: ["LoupeConfig"], swiftSettings: strict),
        .testTarget(name: "LoupeWorldTests", dependencies: ["LoupeWorld", "LoupeEvents", "LoupeRandomness"], swiftSettings: strict),
        .testTarget(
            name: "LoupeServingTests",
            dependencies: ["LoupeHTTP", "LoupeEmbeddedLog", 
                "LoupeServing", "LoupeStore", "LoupeLog", "LoupeEvents", "LoupeConfig",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "Yams", package: "Yams"),
            ],
            resources: [.copy("Fixtures")],
            swiftSettings: strict),
        .testTarget(name: "LoupeCLITests", dependencies: ["LoupeEvents", "LoupeLog", "LoupeEmbeddedLog", "loupe"], swiftSettings: strict),
        .testTarget(name: "LoupeBenchTests", dependencies: ["LoupeConcurrency", "LoupeBench", "LoupeStore", "LoupeLog", "LoupeEmbeddedLog", "LoupeKafka", "LoupeEvents"], swiftSettings: strict),
    ]
)
