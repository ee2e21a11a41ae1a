// swift-tools-version: 6.1
import PackageDescription

let package = Package(
  name: "stedi",
  platforms: [.macOS(.v15)],
  products: [
    .executable(name: "stedi", targets: ["stedi"]),
    .library(name: "Lakehouse", targets: ["Lakehouse"]),
    .library(name: "Motion", targets: ["Motion"]),
  ],
  dependencies: [
    .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
    .package(url: "https://github.com/apple/swift-crypto.git", from: "4.5.2"),
    .package(url: "https://github.com/x-sheep/swift-property-based.git", from: "2.0.1"),
  ],
  targets: [
    .target(name: "Motion"),
    .target(
      name: "Lakehouse",
      // Motion only for its seedable random generator (the sample lake is deterministic).
      dependencies: ["Motion", .product(name: "Crypto", package: "swift-crypto")]
    ),
    .executableTarget(
      name: "stedi",
      dependencies: [
        "Lakehouse",
        "Motion",
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
      ]
    ),
    .testTarget(
      name: "LakehouseTests",
      dependencies: [
        "Lakehouse",
        "Motion",
        .product(name: "PropertyBased", package: "swift-property-based"),
      ]
    ),
    .testTarget(
      name: "MotionTests",
      dependencies: ["Motion"]
    ),
    .testTarget(
      name: "stediTests",
      dependencies: ["stedi", "Lakehouse", "Motion"],
      // A stand-in for AWS Glue's Python module, run by GlueExportTests; not Swift sources.
      exclude: ["Fixtures"]
    ),
  ]
)
