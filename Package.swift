// swift-tools-version: 6.1
import PackageDescription

let package = Package(
  name: "stedi",
  platforms: [.macOS(.v15)],
  products: [
    .executable(name: "stedi", targets: ["stedi"]),
    .library(name: "LakeStorage", targets: ["LakeStorage"]),
    .library(name: "Lakehouse", targets: ["Lakehouse"]),
    .library(name: "LakePrivacy", targets: ["LakePrivacy"]),
    .library(name: "LakeExport", targets: ["LakeExport"]),
    .library(name: "Motion", targets: ["Motion"]),
    .library(name: "DatasetLanding", targets: ["DatasetLanding"]),
    .library(name: "PhoneCapture", targets: ["PhoneCapture"]),
    .library(name: "SeededRandom", targets: ["SeededRandom"]),
    .library(name: "StepTrainerProtocol", targets: ["StepTrainerProtocol"]),
    .library(name: "Checksums", targets: ["Checksums"]),
    .library(name: "SerialPort", targets: ["SerialPort"]),
    .library(name: "StepTrainerHost", targets: ["StepTrainerHost"]),
    .library(name: "StepTrainerSimulator", targets: ["StepTrainerSimulator"]),
    .library(name: "IngestAPI", targets: ["IngestAPI"]),
    .library(name: "Ingestion", targets: ["Ingestion"]),
    .library(name: "Parquet", targets: ["Parquet"]),
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
    // CRC-32C, for the wire format's frames and the write-ahead log's records. Depends on nothing
    // (not even Foundation): it also compiles as Embedded Swift, before the protocol module.
    .target(name: "Checksums", exclude: ["README.md"]),
    // The wire format. Depends on Checksums only (not even Foundation): it also compiles as Embedded Swift.
    .target(name: "StepTrainerProtocol", dependencies: ["Checksums"], exclude: ["README.md"]),
    .systemLibrary(
      name: "CLibSerialPort",
      pkgConfig: "libserialport",
      providers: [.apt(["libserialport-dev"])]
    ),
    .target(name: "SerialPort", dependencies: ["CLibSerialPort"], exclude: ["README.md"]),
    // The system zstd (libzstd-dev, found through pkg-config), for Parquet's ZSTD codec.
    .systemLibrary(name: "CZstd", pkgConfig: "libzstd", providers: [.apt(["libzstd-dev"])]),
    // Parquet files written and read by hand (no Swift Parquet library builds here): flat schemas,
    // INT64 / DOUBLE / STRING / BOOLEAN, dictionary encoding, statistics, ZSTD. Knows nothing of STEDI.
    .target(name: "Parquet", dependencies: ["CZstd"], exclude: ["README.md"]),
    .target(
      name: "StepTrainerHost",
      // IngestAPI for the capture's ingest sender: the capture reaches the service only through its contract.
      dependencies: ["StepTrainerProtocol", "SerialPort", "Lakehouse", "IngestAPI"],
      exclude: ["README.md"]
    ),
    // The device side, written against a hardware-abstraction protocol; no Foundation, builds as
    // Embedded Swift for the Cortex-M firmware (firmware-protocol/firmware) and natively for tests.
    .target(name: "StepTrainerFirmware", dependencies: ["StepTrainerProtocol"], exclude: ["README.md"]),
    // A Step Trainer in software: the firmware on a simulated board, on a pseudo-terminal like a USB device.
    .target(
      name: "StepTrainerSimulator",
      dependencies: ["StepTrainerFirmware", "StepTrainerProtocol", "SerialPort", "Motion", "SeededRandom"],
      exclude: ["README.md"]
    ),
    // libFuzzer entry point for the frame decoder; see README "Fuzzing". Without -DSTEDI_FUZZ it
    // builds as a small program that says how to build it, so a plain `swift build` still links.
    .executableTarget(name: "stedi-fuzz-decoder", dependencies: ["StepTrainerProtocol"], path: "Fuzz/Decoder"),
    // The same for the Parquet reader; see scripts/fuzz-parquet.sh.
    .executableTarget(name: "stedi-fuzz-parquet", dependencies: ["Parquet"], path: "Fuzz/Parquet"),
    // A seedable random generator (SplitMix64); no STEDI knowledge, used wherever runs must repeat.
    .target(name: "SeededRandom", exclude: ["README.md"]),
    .target(name: "Motion", dependencies: ["SeededRandom"], exclude: ["README.md"]),
    // The motion model's generated datasets written into a lake's landing zone: the one module that
    // sees both Motion's DatasetSink and Lakehouse's landing writer.
    .target(name: "DatasetLanding", dependencies: ["Motion", "Lakehouse", "LakeStorage"], exclude: ["README.md"]),
    // The phyphox and Sensor Logger importers; Motion only for PhoneSample, the sample type that
    // Motion's phone model produces and its step counter reads; Lakehouse for the import run, which
    // lands the samples and quarantines the rejected rows.
    .target(name: "PhoneCapture", dependencies: ["Motion", "Lakehouse"], exclude: ["README.md"]),
    // For tests only: temporary folders and lakes, ingest fakes, log capture, the package's paths and
    // a real SeaweedFS S3 server on loopback (see scripts/install-seaweedfs.sh). Nothing heavier than
    // the lake and the ingest contract: no service, no server framework.
    .target(
      name: "StediTestSupport",
      dependencies: [
        "LakeStorage",
        // Landing sources and zone tables, for the temporary lake's helpers.
        "Lakehouse",
        // Tokens and keys, for the ingest fakes.
        "IngestAPI",
        // Frames, for the device test bench the firmware and simulator tests share.
        "StepTrainerProtocol",
        "Checksums",
        .product(name: "Logging", package: "swift-log"),
        // swift-log's in-memory handler: how a test proves what is never logged.
        .product(name: "InMemoryLogging", package: "swift-log"),
      ],
      exclude: ["README.md"]
    ),
    // A Delta Lake transaction log over lake storage; knows nothing of STEDI.
    .target(name: "DeltaLog", dependencies: ["LakeStorage"], exclude: ["README.md"]),
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
      // SeededRandom for the sample lake (it is deterministic); Crypto for pseudonyms, erasure
      // keys, quarantine digests and Parquet file names; Parquet and DeltaLog for columnar tables.
      dependencies: [
        "LakeStorage",
        "SeededRandom",
        "Parquet",
        "DeltaLog",
        .product(name: "Crypto", package: "swift-crypto"),
      ],
      exclude: ["README.md"]
    ),
    // Erasure across every zone and the ingest log, and the compliance audit: what acts on a whole
    // lake for privacy. The erasure list and matching it applies live in Lakehouse, because the
    // pipeline and the ingest service apply them on every run too.
    .target(
      name: "LakePrivacy", dependencies: ["Lakehouse", "LakeStorage", "Parquet", "DeltaLog"], exclude: ["README.md"]),
    // The ingest service's HTTP contract: paths, request and response bodies, access tokens and
    // the one client. No server framework here: the fleet and the capture command use it too.
    .target(
      name: "IngestAPI",
      dependencies: [
        // Identities and landing sources; the lake's storage for the token key.
        "Lakehouse",
        "LakeStorage",
        .product(name: "Crypto", package: "swift-crypto"),
        .product(name: "AsyncHTTPClient", package: "async-http-client"),
        .product(name: "NIOCore", package: "swift-nio"),
      ],
      exclude: ["README.md"]
    ),
    // The zone rules rendered for other engines: Spark SQL and a PySpark runner, AWS Glue jobs, Athena DDL.
    .target(name: "LakeExport", dependencies: ["Lakehouse"], exclude: ["README.md"]),
    // Batching into landing storage, the write-ahead log and the HTTP ingest service.
    .target(
      name: "Ingestion",
      dependencies: [
        "IngestAPI",
        "Lakehouse",
        // The eraser, re-applied when an erased customer's record arrives late and names their
        // device's serial number.
        "LakePrivacy",
        // CRC-32C, the checksum of the write-ahead log's records.
        "Checksums",
        "LakeStorage",
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
      ],
      exclude: ["README.md"]
    ),
    // Many simulated Step Trainers and phones driving the ingest service; load reports.
    .target(
      name: "Fleet",
      dependencies: [
        "Motion",
        "SeededRandom",
        "Lakehouse",
        // The ingest contract: its client, and the tokens the fleet mints for its devices.
        "IngestAPI",
        "LakeStorage",
        .product(name: "AsyncHTTPClient", package: "async-http-client"),
        .product(name: "Yams", package: "Yams"),
        .product(name: "Histogram", package: "hdrhistogram-swift"),
      ],
      exclude: ["README.md"]
    ),
    .executableTarget(
      name: "stedi",
      dependencies: [
        "Fleet",
        "DatasetLanding",
        "Lakehouse",
        "LakeExport",
        "LakePrivacy",
        "LakeStorage",
        "Motion",
        "PhoneCapture",
        "StepTrainerProtocol",
        "SerialPort",
        "StepTrainerHost",
        "StepTrainerSimulator",
        "IngestAPI",
        "Ingestion",
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
        .product(name: "Hummingbird", package: "hummingbird"),
        .product(name: "Logging", package: "swift-log"),
        .product(name: "AsyncHTTPClient", package: "async-http-client"),
      ],
      exclude: ["README.md"]
    ),
    .testTarget(name: "StepTrainerProtocolTests", dependencies: ["StepTrainerProtocol", "Checksums", "SeededRandom"]),
    .testTarget(name: "SerialPortTests", dependencies: ["SerialPort"]),
    .testTarget(
      name: "StepTrainerHostTests",
      dependencies: ["StepTrainerHost", "StepTrainerProtocol", "StepTrainerSimulator", "SerialPort", "Lakehouse"]
    ),
    .testTarget(
      name: "StepTrainerFirmwareTests",
      dependencies: ["StepTrainerFirmware", "StepTrainerProtocol", "Checksums", "SeededRandom", "StediTestSupport"]
    ),
    .testTarget(name: "ChecksumsTests", dependencies: ["Checksums"]),
    .testTarget(
      name: "DeltaLogTests", dependencies: ["DeltaLog", "LakeStorage", "StediTestSupport"], exclude: ["delta_peer.py"]),
    // Round trips, pyarrow and DuckDB both ways (Python from .venv-parquet), mutated files.
    .testTarget(
      name: "ParquetTests", dependencies: ["Parquet", "SeededRandom", "StediTestSupport"], exclude: ["parquet_check.py"]),
    .testTarget(
      name: "StepTrainerSimulatorTests",
      dependencies: ["StepTrainerSimulator", "StepTrainerFirmware", "StepTrainerProtocol", "SerialPort", "StediTestSupport"]
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
        "Parquet",
        "DeltaLog",
        "SeededRandom",
        "StediTestSupport",
        .product(name: "PropertyBased", package: "swift-property-based"),
      ]
    ),
    .testTarget(
      name: "LakePrivacyTests",
      dependencies: ["LakePrivacy", "Lakehouse", "LakeStorage", "Parquet", "DeltaLog", "StediTestSupport"]),
    .testTarget(name: "LakeExportTests", dependencies: ["LakeExport", "Lakehouse", "StediTestSupport"]),
    .testTarget(
      name: "IngestionTests",
      dependencies: [
        "IngestAPI",
        "Ingestion",
        "Lakehouse",
        "LakePrivacy",
        "LakeStorage",
        "SeededRandom",
        "StediTestSupport",
        .product(name: "HummingbirdTesting", package: "hummingbird"),
        .product(name: "Crypto", package: "swift-crypto"),
      ]
    ),
    .testTarget(
      name: "IngestAPITests",
      dependencies: [
        "IngestAPI",
        // A real service in process, for the client's tests.
        "Ingestion",
        "Lakehouse",
        "LakeStorage",
        "StediTestSupport",
        .product(name: "Hummingbird", package: "hummingbird"),
        .product(name: "HummingbirdTesting", package: "hummingbird"),
        .product(name: "AsyncHTTPClient", package: "async-http-client"),
        .product(name: "NIOCore", package: "swift-nio"),
      ]
    ),
    .testTarget(name: "FleetTests", dependencies: ["Fleet", "Motion", "Lakehouse", "IngestAPI"]),
    .testTarget(
      name: "DatasetLandingTests",
      dependencies: ["DatasetLanding", "Motion", "Lakehouse", "StediTestSupport"]
    ),
    .testTarget(
      name: "MotionTests",
      dependencies: ["Motion", "SeededRandom"]
    ),
    .testTarget(name: "PhoneCaptureTests", dependencies: ["PhoneCapture", "Motion", "Lakehouse", "StediTestSupport"]),
    .testTarget(
      name: "stediTests",
      dependencies: [
        "stedi", "Lakehouse", "LakeExport", "LakeStorage", "DeltaLog", "Motion", "Fleet", "IngestAPI",
        "StediTestSupport",
        .product(name: "AsyncHTTPClient", package: "async-http-client"),
        .product(name: "NIOCore", package: "swift-nio"),
      ],
      // A stand-in for AWS Glue's Python module, run by GlueExportTests, and the Parquet readers
      // ParquetReadersTests drives; not Swift sources.
      exclude: ["Fixtures", "parquet_readers.py"]
    ),
  ]
)
