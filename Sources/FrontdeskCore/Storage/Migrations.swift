import GRDB

/// Append-only schema history. Each feature appends its own migrations with stable ids;
/// never edit or reorder one that has shipped. Migrations use raw table and column names,
/// never app types, so they keep meaning the same thing as the code changes.
enum Migrations {
    /// The built-in history followed by the features' steps, all in id order. Ids are global
    /// and numbered (`0013-faq`): a feature takes the next free number and never changes it.
    static func migrator(adding features: [SchemaMigration] = []) -> DatabaseMigrator {
        var migrator = builtIn
        let known = Set(migrator.migrations)
        for step in features.sorted(by: { $0.id < $1.id }) {
            precondition(!known.contains(step.id), "migration id \(step.id) is taken")
            migrator.registerMigration(step.id, migrate: step.apply)
        }
        return migrator
    }

    static var migrator: DatabaseMigrator { migrator() }

    private static var builtIn: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("0001-core-settings") { db in
            try db.execute(sql: """
                CREATE TABLE app_settings (
                    key TEXT PRIMARY KEY NOT NULL,
                    value TEXT NOT NULL,
                    updated_at TEXT NOT NULL
                ) STRICT
                """)
        }
        migrator.registerMigration("0002-inbox-contact") { db in
            try db.execute(sql: """
                CREATE TABLE contact_submissions (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    form TEXT NOT NULL DEFAULT 'default',
                    name TEXT NOT NULL,
                    email TEXT NOT NULL,
                    subject TEXT,
                    message TEXT NOT NULL,
                    fields TEXT NOT NULL DEFAULT '{}',
                    status TEXT NOT NULL DEFAULT 'new' CHECK (status IN ('new', 'processed')),
                    page_url TEXT,
                    user_agent TEXT,
                    created_at TEXT NOT NULL,
                    processed_at TEXT
                ) STRICT;
                CREATE INDEX contact_submissions_status_created ON contact_submissions(status, created_at);
                """)
        }
        migrator.registerMigration("0003-accounts") { db in
            try db.execute(sql: """
                CREATE TABLE users (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    email TEXT NOT NULL UNIQUE COLLATE NOCASE,
                    name TEXT NOT NULL DEFAULT '',
                    role TEXT NOT NULL CHECK (role IN ('admin', 'agent')),
                    password_hash TEXT NOT NULL,
                    disabled INTEGER NOT NULL DEFAULT 0,
                    created_at TEXT NOT NULL,
                    updated_at TEXT NOT NULL
                ) STRICT
                """)
        }
        migrator.registerMigration("0004-accounts-session-epoch") { db in
            // Bumped on password change or disable, so sessions end even when the change was
            // made by `frontdesk user …` in another process.
            try db.execute(sql: "ALTER TABLE users ADD COLUMN session_epoch INTEGER NOT NULL DEFAULT 0")
        }
        migrator.registerMigration("0005-cache-stats") { db in
            try db.execute(sql: """
                CREATE TABLE cache_stats (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    recorded_at TEXT NOT NULL,
                    namespace TEXT NOT NULL,
                    hits INTEGER NOT NULL,
                    misses INTEGER NOT NULL,
                    evictions INTEGER NOT NULL,
                    expirations INTEGER NOT NULL,
                    entries INTEGER NOT NULL,
                    bytes INTEGER NOT NULL
                ) STRICT;
                CREATE INDEX cache_stats_recorded_at ON cache_stats(recorded_at);
                """)
        }
        migrator.registerMigration("0006-mail-outbox") { db in
            // The durable outbox: features insert here in their own transaction; the delivery
            // service sends, retries and dead-letters. headers_json holds display names,
            // Reply-To and List-Unsubscribe in a fixed shape (never free-form headers).
            try db.execute(sql: """
                CREATE TABLE mail_outbox (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    kind TEXT NOT NULL,
                    to_address TEXT NOT NULL,
                    from_address TEXT NOT NULL,
                    subject TEXT NOT NULL,
                    text_body TEXT NOT NULL,
                    html_body TEXT,
                    headers_json TEXT NOT NULL DEFAULT '{}',
                    status TEXT NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'sending', 'sent', 'failed', 'dead')),
                    attempts INTEGER NOT NULL DEFAULT 0,
                    next_attempt_at TEXT NOT NULL,
                    last_attempt_at TEXT,
                    last_error TEXT,
                    created_at TEXT NOT NULL,
                    sent_at TEXT,
                    idempotency_key TEXT UNIQUE
                ) STRICT;
                CREATE INDEX mail_outbox_due ON mail_outbox(status, next_attempt_at);
                """)
        }
        migrator.registerMigration("0007-newsletter") { db in
            // One row per address. `token` confirms and unsubscribes (one click each); the
            // consent proof is the version of the text shown, the times, and the sign-up's
            // truncated address (never the full one).
            try db.execute(sql: """
                CREATE TABLE newsletter_subscriptions (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    email TEXT NOT NULL UNIQUE COLLATE NOCASE,
                    name TEXT,
                    status TEXT NOT NULL CHECK (status IN ('pending', 'confirmed', 'unsubscribed')),
                    topics TEXT NOT NULL DEFAULT '[]',
                    token TEXT NOT NULL UNIQUE,
                    consent_version TEXT NOT NULL,
                    source TEXT NOT NULL DEFAULT 'form' CHECK (source IN ('form', 'import', 'admin')),
                    client_network TEXT,
                    subscribed_at TEXT NOT NULL,
                    confirmed_at TEXT,
                    unsubscribed_at TEXT,
                    confirmation_sent_at TEXT,
                    updated_at TEXT NOT NULL
                ) STRICT;
                CREATE INDEX newsletter_status_subscribed ON newsletter_subscriptions(status, subscribed_at);
                """)
        }
        migrator.registerMigration("0008-support-tickets") { db in
            // The customer's access token is never stored: it is an HMAC of the ticket id and
            // `access_nonce` under an install secret, so a copy of the database alone opens no
            // ticket. Messages hold the whole thread: customer, agent, system and internal notes.
            try db.execute(sql: """
                CREATE TABLE support_tickets (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    email TEXT NOT NULL,
                    name TEXT,
                    subject TEXT NOT NULL,
                    description TEXT NOT NULL,
                    status TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'in-progress', 'resolved', 'closed')),
                    priority TEXT NOT NULL DEFAULT 'medium' CHECK (priority IN ('low', 'medium', 'high', 'urgent')),
                    assignee_id INTEGER REFERENCES users(id) ON DELETE SET NULL,
                    source TEXT NOT NULL DEFAULT 'form' CHECK (source IN ('form', 'contact', 'chat')),
                    source_id INTEGER,
                    access_nonce TEXT NOT NULL,
                    created_at TEXT NOT NULL,
                    updated_at TEXT NOT NULL,
                    first_response_at TEXT,
                    resolved_at TEXT,
                    closed_at TEXT
                ) STRICT;
                CREATE INDEX support_tickets_status_updated ON support_tickets(status, updated_at);
                CREATE INDEX support_tickets_assignee ON support_tickets(assignee_id, status);
                CREATE TABLE ticket_messages (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    ticket_id INTEGER NOT NULL REFERENCES support_tickets(id) ON DELETE CASCADE,
                    author TEXT NOT NULL CHECK (author IN ('customer', 'agent', 'system')),
                    author_user_id INTEGER REFERENCES users(id) ON DELETE SET NULL,
                    author_name TEXT,
                    body TEXT NOT NULL,
                    internal INTEGER NOT NULL DEFAULT 0,
                    created_at TEXT NOT NULL
                ) STRICT;
                CREATE INDEX ticket_messages_ticket ON ticket_messages(ticket_id, id);
                """)
        }
        migrator.registerMigration("0009-idempotency-keys") { db in
            // The first response to a form POST with an Idempotency-Key, written in the same
            // transaction as what it created, so a retry can never store twice.
            try db.execute(sql: """
                CREATE TABLE idempotency_keys (
                    scope TEXT NOT NULL,
                    key TEXT NOT NULL,
                    request_hash TEXT NOT NULL,
                    status INTEGER NOT NULL,
                    body BLOB NOT NULL,
                    created_at TEXT NOT NULL,
                    PRIMARY KEY (scope, key)
                ) STRICT, WITHOUT ROWID;
                CREATE INDEX idempotency_keys_created ON idempotency_keys(created_at);
                """)
        }
        migrator.registerMigration("0010-chat") { db in
            // Live chat. Message ids increase in commit order, which is what resume and the
            // cumulative receipts (the *_up_to columns) rely on. Per-message status times:
            // created_at is when it was committed (sent), then delivered_at and read_at.
            // (sender_key, client_message_id) makes a send idempotent across reconnects.
            try db.execute(sql: """
                CREATE TABLE chat_conversations (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    visitor_id TEXT NOT NULL,
                    user_id TEXT,
                    visitor_name TEXT,
                    visitor_email TEXT,
                    identified INTEGER NOT NULL DEFAULT 0,
                    status TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'assigned', 'closed')),
                    assignee_id INTEGER REFERENCES users(id) ON DELETE SET NULL,
                    assignee_name TEXT,
                    offline INTEGER NOT NULL DEFAULT 0,
                    page_url TEXT,
                    ticket_id INTEGER,
                    closed_by TEXT CHECK (closed_by IN ('agent', 'visitor', 'inactivity', 'ticket')),
                    created_at TEXT NOT NULL,
                    updated_at TEXT NOT NULL,
                    assigned_at TEXT,
                    closed_at TEXT,
                    last_message_at TEXT,
                    last_message_id INTEGER,
                    visitor_delivered_up_to INTEGER NOT NULL DEFAULT 0,
                    visitor_read_up_to INTEGER NOT NULL DEFAULT 0,
                    agent_delivered_up_to INTEGER NOT NULL DEFAULT 0,
                    agent_read_up_to INTEGER NOT NULL DEFAULT 0
                ) STRICT;
                CREATE INDEX chat_conversations_visitor ON chat_conversations(visitor_id, status);
                CREATE INDEX chat_conversations_user ON chat_conversations(user_id) WHERE user_id IS NOT NULL;
                CREATE INDEX chat_conversations_status_updated ON chat_conversations(status, updated_at);
                CREATE INDEX chat_conversations_assignee ON chat_conversations(assignee_id, status);
                CREATE TABLE chat_messages (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    conversation_id INTEGER NOT NULL REFERENCES chat_conversations(id) ON DELETE CASCADE,
                    sender TEXT NOT NULL CHECK (sender IN ('visitor', 'agent', 'system')),
                    agent_id INTEGER REFERENCES users(id) ON DELETE SET NULL,
                    sender_name TEXT,
                    sender_key TEXT,
                    client_message_id TEXT,
                    text TEXT NOT NULL,
                    system_event TEXT,
                    created_at TEXT NOT NULL,
                    delivered_at TEXT,
                    read_at TEXT
                ) STRICT;
                CREATE INDEX chat_messages_conversation ON chat_messages(conversation_id, id);
                CREATE UNIQUE INDEX chat_messages_client_id ON chat_messages(sender_key, client_message_id)
                    WHERE client_message_id IS NOT NULL;
                """)
        }
        migrator.registerMigration("0011-idempotency-keys-per-client") { db in
            // Keys are now stored as HMAC(install secret, client address + key), so one client's
            // key never replays another's response and no address is kept; and the stored
            // response of a new ticket no longer holds its access token. Older records are keyed
            // the old way and may hold a token: they are dropped (they would expire within a day).
            try db.execute(sql: "DELETE FROM idempotency_keys")
        }
        migrator.registerMigration("0012-mail-outbox-redact-sent") { db in
            // Sent mail keeps kind, recipient, subject and status; its bodies (magic links,
            // confirmation links, visitors' messages) and List-Unsubscribe link are emptied.
            try db.execute(sql: """
                UPDATE mail_outbox SET text_body = '', html_body = NULL, headers_json = json_remove(headers_json, '$.list_unsubscribe')
                WHERE status = 'sent'
                """)
        }
        return migrator
    }
}

/// One step of a feature's schema: a stable, globally numbered id and the SQL that takes the
/// database there. Declared beside the feature's store and contributed by its module.
package struct SchemaMigration: Sendable {
    package let id: String
    let apply: @Sendable (Database) throws -> Void

    package init(_ id: String, _ apply: @escaping @Sendable (Database) throws -> Void) {
        self.id = id
        self.apply = apply
    }
}
