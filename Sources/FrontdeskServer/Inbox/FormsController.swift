import FrontdeskCore
import Foundation
import Hummingbird

/// `GET /api/v1/forms/{form}`: what the widget needs to render a form — its extra fields, the
/// honeypot's name, a fresh form token and, when enabled, a proof-of-work puzzle. Forms are
/// `contact` and any `[forms.<id>]`, plus `newsletter` and `ticket`.
struct FormsController: Sendable {
    let config: FrontdeskConfig
    let `guard`: FormGuard
    /// Every kept submission makes the server send a mail (the owner's notice, a confirmation,
    /// a magic link), so each one is paid from the sender's daily visitor mail budget.
    let mailBudget: VisitorMailBudget

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
        let topics: [NewsletterSettings.Topic]?
        let consentText: String?
        let consentVersion: String?
        let priorities: [String]?
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
        let isNewsletter = id == "newsletter"
        let isTicket = id == "ticket"
        guard isNewsletter || isTicket || config.forms[id] != nil else {
            throw FrontdeskError(.notFound, code: "not_found",
                                 message: "There is no form \"\(id.prefix(40))\". Forms: " + (config.forms.keys.sorted() + ["newsletter", "ticket"]).joined(separator: ", ") + ".")
        }
        let form = config.forms[id]
        return FormConfig(
            id: id, title: form?.title ?? (isNewsletter ? "Newsletter" : "Support request"), fields: form?.fields ?? [],
            honeypotField: config.spam.honeypotField, formToken: `guard`.issueToken(form: id), minFillSeconds: config.spam.minFillSeconds,
            proofOfWork: `guard`.issueChallenge(),
            topics: isNewsletter ? config.newsletter.topics : nil,
            consentText: isNewsletter ? config.newsletter.consentText : nil,
            consentVersion: isNewsletter ? config.newsletter.consentVersion : nil,
            priorities: isTicket ? SupportTicket.priorities : nil)
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
                let formID = NewContactSubmission.formID(in: json)
                let form = try forms.contactForm(formID)
                let (verdict, fields) = try forms.screen(form: form.id, json, context: context)
                if verdict == .discard {
                    context.logger.info("contact submission dropped (honeypot)", metadata: ["request_id": "\(context.requestID)"])
                    return try Response.json(Created(id: Int64.random(in: 1...Int64(Int32.max)), status: "new", createdAt: Timestamps.iso8601Milliseconds(now())), status: .created)
                }
                let input = try NewContactSubmission(json: fields, form: form)
                let stored = try await store.submit(input, userAgent: request.headers[.userAgent], now: now()) { db, row in
                    try recorder.record(.created, Created(id: row.id ?? 0, status: row.status, createdAt: row.createdAt), in: db)
                }
                // The access log already has a line per request; this one is for tracing a submission.
                context.logger.debug("contact submission stored", metadata: ["contact_id": "\(stored.id ?? 0)", "request_id": "\(context.requestID)"])
                return try Response.json(Created(id: stored.id ?? 0, status: stored.status, createdAt: stored.createdAt), status: .created)
            }
        }
    }
}
