/// A customer as registered on the STEDI website: one line of `customer/landing`.
public struct CustomerRecord: Sendable, Hashable {
  public var customerName: String?
  public var email: String
  public var phone: String?
  public var birthDay: String?
  public var serialNumber: String
  public var registrationDate: Int64
  public var lastUpdateDate: Int64
  /// When the customer agreed to share data for research; nil when absent or null (no consent).
  public var shareWithResearchAsOfDate: Int64?
  public var shareWithPublicAsOfDate: Int64?
  public var shareWithFriendsAsOfDate: Int64?

  public init(
    customerName: String? = nil, email: String, phone: String? = nil, birthDay: String? = nil,
    serialNumber: String, registrationDate: Int64, lastUpdateDate: Int64,
    shareWithResearchAsOfDate: Int64? = nil, shareWithPublicAsOfDate: Int64? = nil,
    shareWithFriendsAsOfDate: Int64? = nil
  ) {
    self.customerName = customerName
    self.email = email
    self.phone = phone
    self.birthDay = birthDay
    self.serialNumber = serialNumber
    self.registrationDate = registrationDate
    self.lastUpdateDate = lastUpdateDate
    self.shareWithResearchAsOfDate = shareWithResearchAsOfDate
    self.shareWithPublicAsOfDate = shareWithPublicAsOfDate
    self.shareWithFriendsAsOfDate = shareWithFriendsAsOfDate
  }

  /// Decodes and validates one landing line, whatever its dates (for code that must recognise every
  /// record, such as erasure and audit).
  public static func decode(_ line: UnsafeBufferPointer<UInt8>) throws(RecordError) -> CustomerRecord {
    try decode(line, times: .unbounded)
  }

  /// Decodes and validates one landing line whose dates must lie in `times`.
  public static func decode(
    _ line: UnsafeBufferPointer<UInt8>, times: RecordTimeWindow
  ) throws(RecordError) -> CustomerRecord {
    var scanner = try JSONObjectScanner(line: line)
    var seen = SeenFields()
    var record = CustomerRecord(email: "", serialNumber: "", registrationDate: 0, lastUpdateDate: 0)
    while let (key, value) = try scanner.nextMember() {
      if line.stringEquals(key, "email") {
        try seen.mark(0, "email")
        record.email = line.string(try line.stringField(value, "email"))
      } else if line.stringEquals(key, "serialNumber") {
        try seen.mark(1, "serialNumber")
        record.serialNumber = line.string(try line.stringField(value, "serialNumber"))
      } else if line.stringEquals(key, "registrationDate") {
        try seen.mark(2, "registrationDate")
        record.registrationDate = try line.integerField(value, "registrationDate")
      } else if line.stringEquals(key, "lastUpdateDate") {
        try seen.mark(3, "lastUpdateDate")
        record.lastUpdateDate = try line.integerField(value, "lastUpdateDate")
      } else if line.stringEquals(key, "shareWithResearchAsOfDate") {
        try seen.mark(4, "shareWithResearchAsOfDate")
        record.shareWithResearchAsOfDate = try line.optionalIntegerField(value, "shareWithResearchAsOfDate")
      } else if line.stringEquals(key, "shareWithPublicAsOfDate") {
        try seen.mark(5, "shareWithPublicAsOfDate")
        record.shareWithPublicAsOfDate = try line.optionalIntegerField(value, "shareWithPublicAsOfDate")
      } else if line.stringEquals(key, "shareWithFriendsAsOfDate") {
        try seen.mark(6, "shareWithFriendsAsOfDate")
        record.shareWithFriendsAsOfDate = try line.optionalIntegerField(value, "shareWithFriendsAsOfDate")
      } else if line.stringEquals(key, "customerName") {
        try seen.mark(7, "customerName")
        record.customerName = try line.optionalStringField(value, "customerName")
      } else if line.stringEquals(key, "phone") {
        try seen.mark(8, "phone")
        record.phone = try line.optionalStringField(value, "phone")
      } else if line.stringEquals(key, "birthDay") {
        try seen.mark(9, "birthDay")
        record.birthDay = try line.optionalStringField(value, "birthDay")
      }
    }
    try seen.require(0, "email")
    try seen.require(1, "serialNumber")
    try seen.require(2, "registrationDate")
    try seen.require(3, "lastUpdateDate")
    if let problem = record.email.withUTF8({ EmailShape.problem(UnsafeRawBufferPointer($0), field: "email") }) {
      throw problem
    }
    try times.check(record.registrationDate, "registrationDate")
    try times.check(record.lastUpdateDate, "lastUpdateDate")
    if let date = record.shareWithResearchAsOfDate { try times.check(date, "shareWithResearchAsOfDate") }
    if let date = record.shareWithPublicAsOfDate { try times.check(date, "shareWithPublicAsOfDate") }
    if let date = record.shareWithFriendsAsOfDate { try times.check(date, "shareWithFriendsAsOfDate") }
    return record
  }

  /// Renders the record as one NDJSON line, keys in the landing data's order.
  public func render(into buffer: inout NDJSONBuffer) {
    buffer.beginObject()
    buffer.field("customerName", customerName)
    buffer.field("email", email)
    buffer.field("phone", phone)
    buffer.field("birthDay", birthDay)
    buffer.field("serialNumber", serialNumber)
    buffer.field("registrationDate", registrationDate)
    buffer.field("lastUpdateDate", lastUpdateDate)
    buffer.field("shareWithResearchAsOfDate", shareWithResearchAsOfDate)
    buffer.field("shareWithPublicAsOfDate", shareWithPublicAsOfDate)
    buffer.field("shareWithFriendsAsOfDate", shareWithFriendsAsOfDate)
    buffer.endObject()
  }

  /// A total order over every field, so that outputs are sorted the same way on every run.
  public static func canonicalOrder(_ a: CustomerRecord, _ b: CustomerRecord) -> Bool {
    if a.email != b.email { return a.email < b.email }
    if a.lastUpdateDate != b.lastUpdateDate { return a.lastUpdateDate < b.lastUpdateDate }
    if a.serialNumber != b.serialNumber { return a.serialNumber < b.serialNumber }
    if a.registrationDate != b.registrationDate { return a.registrationDate < b.registrationDate }
    let optionalInts: [(Int64?, Int64?)] = [
      (a.shareWithResearchAsOfDate, b.shareWithResearchAsOfDate),
      (a.shareWithPublicAsOfDate, b.shareWithPublicAsOfDate),
      (a.shareWithFriendsAsOfDate, b.shareWithFriendsAsOfDate),
    ]
    for (left, right) in optionalInts where left != right { return (left ?? Int64.min) < (right ?? Int64.min) }
    let optionalStrings: [(String?, String?)] = [
      (a.customerName, b.customerName), (a.phone, b.phone), (a.birthDay, b.birthDay),
    ]
    for (left, right) in optionalStrings where left != right {
      guard let left else { return true }
      guard let right else { return false }
      return left < right
    }
    return false
  }
}
