import ArgumentParser
import Foundation
import FrontdeskCore
import FrontdeskServer

/// `frontdesk token …`: API tokens from the shell, for setting up a script or a service.
struct TokenCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "token",
        abstract: "Create, list and revoke API tokens.",
        discussion: """
        Works on the data directory directly, with or without the server running. A token acts as
        the account it is made for, within its scopes; its secret is printed once, on standard
        output alone, so it can be captured: TOKEN=$(frontdesk token create …).

        Examples:
          frontdesk token create --email owner@example.com --name "CRM sync" --scope tickets:read --scope contacts:read --expires-days 90
          frontdesk token list
          frontdesk token revoke --id 3
        Scopes: \(TokenScopes.all.joined(separator: " "))
        """,
        subcommands: [Create.self, List.self, Revoke.self]
    )

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a token and print its secret (once).",
                                                        discussion: "Example:\n  frontdesk token create --email a@example.com --name deploy --scope faq:write --scope faq:read")
        @OptionGroup var data: DataOptions
        @Option(help: "Email address of the account the token acts as.") var email: String
        @Option(help: "What the token is for.") var name: String
        @Option(name: .customLong("scope"), help: "A scope such as tickets:read (repeat for more).") var scopes: [String] = []
        @Option(help: "Days until it expires (default: never).") var expiresDays: Int?
        @Flag(help: "A service token (admins only).") var service = false

        func run() async throws {
            let (accounts, tokens) = try openTokens(data)
            guard let user = try await accounts.find(email: email) else { throw failure(FrontdeskError.notFound("An account for \(email)")) }
            do {
                let input = try APITokenStore.NewToken(name: name, kind: service ? .service : .personal, scopes: scopes, expiresInDays: expiresDays, role: user.role)
                let created = try await tokens.create(input, forUser: user.id!)
                printError("Created token \(created.token.id ?? 0) \"\(created.token.name)\" for \(user.email) with \(input.scopes.joined(separator: " ")); the secret follows, it is not shown again.")
                print(created.secret)
            } catch let error as FrontdeskError {
                throw failure(error)
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List tokens (never their secrets).", discussion: "Example:\n  frontdesk token list")
        @OptionGroup var data: DataOptions

        func run() async throws {
            let (accounts, tokens) = try openTokens(data)
            let list = try await tokens.list(userId: nil)
            if list.isEmpty { print("No tokens yet. Create one with: frontdesk token create --email … --name … --scope …"); return }
            let emails = Dictionary(uniqueKeysWithValues: try await accounts.list().map { ($0.id ?? 0, $0.email) })
            func pad(_ text: String, _ width: Int) -> String { text.padding(toLength: max(width, text.count + 1), withPad: " ", startingAt: 0) }
            print(pad("id", 5) + pad("prefix", 13) + pad("state", 9) + pad("last used", 26) + pad("owner", 28) + "name / scopes")
            let now = Timestamps.iso8601Milliseconds(Date())
            for token in list {
                let state = token.revokedAt != nil ? "revoked" : (token.expiresAt.map { $0 <= now } ?? false) ? "expired" : "active"
                let used = token.lastUsedAt.map { "\($0.prefix(19))Z \(token.lastUsedNetwork ?? "")" } ?? "never"
                print(pad(String(token.id ?? 0), 5) + pad(token.prefix, 13) + pad(state, 9) + pad(used, 26) + pad(emails[token.userId] ?? "?", 28)
                      + "\(token.name) / \(token.scopes)")
            }
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Revoke a token (refused at once from then on).", discussion: "Example:\n  frontdesk token revoke --id 3")
        @OptionGroup var data: DataOptions
        @Option(help: "The token's id (frontdesk token list).") var id: Int64

        func run() async throws {
            let (_, tokens) = try openTokens(data)
            do {
                let token = try await tokens.revoke(id: id, ownedBy: nil)
                print("Revoked token \(id) \"\(token.name)\" (\(token.prefix)…).")
            } catch let error as FrontdeskError {
                throw failure(error)
            }
        }
    }
}

/// The accounts and API tokens of the configured data directory, migrated if needed.
func openTokens(_ data: DataOptions) throws -> (AccountStore, APITokenStore) {
    let accounts = try openAccounts(data)
    return (accounts, APITokenStore(database: accounts.database))
}
