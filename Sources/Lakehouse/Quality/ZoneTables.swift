/// The trusted and curated tables in compact form: what the quality assertions examine, whether
/// they come from the engine's memory (before publishing) or are read back from the lake.
///
/// Ids: `subjects` holds the customer_trusted emails in table order, `serials` the serial numbers
/// of customers_curated in sorted order; rows refer to both by index.
struct ZoneTables {
  var customerTrusted: [CustomerRecord]
  var customersCurated: [CustomerRecord]
  var subjects: ByteStringTable
  var serials: ByteStringTable
  var accelerometerTrusted: [AccelerometerRow]
  var stepTrainerTrusted: [StepTrainerRow]
  var machineLearningCurated: [CuratedRow]

  /// The subject and serial dictionaries for a pair of customer tables, in the order described above.
  static func dictionaries(trusted: [CustomerRecord], curated: [CustomerRecord]) -> (
    subjects: ByteStringTable, serials: ByteStringTable
  ) {
    var subjects = ByteStringTable(expectedCount: trusted.count)
    for customer in trusted { subjects.insert(identity: customer.email) }
    var serials = ByteStringTable(expectedCount: curated.count)
    for serial in Set(curated.map { Identity.canonical($0.serialNumber) }).sorted() { serials.insert(serial) }
    return (subjects, serials)
  }
}
