import Foundation

/// The kind of value a setting holds, and how to read it from TOML, the environment or a flag.
package enum SettingKind: Sendable, Equatable {
    case string
    case integer(ClosedRange<Int>)
    case boolean
    case stringList
    case choice([String])
    /// A TOML table or array of tables (`[[consent.services]]`), kept as JSON text; the string
    /// says what shape is expected. In the environment it is given as JSON.
    case structured(String)

    /// The words used in error messages: "expected an integer from 1 to 65535".
    var expectation: String {
        switch self {
        case .string: return "a string"
        case .integer(let range): return "an integer from \(range.lowerBound) to \(range.upperBound)"
        case .boolean: return "true or false"
        case .stringList: return "an array of strings"
        case .choice(let words): return "one of " + words.map { "\"\($0)\"" }.joined(separator: ", ")
        case .structured(let shape): return shape
        }
    }
}

/// A setting's value, whatever its source.
package enum SettingValue: Sendable, Equatable {
    case string(String)
    case integer(Int)
    case boolean(Bool)
    case stringList([String])
    /// JSON text of a structured setting (`SettingKind.structured`).
    case json(String)

    /// The value as TOML source, for `check-config --print-defaults`.
    var tomlLiteral: String {
        switch self {
        case .string(let s): return tomlQuoted(s)
        case .integer(let i): return String(i)
        case .boolean(let b): return b ? "true" : "false"
        case .stringList(let list): return "[" + list.map(tomlQuoted).joined(separator: ", ") + "]"
        case .json(let text): return text  // defaults are `[]` or `{}`, which TOML reads the same
        }
    }
}

func tomlQuoted(_ s: String) -> String {
    "\"" + s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
}

/// One configuration setting: its TOML key (`section.name`), its environment variable, its kind,
/// its default and the sentence that documents it.
package struct SettingSpec: Sendable {
    package let key: String
    package let env: String
    package let kind: SettingKind
    package let defaultValue: SettingValue
    package let doc: String
    /// Checks a resolved value beyond its kind (a structured setting's fields); returns what is
    /// wrong, or nil. Runs for every source, so `check-config` reports it like any other problem.
    package var validate: (@Sendable (SettingValue) -> String?)?

    package init(key: String, env: String, kind: SettingKind, defaultValue: SettingValue, doc: String,
                 validate: (@Sendable (SettingValue) -> String?)? = nil) {
        self.key = key
        self.env = env
        self.kind = kind
        self.defaultValue = defaultValue
        self.doc = doc
        self.validate = validate
    }

    package var section: String { String(key.split(separator: ".").first!) }
    package var name: String { String(key.split(separator: ".").last!) }

    /// Reads a raw string from the environment or a flag; lists are comma-separated.
    package func parse(raw: String) -> Result<SettingValue, ConfigProblem.Reason> {
        switch kind {
        case .string:
            return .success(.string(raw))
        case .integer(let range):
            guard let value = Int(raw.trimmingCharacters(in: .whitespaces)) else { return .failure(.wrongType(expected: kind.expectation, found: "\"\(raw)\"")) }
            guard range.contains(value) else { return .failure(.outOfRange(expected: kind.expectation, found: String(value))) }
            return .success(.integer(value))
        case .boolean:
            switch raw.lowercased() {
            case "true", "1", "yes", "on": return .success(.boolean(true))
            case "false", "0", "no", "off": return .success(.boolean(false))
            default: return .failure(.wrongType(expected: kind.expectation, found: "\"\(raw)\""))
            }
        case .stringList:
            let items = raw.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            return .success(.stringList(items))
        case .choice(let words):
            let word = raw.lowercased()
            guard words.contains(word) else { return .failure(.wrongType(expected: kind.expectation, found: "\"\(raw)\"")) }
            return .success(.string(word))
        case .structured:
            guard let data = raw.data(using: .utf8), (try? JSONSerialization.jsonObject(with: data)) != nil else {
                return .failure(.wrongType(expected: kind.expectation + " (as JSON)", found: "\"\(raw.prefix(60))\""))
            }
            return .success(.json(raw))
        }
    }
}

/// One thing wrong with the configuration, naming the key and where it came from.
package struct ConfigProblem: Error, Sendable, Equatable, CustomStringConvertible {
    package enum Reason: Error, Sendable, Equatable {
        case unknownKey(suggestion: String?)
        case wrongType(expected: String, found: String)
        case outOfRange(expected: String, found: String)
        case invalid(String)
        case unreadable(String)
        case syntax(String)
    }

    /// `server.port`, or the file itself for syntax errors.
    package let key: String
    /// `/etc/frontdesk/frontdesk.toml`, `environment variable FRONTDESK_PORT`, `flag --port`.
    package let source: String
    package let reason: Reason

    package var description: String {
        switch reason {
        case .unknownKey(let suggestion):
            return "\(source): unknown key \"\(key)\"" + (suggestion.map { " (did you mean \"\($0)\"?)" } ?? "")
        case .wrongType(let expected, let found):
            return "\(source): \"\(key)\" must be \(expected), found \(found)"
        case .outOfRange(let expected, let found):
            return "\(source): \"\(key)\" must be \(expected), found \(found)"
        case .invalid(let message):
            return "\(source): \"\(key)\" \(message)"
        case .unreadable(let message):
            return "\(source): cannot read the file: \(message)"
        case .syntax(let message):
            return "\(source): \(message)"
        }
    }
}

/// Every problem found in one configuration, reported together so a site owner fixes them in one pass.
package struct ConfigErrors: Error, Sendable, CustomStringConvertible {
    package let problems: [ConfigProblem]
    package var description: String {
        "configuration has \(problems.count) problem\(problems.count == 1 ? "" : "s"):\n" + problems.map { "  - \($0)" }.joined(separator: "\n")
    }
}

/// One setting a feature declares beside its code: its catalogue entry and its typed value.
///
/// `config[ToySettings.greeting]` reads it. There is no lookup by a string key that could yield
/// `""` or `0` for a typo: the value was checked against the declaration's kind and range when
/// the configuration was loaded, and the declaration holds the default, written once.
package struct Setting<Value: Sendable>: Sendable {
    package let spec: SettingSpec
    let read: @Sendable (SettingValue) -> Value?
    let defaultValue: Value

    /// An integer setting within `range`.
    package static func integer(_ key: String, env: String, default value: Int, range: ClosedRange<Int>, doc: String) -> Setting<Int> {
        Setting<Int>(spec: SettingSpec(key: key, env: env, kind: .integer(range), defaultValue: .integer(value), doc: doc),
                     read: { if case .integer(let i) = $0 { return i }; return nil }, defaultValue: value)
    }

    /// A text setting.
    package static func string(_ key: String, env: String, default value: String, doc: String) -> Setting<String> {
        Setting<String>(spec: SettingSpec(key: key, env: env, kind: .string, defaultValue: .string(value), doc: doc),
                        read: { if case .string(let s) = $0 { return s }; return nil }, defaultValue: value)
    }

    /// A text setting whose value `validate` checks at load time; it returns what is wrong (said
    /// after the key, "must be …"), or nil, so a bad value is a named configuration error.
    package static func string(_ key: String, env: String, default value: String, doc: String,
                               validate: @escaping @Sendable (String) -> String?) -> Setting<String> {
        Setting<String>(spec: SettingSpec(key: key, env: env, kind: .string, defaultValue: .string(value), doc: doc,
                                          validate: { raw in if case .string(let s) = raw { return validate(s) }; return nil }),
                        read: { if case .string(let s) = $0 { return s }; return nil }, defaultValue: value)
    }

    /// An on/off setting.
    package static func boolean(_ key: String, env: String, default value: Bool, doc: String) -> Setting<Bool> {
        Setting<Bool>(spec: SettingSpec(key: key, env: env, kind: .boolean, defaultValue: .boolean(value), doc: doc),
                      read: { if case .boolean(let b) = $0 { return b }; return nil }, defaultValue: value)
    }

    /// A structured value (a TOML table or array of tables) decoded into `Value` from its JSON
    /// text; `decode` throws a message naming what is wrong, which loading reports for the key.
    package static func structured(_ key: String, env: String, shape: String, default value: Value, defaultJSON: String, doc: String,
                                   decode: @escaping @Sendable (String) throws -> Value) -> Setting<Value> {
        Setting<Value>(spec: SettingSpec(key: key, env: env, kind: .structured(shape), defaultValue: .json(defaultJSON), doc: doc,
                                         validate: { raw in
                                             guard case .json(let text) = raw else { return nil }
                                             do { _ = try decode(text); return nil } catch { return "\(error)" }
                                         }),
                       read: { if case .json(let text) = $0 { return try? decode(text) }; return nil }, defaultValue: value)
    }

    /// One word of `words` (lower-cased).
    package static func choice(_ key: String, env: String, default value: String, among words: [String], doc: String) -> Setting<String> {
        Setting<String>(spec: SettingSpec(key: key, env: env, kind: .choice(words), defaultValue: .string(value), doc: doc),
                        read: { if case .string(let s) = $0 { return s }; return nil }, defaultValue: value)
    }

    /// A list of strings (comma-separated in the environment).
    package static func list(_ key: String, env: String, default value: [String], doc: String) -> Setting<[String]> {
        Setting<[String]>(spec: SettingSpec(key: key, env: env, kind: .stringList, defaultValue: .stringList(value), doc: doc),
                          read: { if case .stringList(let l) = $0 { return l }; return nil }, defaultValue: value)
    }
}
