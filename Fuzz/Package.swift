// swift-tools-version:6.0
// libFuzzer harnesses for the toolkit's parsers, kept out of the main package so its build and
// tests are untouched. Build and run them with scripts/fuzz.sh (which passes
// -sanitize=fuzzer,address); each target is one file exporting LLVMFuzzerTestOneInput.
import PackageDescription

let package = Package(
    name: "laser-fuzz",
    platforms: [.macOS(.v14)],
    dependencies: [.package(name: "laser", path: "..")],
    targets: [
        // The driver entry, the failure of a check and the scratch file every harness uses.
        .target(name: "FuzzSupport", dependencies: [.product(name: "LinearAlgebra", package: "laser")]),
        .executableTarget(
            name: "FuzzLevels",
            dependencies: ["FuzzSupport", .product(name: "Sokoban", package: "laser")]),
        .executableTarget(
            name: "FuzzLURD",
            dependencies: ["FuzzSupport", .product(name: "Sokoban", package: "laser")]),
        .executableTarget(
            name: "FuzzSafetensors",
            dependencies: ["FuzzSupport", .product(name: "LinearAlgebra", package: "laser")]),
        .executableTarget(
            name: "FuzzGGUF",
            dependencies: ["FuzzSupport", .product(name: "TextModel", package: "laser")]),
        .executableTarget(
            name: "FuzzIntervention",
            dependencies: [
                "FuzzSupport", .product(name: "Laser", package: "laser"),
                .product(name: "LinearAlgebra", package: "laser"),
            ]),
    ]
)
