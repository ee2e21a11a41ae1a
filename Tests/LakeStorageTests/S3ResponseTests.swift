import Testing

@testable import LakeStorage

/// Reading S3's XML answers and wording its errors (no server needed).
struct S3ResponseTests {
  @Test func listingPage() throws {
    let xml = """
      <?xml version="1.0" encoding="UTF-8"?>
      <ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>lake</Name><Prefix>p/</Prefix>\
      <EncodingType>url</EncodingType><IsTruncated>true</IsTruncated>\
      <Contents><Key>p/a+b%2Bc%C3%BC.json</Key><Size>12</Size><ETag>&#34;x&#34;</ETag></Contents>\
      <Contents><Key>p/%26.json</Key><Size>0</Size></Contents>\
      <NextContinuationToken>tok/en=</NextContinuationToken></ListBucketResult>
      """
    let page = try #require(S3Response.ListPage(Array(xml.utf8)))
    #expect(page.objects.map(\.key) == ["p/a b+c\u{FC}.json", "p/&.json"])
    #expect(page.objects.map(\.size) == [12, 0])
    #expect(page.nextContinuationToken == "tok/en=")
  }

  /// Keys are taken as they are when the server did not URL-encode them, entities decoded.
  @Test func listingPageWithoutURLEncoding() throws {
    let xml = """
      <ListBucketResult><IsTruncated>false</IsTruncated>\
      <Contents><Key>a+b &amp; c%20.json</Key><Size>3</Size></Contents></ListBucketResult>
      """
    let page = try #require(S3Response.ListPage(Array(xml.utf8)))
    #expect(page.objects.map(\.key) == ["a+b & c%20.json"])
    #expect(page.nextContinuationToken == nil)
  }

  @Test func errorDocument() throws {
    let xml = """
      <?xml version="1.0" encoding="UTF-8"?>
      <Error><Code>SignatureDoesNotMatch</Code><Message>The request signature we calculated does not match.</Message>\
      <Resource>/lake</Resource></Error>
      """
    let error = try #require(S3Response.ErrorDocument(Array(xml.utf8)))
    #expect(error.code == "SignatureDoesNotMatch")
    #expect(error.message == "The request signature we calculated does not match.")
    #expect(S3Response.ErrorDocument(Array("not xml".utf8)) == nil)
    #expect(S3Response.ErrorDocument([]) == nil)
  }

  @Test func multipartDocuments() {
    let initiated = """
      <InitiateMultipartUploadResult><Bucket>b</Bucket><Key>k</Key><UploadId>abc-123</UploadId>\
      </InitiateMultipartUploadResult>
      """
    #expect(S3Response.uploadID(Array(initiated.utf8)) == "abc-123")
    #expect(
      String(decoding: S3Response.completeMultipartUpload(eTags: ["\"e1\"", "\"e2\""]), as: UTF8.self)
        == "<CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
        + "<Part><PartNumber>1</PartNumber><ETag>&quot;e1&quot;</ETag></Part>"
        + "<Part><PartNumber>2</PartNumber><ETag>&quot;e2&quot;</ETag></Part></CompleteMultipartUpload>")
  }

  /// Each S3 error code a person can fix reads as what to fix.
  @Test func errorWording() throws {
    let storage = S3Storage(
      configuration: S3Configuration(
        location: S3Location(bucket: "lake"), endpoint: "http://127.0.0.1:1", region: "us-east-1",
        accessKeyID: "AKIAEXAMPLE", secretAccessKey: "x"))
    func failure(_ status: Int, _ code: String?, key: String? = "k.json") -> StorageError {
      let error = code.flatMap {
        S3Response.ErrorDocument(Array("<Error><Code>\($0)</Code><Message>m</Message></Error>".utf8))
      }
      return storage.failure(status: status, error: error, key: key, operation: "reading k.json")
    }
    #expect(failure(404, "NoSuchKey") == .notFound(key: "k.json", location: "s3://lake"))
    #expect(failure(404, nil) == .notFound(key: "k.json", location: "s3://lake"))
    #expect(failure(403, "SignatureDoesNotMatch").description.contains("secret access key does not match"))
    #expect(failure(403, "InvalidAccessKeyId").description.contains("does not know the access key id AKIAEXAMPLE"))
    #expect(failure(403, "RequestTimeTooSkewed").description.contains("clock"))
    #expect(failure(404, "NoSuchBucket").description.contains("the bucket lake does not exist"))
    #expect(
      failure(500, "InternalError")
        == .failed(location: "s3://lake", operation: "reading k.json", reason: "HTTP 500 InternalError: m"))
  }

  /// Connection failures are told apart from their text: refused is unreachable (even though NIO
  /// words it "connection reset (error set): Connection refused"), a reset is worth a retry.
  @Test func transportFailures() {
    struct Failure: Error, CustomStringConvertible { var description: String }
    #expect(
      S3Storage.TransportFailure(Failure(description: "connection reset (error set): Connection refused (errno: 111)"))
        == .unreachable)
    #expect(S3Storage.TransportFailure(Failure(description: "Connection reset by peer (errno: 104)")) == .dropped)
    #expect(S3Storage.TransportFailure(Failure(description: "something else")) == .other)
  }
}
