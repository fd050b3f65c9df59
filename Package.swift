// swift-tools-version:6.0
// The LASER toolkit: one linear-algebra core and one LASER module shared by a Sokoban agent and a
// small language model. Dependencies point one way:
// CLI → Agent / TextModel → Policy / Sokoban / Laser / QuantizedKernels → LinearAlgebra → CBLAS,
// and every module may import Core (files, JSON, hashing, random numbers, terminal text).
import Foundation
import PackageDescription

/// Release builds compile the Swift kernels for the vector units of the machine that builds them, as
/// llama.cpp does by default (GGML_NATIVE): AVX-512 or AVX2 + FMA instead of x86-64's baseline SSE2,
/// measured +13–60% on policy training (README, Performance). The arithmetic is unchanged (Swift
/// neither contracts to FMA nor reorders float sums): a training run's weights are bit-identical.
/// `LASER_PORTABLE=1 swift build -c release` builds for any x86-64 (for copying the binary to an
/// older CPU).
let nativeCPU: [String] = {
    guard ProcessInfo.processInfo.environment["LASER_PORTABLE"] == nil,
        let cpuinfo = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
        let line = cpuinfo.split(separator: "\n").first(where: { $0.hasPrefix("flags") })
    else { return [] }
    let flags = Set(line.split(separator: " ").map(String.init))
    if ["avx512f", "avx512cd", "avx512bw", "avx512dq", "avx512vl"].allSatisfy(flags.contains) {
        return ["-target-cpu", "skylake-avx512"]
    }
    if ["avx2", "fma", "bmi2", "f16c", "movbe"].allSatisfy(flags.contains) {
        return ["-target-cpu", "haswell"]
    }
    return []
}()

let optimize: [SwiftSetting] = [
    .unsafeFlags(["-Ounchecked", "-wmo"] + nativeCPU, .when(configuration: .release))
]

let package = Package(
    name: "laser",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "laser", targets: ["LaserCLI"]),
        .library(name: "Core", targets: ["Core"]),
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
        // Durable files, JSON, the one hash and random generator, terminal text, progress.
        .target(
            name: "Core", dependencies: [.product(name: "SystemPackage", package: "swift-system")],
            swiftSettings: optimize),
        .target(
            name: "LinearAlgebra",
            dependencies: [
                "CBLAS", "Core", .product(name: "SystemPackage", package: "swift-system"),
            ],
            swiftSettings: optimize),
        .target(
            name: "Laser",
            dependencies: [
                "Core", "LinearAlgebra",
                .product(name: "Collections", package: "swift-collections"),
            ],
            swiftSettings: optimize),
        .target(
            name: "Sokoban",
            dependencies: [
                "Core",
                .product(name: "Collections", package: "swift-collections"),
                .product(name: "SystemPackage", package: "swift-system"),
            ],
            swiftSettings: optimize),
        .target(
            name: "Policy", dependencies: ["Core", "LinearAlgebra", "Laser"],
            swiftSettings: optimize),
        .target(
            name: "Agent", dependencies: ["Core", "Policy", "Sokoban", "Laser", "LinearAlgebra"],
            swiftSettings: optimize),
        // Products through ggml-quantized weights (C: AVX2 / AVX-512 VNNI, chosen at run time).
        // Optimized in every configuration: debug tests run the real model through it.
        .target(name: "QuantizedKernels", cSettings: [.unsafeFlags(["-O3"])]),
        .target(
            name: "TextModel",
            dependencies: [
                "Core", "LinearAlgebra", "Laser", "QuantizedKernels",
                .product(name: "Collections", package: "swift-collections"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: optimize),
        .executableTarget(
            name: "LaserCLI",
            dependencies: [
                "Core", "LinearAlgebra", "Laser", "Sokoban", "Policy", "Agent", "TextModel",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: optimize),
        .testTarget(name: "CoreTests", dependencies: ["Core"]),
        .testTarget(name: "LinearAlgebraTests", dependencies: ["Core", "LinearAlgebra"]),
        .testTarget(name: "LaserTests", dependencies: ["Core", "Laser", "LinearAlgebra"]),
        .testTarget(name: "SokobanTests", dependencies: ["Core", "Sokoban"]),
        .testTarget(
            name: "PolicyTests", dependencies: ["Core", "Policy", "Laser", "LinearAlgebra"]),
        .testTarget(
            name: "AgentTests", dependencies: ["Agent", "Core", "Policy", "Sokoban", "Laser"]),
        .testTarget(
            name: "TextModelTests",
            dependencies: ["Core", "TextModel", "Laser", "LinearAlgebra", "QuantizedKernels"]),
        .testTarget(name: "LaserCLITests", dependencies: ["LaserCLI"]),
    ]
)
