import ArgumentParser
import Foundation
import FrontdeskCore
import FrontdeskServer

/// `frontdesk user …`: manage console accounts from the shell.
struct UserCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "user",
        abstract: "Add, list, re-password and disable console accounts.",
        discussion: """
        Works on the data directory directly, with or without the server running. Changing a
        password or disabling a user ends that user's console sessions.

        Examples:
          printf '%s' 'a long passphrase' | frontdesk user add --email owner@example.com --role admin --password-stdin
          frontdesk user list
          frontdesk user passwd --email agent@example.com --password-stdin
          frontdesk user disable --email agent@example.com
        """,
        subcommands: [Add.self, List.self, Passwd.self, Disable.self]
    )

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create an account.",
                                                        discussion: "Example:\n  printf '%s' \"$PASSWORD\" | frontdesk user add --email a@example.com --role agent --password-stdin")
        @OptionGroup var data: DataOptions
        @Option(help: "Email address (the sign-in name).") var email: String
        @Option(help: "Display name.") var name: String = ""
        @Option(help: "admin or agent.") var role: String = "agent"
        @Flag(help: "Read the password from standard input (required: passwords never go on the command line).") var passwordStdin = false

        func run() async throws {
            guard passwordStdin else { throw ValidationError("Pass --password-stdin and pipe the password in; command lines are visible to other users.") }
            guard let role = Role(rawValue: role) else { throw ValidationError("--role must be admin or agent.") }
            let accounts = try openAccounts(data)
            do {
                let input = try AccountStore.NewUser(email: email, name: name, password: readPassword(), role: role)
                let user = try await accounts.create(input)
                print("Created \(user.role.rawValue) \(user.email) (id \(user.id ?? 0)).")
            } catch let error as FrontdeskError {
                throw failure(error)
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List accounts.", discussion: "Example:\n  frontdesk user list")
        @OptionGroup var data: DataOptions

        func run() async throws {
            let users = try await openAccounts(data).list()
            if users.isEmpty { print("No accounts yet. Create one with: frontdesk user add --email … --role admin --password-stdin"); return }
            print("id".padding(toLength: 6, withPad: " ", startingAt: 0) + "role   " + "state     " + "email")
            for user in users {
                print(String(user.id ?? 0).padding(toLength: 6, withPad: " ", startingAt: 0) + user.role.rawValue.padding(toLength: 7, withPad: " ", startingAt: 0)
                      + (user.disabled ? "disabled  " : "active    ") + user.email)
            }
        }
    }

    struct Passwd: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Set a new password (ends the user's sessions).",
                                                        discussion: "Example:\n  printf '%s' \"$PASSWORD\" | frontdesk user passwd --email a@example.com --password-stdin")
        @OptionGroup var data: DataOptions
        @Option(help: "Email address of the account.") var email: String
        @Flag(help: "Read the new password from standard input.") var passwordStdin = false

        func run() async throws {
            guard passwordStdin else { throw ValidationError("Pass --password-stdin and pipe the password in.") }
            let accounts = try openAccounts(data)
            guard let user = try await accounts.find(email: email) else { throw failure(FrontdeskError.notFound("An account for \(email)")) }
            do {
                try await accounts.setPassword(id: user.id!, password: readPassword())
            } catch let error as FrontdeskError {
                throw failure(error)
            }
            print("Password changed for \(user.email); their console sessions have ended.")
        }
    }

    struct Disable: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Disable an account (ends its sessions).",
                                                        discussion: "Example:\n  frontdesk user disable --email a@example.com")
        @OptionGroup var data: DataOptions
        @Option(help: "Email address of the account.") var email: String

        func run() async throws {
            let accounts = try openAccounts(data)
            guard let user = try await accounts.find(email: email) else { throw failure(FrontdeskError.notFound("An account for \(email)")) }
            do {
                _ = try await accounts.update(id: user.id!, role: nil, disabled: true)
            } catch let error as FrontdeskError {
                throw failure(error)
            }
            print("Disabled \(user.email); their console sessions have ended.")
        }
    }
}

/// Opens the accounts of the configured data directory, migrating it if needed.
func openAccounts(_ data: DataOptions) throws -> AccountStore {
    let environment = ProcessInfo.processInfo.environment
    let config = try loadConfigOrExit(file: data.configFile(environment: environment), environment: environment, flags: data.flagValues)
    Privileges.dropToDataDirectoryOwner(config.dataDirectory)
    try FileManager.default.createDirectory(atPath: config.dataDirectory, withIntermediateDirectories: true)
    let database = try AppDatabase(path: config.databasePath, synchronous: config.synchronous, migrations: FeatureModules.migrations)
    try database.migrate()
    return AccountStore(database: database)
}

/// The password piped on standard input, without its trailing newline.
func readPassword() throws -> String {
    let data = FileHandle.standardInput.readDataToEndOfFile()
    var text = String(decoding: data, as: UTF8.self)
    while text.hasSuffix("\n") || text.hasSuffix("\r") { text.removeLast() }
    return text
}

/// Prints a FrontdeskError's message and details for a shell user, and exits 1.
func failure(_ error: FrontdeskError) -> ExitCode {
    var message = "frontdesk: \(error.message)"
    for (field, problem) in error.details.sorted(by: { $0.key < $1.key }) { message += "\n  \(field) \(problem)" }
    printError(message)
    return ExitCode(1)
}
