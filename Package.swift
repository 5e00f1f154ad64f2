// swift-tools-version:6.1
import PackageDescription

/// Frontdesk: one binary that serves a small website's front desk.
/// Layers are targets (see ../shared/STYLE.md); folders inside a target are features.
let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
]

let package = Package(
    name: "frontdesk",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "frontdesk", targets: ["frontdesk"]),
    ],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        .package(url: "https://github.com/LebJe/TOMLKit", from: "0.6.0"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache", from: "2.1.1"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-websocket", from: "2.8.1"),
        .package(url: "https://github.com/apple/swift-nio-http2", from: "1.46.0"),
    ],
    targets: [
        .executableTarget(
            name: "frontdesk",
            dependencies: [
                "FrontdeskServer", "FrontdeskCore",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .systemLibrary(name: "CZlib", path: "Sources/CZlib"),
        .target(
            name: "FrontdeskState",
            dependencies: ["CZlib"],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "FrontdeskCore",
            dependencies: [
                "CZlib", "FrontdeskState",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
                .product(name: "TOMLKit", package: "TOMLKit"),
                .product(name: "Mustache", package: "swift-mustache"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOTLS", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "EmbedAssets",
            dependencies: [],
            path: "Sources/EmbedAssets"
        ),
        .plugin(
            name: "EmbedAssetsPlugin",
            capability: .buildTool(),
            dependencies: ["EmbedAssets"],
            path: "Plugins/EmbedAssetsPlugin"
        ),
        .target(
            name: "FrontdeskAssets",
            dependencies: [],
            swiftSettings: swiftSettings,
            plugins: ["EmbedAssetsPlugin"]
        ),
        .target(
            name: "FrontdeskServer",
            dependencies: [
                "FrontdeskCore", "FrontdeskState", "FrontdeskAssets", "CZlib",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdWebSocket", package: "hummingbird-websocket"),
                // TLS without a proxy: HTTP/2 by ALPN beside HTTP/1.1 with the WebSocket upgrade.
                .product(name: "HummingbirdHTTP2", package: "hummingbird"),
                .product(name: "NIOHTTP2", package: "swift-nio-http2"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOTLS", package: "swift-nio"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "BareRoute",
            dependencies: [.product(name: "Hummingbird", package: "hummingbird")],
            path: "Benchmarks/BareRoute"
        ),
        .executableTarget(
            name: "StateBench",
            dependencies: ["FrontdeskState"],
            path: "Benchmarks/StateBench"
        ),
        // The one manual clock every test target shares (test targets cannot import each other).
        .target(
            name: "FrontdeskTestSupport",
            path: "Tests/FrontdeskTestSupport",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "FrontdeskStateTests",
            dependencies: ["FrontdeskState", "FrontdeskTestSupport"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "FrontdeskCoreTests",
            dependencies: [
                "FrontdeskCore", "FrontdeskTestSupport",
                // The mail tests run a real SMTP server (with STARTTLS) written with NIO.
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "FrontdeskServerTests",
            dependencies: [
                "FrontdeskServer", "FrontdeskCore", "FrontdeskTestSupport",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "HummingbirdWSTesting", package: "hummingbird-websocket"),
                .product(name: "HummingbirdWSClient", package: "hummingbird-websocket"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "Metrics", package: "swift-metrics"),
            ],
            swiftSettings: swiftSettings
        ),
    ]
)
