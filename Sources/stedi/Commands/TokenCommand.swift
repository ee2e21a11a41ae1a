import ArgumentParser
import Foundation
import IngestAPI
import Ingestion
import Lakehouse

/// `stedi token`: access tokens for the ingest service.
struct TokenCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "token",
    abstract: "Access tokens for the ingest service.",
    subcommands: [Issue.self, Revoke.self]
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
      let key = try await CommandFailure.reporting { try await TokenKey.load(storage: storage) }
      let (role, subject, days): (AccessToken.Role, String, Double) =
        if let device { (.device, device, 365) } else if let user { (.user, user, 30) } else { (.admin, "admin", 1) }
      print(AccessToken.mint(role, subject, validFor: (expiresIn ?? days) * 86_400, key: key))
    }
  }

  struct Revoke: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Refuse a token, or every token of a device or user, before it expires.",
      discussion: """
        Tokens are bearer secrets: whoever holds one writes as its subject until it expires.         `revoke TOKEN` refuses that token; `revoke --device SERIAL` or `--user EMAIL` refuses every         token of that subject issued until now (issue a new one afterwards). The list         (_stedi/revoked-tokens.json) holds hashes only; a running `stedi serve` reloads it within         --erasure-refresh-seconds.
        """)

    @OptionGroup var storageOptions: StorageOptions

    @Argument(help: "The token to revoke (or give --device / --user).")
    var token: String?

    @Option(help: "Revoke every token of this serial number issued until now.")
    var device: String?

    @Option(help: "Revoke every token of this customer's email issued until now.")
    var user: String?

    func validate() throws {
      let chosen = [token != nil, device != nil, user != nil].filter { $0 }.count
      guard chosen == 1 else { throw ValidationError("give exactly one of TOKEN, --device SERIAL, --user EMAIL") }
    }

    func run() async throws {
      let storage = try storageOptions.storage(create: false)
      let key = try await CommandFailure.reporting { try await TokenKey.load(storage: storage) }
      var list = try await CommandFailure.reporting { try await RevocationList.load(storage: storage) }
      if let token {
        let claims: AccessToken
        do {
          claims = try AccessToken.verify(token, with: key, now: .distantPast)
        } catch {
          throw ValidationError("not a token of this lake: \(error)")
        }
        list.revoke(token: token, claims: claims)
        print("revoked one \(claims.role.rawValue) token")
      } else {
        let (role, subject): (AccessToken.Role, String) = device.map { (.device, $0) } ?? (.user, user!)
        list.revoke(role: role, subject: subject, at: Int64(Date().timeIntervalSince1970), key: key)
        print("revoked every \(role.rawValue) token of that subject issued until now")
      }
      let updated = list
      try await CommandFailure.reporting { try await updated.save(storage: storage) }
    }
  }
}
