// swift-tools-version: 6.1
import PackageDescription

let package = Package(
  name: "stedi",
  platforms: [.macOS(.v15)],
  products: [
    .executable(name: "stedi", targets: ["stedi"]),
    .library(name: "LakeStorage", targets: ["LakeStorage"]),
    .library(name: "Lakehouse", targets: ["Lakehouse"]),
    .library(name: "LakeExport", targets: ["LakeExport"]),
    .library(name: "Motion", targets: ["Motion"]),
    .library(name: "StepTrainerProtocol", targets: ["StepTrainerProtocol"]),
    .library(name: "SerialPort", targets: ["SerialPort"]),
    .library(name: "StepTrainerHost", targets: ["StepTrainerHost"]),
    .library(name: "StepTrainerSimulator", targets: ["StepTrainerSimulator"]),
    .library(name: "Ingestion", targets: ["Ingestion"]),
  ],
  dependencies: [
    .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
    .package(url: "https://github.com/apple/swift-crypto.git", from: "4.5.2"),
    .package(url: "https://github.com/x-sheep/swift-property-based.git", from: "2.0.1"),
    .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
    .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
    .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
    .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
    .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
    .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
    .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
    .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift.git", from: "0.2.0"),
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
    // For tests only: a real SeaweedFS S3 server on loopback (see scripts/install-seaweedfs.sh).
    .target(name: "StediTestSupport", dependencies: ["LakeStorage"]),
    // Where a lake's objects live: a folder or an S3 bucket, and a local working copy of an S3 lake.
    // Knows nothing of STEDI. AsyncHTTPClient and Crypto for S3 (SigV4 signing is ours: no S3 SDK here).
    .target(
      name: "LakeStorage",
      dependencies: [
        .product(name: "Crypto", package: "swift-crypto"),
        .product(name: "AsyncHTTPClient", package: "async-http-client"),
      ],
      exclude: ["README.md"]
    ),
    .target(
      name: "Lakehouse",
      // Motion only for its seedable random generator (the sample lake is deterministic);
      // Crypto for pseudonyms, erasure keys and quarantine digests.
      dependencies: [
        "LakeStorage",
        "Motion",
        .product(name: "Crypto", package: "swift-crypto"),
      ]
    ),
    // The zone rules rendered for other engines: Spark SQL and a PySpark runner, AWS Glue jobs, Athena DDL.
    .target(name: "LakeExport", dependencies: ["Lakehouse"], exclude: ["README.md"]),
    // Batching into landing storage, the write-ahead log and the HTTP ingest service.
    .target(
      name: "Ingestion",
      dependencies: [
        "Lakehouse",
        "LakeStorage",
        // Only for its CRC-32C, the checksum of the write-ahead log's records.
        "StepTrainerProtocol",
        .product(name: "Crypto", package: "swift-crypto"),
        .product(name: "Hummingbird", package: "hummingbird"),
        // The server's child channel and NIO's HTTP/1 parts: for the connection limits.
        .product(name: "HummingbirdCore", package: "hummingbird"),
        .product(name: "NIOCore", package: "swift-nio"),
        .product(name: "NIOHTTP1", package: "swift-nio"),
        // The health listener's thread of its own.
        .product(name: "NIOPosix", package: "swift-nio"),
        .product(name: "Logging", package: "swift-log"),
        .product(name: "Metrics", package: "swift-metrics"),
        .product(name: "Prometheus", package: "swift-prometheus"),
      ]
    ),
    // Many simulated Step Trainers and phones driving the ingest service; load reports.
    .target(
      name: "Fleet",
      dependencies: [
        "Motion",
        "Lakehouse",
        "LakeStorage",
        // Only for access tokens: the fleet mints its devices' tokens from the lake's key.
        "Ingestion",
        .product(name: "AsyncHTTPClient", package: "async-http-client"),
        .product(name: "Yams", package: "Yams"),
        .product(name: "Histogram", package: "hdrhistogram-swift"),
      ]
    ),
    .executableTarget(
      name: "stedi",
      dependencies: [
        "Fleet",
        "Lakehouse",
        "LakeExport",
        "LakeStorage",
        "Motion",
        "StepTrainerProtocol",
        "SerialPort",
        "StepTrainerHost",
        "StepTrainerSimulator",
        "Ingestion",
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
        .product(name: "Hummingbird", package: "hummingbird"),
        .product(name: "Logging", package: "swift-log"),
        .product(name: "AsyncHTTPClient", package: "async-http-client"),
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
      name: "LakeStorageTests",
      // StediTestSupport for the SeaweedFS server the S3 tests run against.
      dependencies: ["LakeStorage", "StediTestSupport"]
    ),
    .testTarget(
      name: "LakehouseTests",
      dependencies: [
        "Lakehouse",
        "LakeStorage",
        "Motion",
        .product(name: "PropertyBased", package: "swift-property-based"),
      ]
    ),
    .testTarget(name: "LakeExportTests", dependencies: ["LakeExport", "Lakehouse"]),
    .testTarget(
      name: "IngestionTests",
      dependencies: [
        "Ingestion",
        "Lakehouse",
        "LakeStorage",
        "Motion",
        "StediTestSupport",
        .product(name: "HummingbirdTesting", package: "hummingbird"),
        .product(name: "Crypto", package: "swift-crypto"),
      ]
    ),
    .testTarget(name: "FleetTests", dependencies: ["Fleet", "Motion", "Lakehouse", "Ingestion"]),
    .testTarget(
      name: "MotionTests",
      dependencies: ["Motion"]
    ),
    .testTarget(
      name: "stediTests",
      dependencies: [
        "stedi", "Lakehouse", "LakeExport", "LakeStorage", "Motion", "Fleet", "StediTestSupport",
        .product(name: "AsyncHTTPClient", package: "async-http-client"),
      ],
      // A stand-in for AWS Glue's Python module, run by GlueExportTests; not Swift sources.
      exclude: ["Fixtures"]
    ),
  ]
)
