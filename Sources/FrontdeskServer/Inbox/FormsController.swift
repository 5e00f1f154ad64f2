import FrontdeskCore
import Foundation
import Hummingbird
import Synchronization

/// `GET /api/v1/forms/{form}`: what the widget needs to render a form — its extra fields, the
/// honeypot's name, a fresh form token and, when enabled, a proof-of-work puzzle — for every form
/// in the registry: `contact` and any `[forms.<id>]` from the configuration, and whatever forms
/// the features register (`newsletter`, `ticket`, …) with their own extra keys.
struct FormsController: Sendable {
    let config: FrontdeskConfig
    let `guard`: FormGuard
    /// Every kept submission makes the server send a mail (the owner's notice, a confirmation,
    /// a magic link), so each one is paid from the sender's daily visitor mail budget.
    let mailBudget: VisitorMailBudget
    /// The forms a visitor can fetch; features add theirs when they add their routes.
    let registry = FormRegistry()

    init(config: FrontdeskConfig, guard: FormGuard, mailBudget: VisitorMailBudget) {
        self.config = config
        self.guard = `guard`
        self.mailBudget = mailBudget
        for (id, form) in config.forms {
            registry.register(PublicForm(id: id, title: form.title, fields: form.fields))
        }
    }

    /// The form guard's verdict on a submission; a kept one is paid from the mail budget.
    func screen(form: String, _ json: [String: JSONValue], context: AppRequestContext) throws -> (FormGuard.Verdict, [String: JSONValue]) {
        let (verdict, fields) = try self.guard.screen(form: form, json)
        if verdict != .discard { try mailBudget.spendOrThrow(for: context.clientAddress) }
        return (verdict, fields)
    }

    struct FormConfig: Encodable {
        let id: String
        let title: String
        let fields: [FormField]
        let honeypotField: String
        let formToken: String
        let minFillSeconds: Int
        let proofOfWork: FormGuard.Challenge?
        /// The registering feature's own keys (`topics`, `priorities`, …), at the top level.
        let extras: [String: JSONValue]

        enum Keys: String, CodingKey { case id, title, fields, honeypotField, formToken, minFillSeconds, proofOfWork }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: Keys.self)
            try container.encode(id, forKey: .id)
            try container.encode(title, forKey: .title)
            try container.encode(fields, forKey: .fields)
            try container.encode(honeypotField, forKey: .honeypotField)
            try container.encode(formToken, forKey: .formToken)
            try container.encode(minFillSeconds, forKey: .minFillSeconds)
            try container.encodeIfPresent(proofOfWork, forKey: .proofOfWork)
            var extra = encoder.container(keyedBy: AnyKey.self)
            for (key, value) in extras { try extra.encode(value, forKey: AnyKey(key)) }
        }
    }

    func addRoutes(to routes: Routes) {
        routes.publicAPI.get("/forms/:form") { _, context in
            let id = context.parameters.get("form") ?? ""
            var response = try Response.json(try describe(id))
            response.headers[.cacheControl] = "no-store"
            return response
        }
    }

    func describe(_ id: String) throws -> FormConfig {
        guard let form = registry.form(id) else {
            throw FrontdeskError(.notFound, code: "not_found",
                                 message: "There is no form \"\(id.prefix(40))\". Forms: " + registry.ids.joined(separator: ", ") + ".")
        }
        return FormConfig(id: id, title: form.title, fields: form.fields, honeypotField: config.spam.honeypotField,
                          formToken: `guard`.issueToken(form: id), minFillSeconds: config.spam.minFillSeconds,
                          proofOfWork: `guard`.issueChallenge(), extras: form.extras)
    }

    /// The form definition a contact post names (422 for an unknown one).
    func contactForm(_ id: String) throws -> FormDefinition {
        guard let form = config.forms[id] else {
            throw FrontdeskError.validation(["form": "must be one of " + config.forms.keys.sorted().joined(separator: ", ")])
        }
        return form
    }
}

/// `POST /api/v1/contact`: a visitor's message to the site owner, stored (with the owner's
/// notification mail queued) before the 201.
struct ContactController: Sendable {
    let store: ContactStore
    let forms: FormsController
    let idempotent: IdempotentResponder
    let now: @Sendable () -> Date

    struct Created: Encodable {
        let id: Int64
        let status: String
        let createdAt: String
    }

    func addRoutes(to routes: Routes) {
        routes.publicForms.post("/contact") { request, context in
            let (json, body) = try await request.jsonBody(context: context)
            return try await idempotent.respond(scope: "contact", request: request, context: context, body: body) { recorder in
                let formID = try NewContactSubmission.formID(in: json)
                let form = try forms.contactForm(formID)
                let (verdict, fields) = try forms.screen(form: form.id, json, context: context)
                // Validated before the honeypot's verdict: a bot's bad post gets the same 422 as anybody's.
                let input = try NewContactSubmission(json: fields, form: form)
                if verdict == .discard {
                    context.logger.info("contact submission dropped (honeypot)", metadata: ["request_id": "\(context.requestID)"])
                    return try Response.json(Created(id: Int64.random(in: 1...Int64(Int32.max)), status: "new", createdAt: Timestamps.iso8601Milliseconds(now())), status: .created)
                }
                let stored = try await store.submit(input, userAgent: request.headers[.userAgent], now: now()) { db, row in
                    try recorder.record(.created, Created(id: row.id ?? 0, status: row.status.rawValue, createdAt: row.createdAt), in: db)
                }
                // The access log already has a line per request; this one is for tracing a submission.
                context.logger.debug("contact submission stored", metadata: ["contact_id": "\(stored.id ?? 0)", "request_id": "\(context.requestID)"])
                return try Response.json(Created(id: stored.id ?? 0, status: stored.status.rawValue, createdAt: stored.createdAt), status: .created)
            }
        }
    }
}

/// A form the widget can fetch from `GET /api/v1/forms/{form}`.
struct PublicForm: Sendable {
    let id: String
    let title: String
    var fields: [FormField] = []
    /// Keys the form's feature adds to the description, e.g. the newsletter's `topics`.
    var extras: [String: JSONValue] = [:]
}

/// The forms by id; one per server, filled while the features add their routes.
final class FormRegistry: Sendable {
    private let forms = Mutex<[String: PublicForm]>([:])

    func register(_ form: PublicForm) { forms.withLock { $0[form.id] = form } }
    func form(_ id: String) -> PublicForm? { forms.withLock { $0[id] } }
    var ids: [String] { forms.withLock { $0.keys.sorted() } }
}

/// A coding key made from any string, for keys only known at run time.
struct AnyKey: CodingKey {
    let stringValue: String
    var intValue: Int? { nil }
    init(_ string: String) { stringValue = string }
    init?(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
}
