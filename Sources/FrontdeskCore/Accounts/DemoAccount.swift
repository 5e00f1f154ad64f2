import Foundation

/// `serve --demo`'s console sign-in: an admin account whose e-mail and password are generated
/// once per data directory and kept in `app_settings`, so every start prints the same one and a
/// presenter signs in without creating an account first.
///
/// The password is stored in clear beside the hash on purpose: it exists only in demo mode, on a
/// demo data directory, to be printed on the terminal. Production data directories never get one.
package struct DemoAccount: Sendable, Equatable {
    package static let settingsKey = "demo.account"
    package let email: String
    package let password: String

    /// The stored demo sign-in, or nil when this data directory has none.
    package static func stored(in settings: AppSettingsStore) async throws -> DemoAccount? {
        guard let text = try await settings.value(for: settingsKey),
              let object = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: String],
              let email = object["email"], let password = object["password"] else { return nil }
        return DemoAccount(email: email, password: password)
    }

    /// The data directory's demo account, created (with a fresh e-mail and password) the first time.
    package static func ensure(accounts: AccountStore, settings: AppSettingsStore, now: Date) async throws -> DemoAccount {
        if let existing = try await stored(in: settings), try await accounts.find(email: existing.email) != nil { return existing }
        let tag = String(Secrets.urlSafeToken(byteCount: 6).lowercased().filter { $0.isLetter || $0.isNumber }.prefix(6))
        let account = DemoAccount(email: "demo-\(tag)@frontdesk.example", password: Secrets.urlSafeToken(byteCount: 12))
        _ = try await accounts.create(try AccountStore.NewUser(email: account.email, name: "Demo Presenter", password: account.password, role: .admin))
        let json = try JSONSerialization.data(withJSONObject: ["email": account.email, "password": account.password], options: [.sortedKeys])
        try await settings.set(settingsKey, to: String(decoding: json, as: UTF8.self), now: now)
        return account
    }
}
