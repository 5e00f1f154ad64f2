import GRDB

/// Append-only schema history. Each feature appends its own migrations with stable ids;
/// never edit or reorder one that has shipped. Migrations use raw table and column names,
/// never app types, so they keep meaning the same thing as the code changes.
enum Migrations {
    static var migrator: DatabaseMigrator {
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
        return migrator
    }
}
