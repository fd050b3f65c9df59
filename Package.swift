// swift-tools-version:6.0
// The LASER toolkit: one linear-algebra core and one LASER module shared by a Sokoban agent and a
// small language model. Dependencies point one way:
// CLI → Agent / TextModel → Policy / Sokoban / Laser / QuantizedKernels → LinearAlgebra → CBLAS.
import PackageDescription

let optimize: [SwiftSetting] = [
    .unsafeFlags(["-Ounchecked", "-wmo"], .when(configuration: .release))
]

let package = Package(
    name: "laser",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "laser", targets: ["LaserCLI"]),
        .library(name: "LinearAlgebra", targets: ["LinearAlgebra"]),
        .library(name: "Laser", targets: ["Laser"]),
        .library(name: "Sokoban", targets: ["Sokoban"]),
        .library(name: "TextModel", targets: ["TextModel"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-collections", from: "1.1.0"),
        .package(url: "https://github.com/apple/swift-crypto", "3.0.0"..<"5.0.0"),
        .package(url: "https://github.com/apple/swift-system", from: "1.4.0"),
    ],
    targets: [
        // OpenBLAS (cblas) and LAPACKE through a module map; Debian: libopenblas-dev liblapacke-dev.
        .systemLibrary(
            name: "CBLAS", path: "Sources/CBLAS",
            providers: [.apt(["libopenblas-dev", "liblapacke-dev"])]),
        .target(
            name: "LinearAlgebra",
            dependencies: ["CBLAS", .product(name: "SystemPackage", package: "swift-system")],
            swiftSettings: optimize),
        .target(
            name: "Laser",
            dependencies: [
                "LinearAlgebra", .product(name: "Collections", package: "swift-collections"),
            ],
            swiftSettings: optimize),
        .target(
            name: "Sokoban",
            dependencies: [
                .product(name: "Collections", package: "swift-collections"),
                .product(name: "SystemPackage", package: "swift-system"),
            ],
            swiftSettings: optimize),
        .target(name: "Policy", dependencies: ["LinearAlgebra", "Laser"], swiftSettings: optimize),
        .target(
            name: "Agent", dependencies: ["Policy", "Sokoban", "Laser", "LinearAlgebra"],
            swiftSettings: optimize),
        // Products through ggml-quantized weights (C: AVX2 / AVX-512 VNNI, chosen at run time).
        // Optimized in every configuration: debug tests run the real model through it.
        .target(name: "QuantizedKernels", cSettings: [.unsafeFlags(["-O3"])]),
        .target(
            name: "TextModel",
            dependencies: [
                "LinearAlgebra", "Laser", "QuantizedKernels",
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: optimize),
        .executableTarget(
            name: "LaserCLI",
            dependencies: [
                "LinearAlgebra", "Laser", "Sokoban", "Policy", "Agent", "TextModel",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: optimize),
        .testTarget(name: "LinearAlgebraTests", dependencies: ["LinearAlgebra"]),
        .testTarget(name: "LaserTests", dependencies: ["Laser", "LinearAlgebra"]),
        .testTarget(name: "SokobanTests", dependencies: ["Sokoban"]),
        .testTarget(name: "PolicyTests", dependencies: ["Policy", "Laser", "LinearAlgebra"]),
        .testTarget(name: "AgentTests", dependencies: ["Agent", "Policy", "Sokoban", "Laser"]),
        .testTarget(
            name: "TextModelTests",
            dependencies: ["TextModel", "Laser", "LinearAlgebra", "QuantizedKernels"]),
        .testTarget(name: "LaserCLITests", dependencies: ["LaserCLI"]),
    ]
)
