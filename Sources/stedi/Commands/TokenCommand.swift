import ArgumentParser
import Foundation
import Ingestion
import Lakehouse

/// `stedi token`: access tokens for the ingest service.
struct TokenCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "token",
    abstract: "Access tokens for the ingest service.",
    subcommands: [Issue.self]
  )

  struct Issue: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Print a signed token for one device, one phone user, or an admin.",
      discussion: """
        The token is signed with the lake's key (_stedi/token.key, created on first use and readable \
        by its owner only; $STEDI_TOKEN_KEY overrides it), so `stedi serve` on the same lake accepts \
        it without a database. A device token only writes readings of its own serial number, a user \
        token only its own accelerometer readings; customer records need an admin token.
        """)

    @OptionGroup var storageOptions: StorageOptions

    @Option(help: "A Step Trainer's serial number: the token writes only its readings.")
    var device: String?

    @Option(help: "A customer's email: the token writes only their phone's readings.")
    var user: String?

    @Flag(help: "An admin token: customer records and any reading.")
    var admin = false

    @Option(help: "Days until the token expires (default: 365 for devices, 30 for users, 1 for admins).")
    var expiresIn: Double?

    func validate() throws {
      let chosen = [device != nil, user != nil, admin].filter { $0 }.count
      guard chosen == 1 else { throw ValidationError("give exactly one of --device SERIAL, --user EMAIL, --admin") }
      if let expiresIn, !(expiresIn > 0) { throw ValidationError("--expires-in must be a positive number of days") }
    }

    func run() async throws {
      // Created if missing: issuing the first tokens is how a new lake is often set up.
      let storage = try storageOptions.storage(create: true)
      let key = try await runReportingStorageErrors { try await TokenKey.load(storage: storage) }
      let (role, subject, days): (AccessToken.Role, String, Double) =
        if let device { (.device, device, 365) } else if let user { (.user, user, 30) } else { (.admin, "admin", 1) }
      let expiry = Date().addingTimeInterval((expiresIn ?? days) * 86_400)
      let token = AccessToken(role: role, subject: subject, expiresAt: Int64(expiry.timeIntervalSince1970))
      print(token.signed(with: key))
    }
  }
}
