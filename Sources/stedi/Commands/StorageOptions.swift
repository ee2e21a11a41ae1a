import ArgumentParser
import Foundation
import LakeStorage
import Lakehouse

/// Where a lake lives: a folder, or `s3://bucket/prefix` on S3 or an S3-compatible server.
struct StorageOptions: ParsableArguments {
  @Option(help: "The lake: a folder, or s3://bucket/prefix.")
  var lake: String

  @OptionGroup var s3: S3ConnectionOptions

  /// Whether the lake is on S3.
  var isS3: Bool { lake.hasPrefix("s3://") }

  /// For the pipeline: an S3 lake's local working copy (default ~/.cache/stedi/s3/<bucket>/<prefix>).
  func workingCopyFolder(_ work: String?) -> String {
    if let work { return work }
    let environment = ProcessInfo.processInfo.environment
    let cache = environment["XDG_CACHE_HOME"] ?? "\(NSHomeDirectory())/.cache"
    return "\(cache)/stedi/s3/" + lake.dropFirst("s3://".count).split(separator: "/").joined(separator: "/")
  }

  /// The lake's storage; a folder lake is created when `create` is set, else it must exist.
  func storage(create: Bool = false) throws -> any LakeStorage {
    if isS3 { return try s3.storage(url: lake) }
    if create {
      try? FileManager.default.createDirectory(atPath: lake, withIntermediateDirectories: true)
    }
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: lake, isDirectory: &isDirectory), isDirectory.boolValue else {
      throw CommandFailure.report(StorageError.lakeNotFound(path: lake).description)
    }
    return FileSystemStorage(root: lake)
  }
}

/// How to reach an S3 lake: the endpoint and region (credentials come from the environment).
struct S3ConnectionOptions: ParsableArguments {
  @Option(
    help: ArgumentHelp(
      "The S3 endpoint URL, for S3-compatible servers (path-style addressing).",
      discussion: "Defaults to $AWS_ENDPOINT_URL_S3, else $AWS_ENDPOINT_URL, else AWS itself."))
  var endpoint: String?

  @Option(help: "The S3 region (default $AWS_REGION, else $AWS_DEFAULT_REGION, else us-east-1).")
  var region: String?

  @Option(help: "The S3 access key id (default $AWS_ACCESS_KEY_ID).")
  var accessKeyId: String?

  @Option(
    help: ArgumentHelp(
      "A file holding the S3 secret access key (default $AWS_SECRET_ACCESS_KEY).",
      discussion: "A file, not the secret itself: command lines are visible to every user of the machine."))
  var secretAccessKeyFile: String?

  /// The S3 storage of an `s3://bucket/prefix` lake, with credentials from the AWS variables.
  func storage(url: String) throws -> S3Storage {
    var secret: String?
    if let secretAccessKeyFile {
      guard let text = try? String(contentsOfFile: secretAccessKeyFile, encoding: .utf8) else {
        throw CommandFailure.report("cannot read the secret key file \(secretAccessKeyFile)")
      }
      secret = text.trimmingCharacters(in: .whitespacesAndNewlines)
    }
    return try CommandFailure.reporting {
      try S3Storage(
        configuration: S3Configuration.resolve(
          location: url, endpoint: endpoint, region: region, accessKeyID: accessKeyId, secretAccessKey: secret,
          environment: ProcessInfo.processInfo.environment))
    }
  }
}
