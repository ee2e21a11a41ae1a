// swift-tools-version: 6.1
import PackageDescription

let package = Package(
  name: "stedi",
  platforms: [.macOS(.v15)],
  products: [
    .executable(name: "stedi", targets: ["stedi"]),
    .library(name: "Lakehouse", targets: ["Lakehouse"]),
    .library(name: "Motion", targets: ["Motion"]),
    .library(name: "StepTrainerProtocol", targets: ["StepTrainerProtocol"]),
    .library(name: "SerialPort", targets: ["SerialPort"]),
    .library(name: "StepTrainerHost", targets: ["StepTrainerHost"]),
    .library(name: "StepTrainerSimulator", targets: ["StepTrainerSimulator"]),
  ],
  dependencies: [
    .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
    .package(url: "https://github.com/apple/swift-crypto.git", from: "4.5.2"),
    .package(url: "https://github.com/x-sheep/swift-property-based.git", from: "2.0.1"),
  ],
  targets: [
    // The wire format. Depends on nothing (not even Foundation): it also compiles as Embedded Swift.
    .target(name: "StepTrainerProtocol"),
    .systemLibrary(
      name: "CLibSerialPort",
      pkgConfig: "libserialport",
      providers: [.apt(["libserialport-dev"])]
    ),
    .target(name: "SerialPort", dependencies: ["CLibSerialPort"]),
    .target(
      name: "StepTrainerHost",
      dependencies: ["StepTrainerProtocol", "SerialPort", "Lakehouse"]
    ),
    // The device side, written against a hardware-abstraction protocol; no Foundation, builds as
    // Embedded Swift for the Cortex-M firmware (firmware-protocol/firmware) and natively for tests.
    .target(name: "StepTrainerFirmware", dependencies: ["StepTrainerProtocol"]),
    // A Step Trainer in software, speaking the protocol on a pseudo-terminal like a USB device.
    .target(
      name: "StepTrainerSimulator",
      dependencies: ["StepTrainerProtocol", "SerialPort", "Motion"]
    ),
    // libFuzzer entry point for the frame decoder; see README "Fuzzing". Without -DSTEDI_FUZZ it
    // builds as a small program that says how to build it, so a plain `swift build` still links.
    .executableTarget(name: "stedi-fuzz-decoder", dependencies: ["StepTrainerProtocol"], path: "Fuzz/Decoder"),
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
        "StepTrainerProtocol",
        "SerialPort",
        "StepTrainerHost",
        "StepTrainerSimulator",
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
      ]
    ),
    .testTarget(name: "StepTrainerProtocolTests", dependencies: ["StepTrainerProtocol"]),
    .testTarget(name: "SerialPortTests", dependencies: ["SerialPort"]),
    .testTarget(
      name: "StepTrainerHostTests",
      dependencies: ["StepTrainerHost", "StepTrainerProtocol", "StepTrainerSimulator", "SerialPort", "Lakehouse"]
    ),
    .testTarget(name: "StepTrainerFirmwareTests", dependencies: ["StepTrainerFirmware", "StepTrainerProtocol"]),
    .testTarget(
      name: "StepTrainerSimulatorTests",
      dependencies: ["StepTrainerSimulator", "StepTrainerProtocol", "SerialPort"]
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
