import Testing

@testable import LakeStorage

/// `s3://` locations and how endpoint, region and credentials are found (no server needed).
struct S3ConfigurationTests {
  static let credentials = ["AWS_ACCESS_KEY_ID": "AKIAENV", "AWS_SECRET_ACCESS_KEY": "env-secret"]

  @Test func parsesBucketAndPrefix() throws {
    let location = try S3Location(parsing: "s3://stedi-lake/step/trainer/")
    #expect(location.bucket == "stedi-lake")
    #expect(location.prefix == "step/trainer")
    #expect(location.description == "s3://stedi-lake/step/trainer")
    #expect(location.objectKey("customer/landing/a.json") == "step/trainer/customer/landing/a.json")
    #expect(location.lakeKey("step/trainer/customer/landing/a.json") == "customer/landing/a.json")
    #expect(location.lakeKey("step/trainerx/a.json") == nil)

    let whole = try S3Location(parsing: "s3://stedi-lake")
    #expect(whole.prefix == "")
    #expect(whole.description == "s3://stedi-lake")
    #expect(whole.objectKey("a.json") == "a.json")
  }

  @Test(arguments: ["stedi-lake", "s3://", "s3://ab", "s3://Upper", "s3://under_score", "s3://-dash", "/tmp/lake"])
  func rejectsBadLocations(text: String) {
    #expect {
      try S3Location(parsing: text)
    } throws: { error in
      guard case .invalidConfiguration = error as? StorageError else { return false }
      return true
    }
  }

  /// Without an endpoint the lake is on AWS, in the region from the environment, virtual-host style.
  @Test func awsByDefault() throws {
    let configuration = try S3Configuration.resolve(
      location: "s3://stedi-lake/prefix",
      environment: Self.credentials.merging(["AWS_REGION": "eu-west-1", "AWS_DEFAULT_REGION": "us-west-2"]) { $1 })
    #expect(configuration.region == "eu-west-1")
    #expect(configuration.endpoint == "https://s3.eu-west-1.amazonaws.com")
    #expect(configuration.addressing == .virtualHost)
    let target = configuration.target(objectKey: "prefix/a b.json")
    #expect(target.url == "https://stedi-lake.s3.eu-west-1.amazonaws.com/prefix/a%20b.json")
    #expect(target.host == "stedi-lake.s3.eu-west-1.amazonaws.com")
    #expect(target.path == "/prefix/a%20b.json")
  }

  @Test func regionDefaultsToUSEast1() throws {
    let configuration = try S3Configuration.resolve(location: "s3://stedi-lake", environment: Self.credentials)
    #expect(configuration.region == "us-east-1")
    #expect(configuration.endpoint == "https://s3.us-east-1.amazonaws.com")
    #expect(configuration.region == "us-east-1")
  }

  /// An endpoint (S3-compatible server) means path-style URLs; `AWS_ENDPOINT_URL_S3` wins over
  /// `AWS_ENDPOINT_URL`, and arguments win over the environment.
  @Test func endpointFromEnvironmentOrArgument() throws {
    var environment = Self.credentials
    environment["AWS_ENDPOINT_URL"] = "http://general:1"
    environment["AWS_ENDPOINT_URL_S3"] = "http://127.0.0.1:8333/"
    let fromEnvironment = try S3Configuration.resolve(location: "s3://stedi-lake/p", environment: environment)
    #expect(fromEnvironment.endpoint == "http://127.0.0.1:8333")
    #expect(fromEnvironment.addressing == .path)
    let target = fromEnvironment.target(objectKey: "p/\u{FC}.json")
    #expect(target.url == "http://127.0.0.1:8333/stedi-lake/p/%C3%BC.json")
    #expect(target.host == "127.0.0.1:8333")
    #expect(fromEnvironment.target(objectKey: nil).path == "/stedi-lake")

    let fromArgument = try S3Configuration.resolve(
      location: "s3://stedi-lake", endpoint: "https://minio.example:443", region: "eu-central-1",
      pathStyle: false, environment: environment)
    #expect(fromArgument.endpoint == "https://minio.example:443")
    #expect(fromArgument.region == "eu-central-1")
    #expect(fromArgument.target(objectKey: "a").host == "stedi-lake.minio.example")
  }

  @Test func missingCredentialsSayWhatToSet() {
    #expect {
      try S3Configuration.resolve(location: "s3://stedi-lake", environment: [:])
    } throws: { error in
      guard case .invalidConfiguration(let message) = error as? StorageError else { return false }
      return message.contains("s3://stedi-lake") && message.contains("set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY")
    }
    #expect {
      try S3Configuration.resolve(location: "s3://stedi-lake", environment: ["AWS_ACCESS_KEY_ID": "AKIA"])
    } throws: { error in
      guard case .invalidConfiguration(let message) = error as? StorageError else { return false }
      return message.contains("set AWS_SECRET_ACCESS_KEY (") && !message.contains("AWS_ACCESS_KEY_ID")
    }
  }

  /// A session token from the environment goes with the environment's key, never with a key given
  /// as an argument.
  @Test func sessionTokenBelongsToItsKey() throws {
    let environment = Self.credentials.merging(["AWS_SESSION_TOKEN": "env-token"]) { $1 }
    let fromEnvironment = try S3Configuration.resolve(location: "s3://stedi-lake", environment: environment)
    #expect(fromEnvironment.accessKeyID == "AKIAENV")
    #expect(fromEnvironment.sessionToken == "env-token")
    let given = try S3Configuration.resolve(
      location: "s3://stedi-lake", accessKeyID: "AKIAGIVEN", secretAccessKey: "given", environment: environment)
    #expect(given.accessKeyID == "AKIAGIVEN")
    #expect(given.secretAccessKey == "given")
    #expect(given.sessionToken == nil)
  }

  @Test(arguments: ["localhost:9000", "ftp://host", "http://", "http://host/path"])
  func rejectsBadEndpoints(endpoint: String) {
    #expect {
      try S3Configuration.resolve(location: "s3://stedi-lake", endpoint: endpoint, environment: Self.credentials)
    } throws: { error in
      guard case .invalidConfiguration(let message) = error as? StorageError else { return false }
      return message.contains("is not an S3 endpoint")
    }
  }
}
