//! Command-line flags: parsed here, validated by `sextant-config`.

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(name = "sextant", version, about = "Self-hosted product and operational analytics")]
pub struct Cli {
    /// Config file (default: $SEXTANT_CONFIG, else ./sextant.toml if present).
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Data directory (config key storage.data_dir).
    #[arg(long, global = true, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Log filter such as `info` or `debug` (config key log.level).
    #[arg(long, global = true, value_name = "FILTER")]
    pub log_level: Option<String>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the server.
    Serve(ServeArgs),
    /// Generate a deterministic synthetic workload into a new project.
    Demo(DemoArgs),
    /// Run a query against a project's events and print the answer.
    Query(QueryArgs),
    /// Load events from NDJSON (as written by `export`) into a project.
    Import(ImportArgs),
    /// Write a project's events as NDJSON, oldest first.
    Export(ExportArgs),
    /// Manage projects.
    #[command(subcommand)]
    Project(ProjectCommand),
    /// Manage API keys.
    #[command(subcommand)]
    Key(KeyCommand),
    /// Manage users (people who log in or come through a gateway).
    #[command(subcommand)]
    User(UserCommand),
    /// Read the audit log: who read or changed what, newest first.
    Audit(AuditArgs),
    /// Delete events older than each project's `retention_days` now (`serve` also does it
    /// daily). Needs the event store, so run it while no server holds the data directory.
    Retention,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on (config key server.listen).
    #[arg(long, value_name = "HOST:PORT")]
    pub listen: Option<String>,
    /// Load demo data into a `demo` project (once) and print a ready-to-run query.
    #[arg(long)]
    pub demo: bool,
    /// Events to generate with --demo.
    #[arg(long, default_value_t = 1_000_000, requires = "demo")]
    pub demo_events: u64,
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// How many events to generate.
    #[arg(long, default_value_t = 1_000_000)]
    pub events: u64,
    /// Project to create for them (must not exist yet).
    #[arg(long, default_value = "demo")]
    pub project: String,
    /// Days of history.
    #[arg(long, default_value_t = 30)]
    pub days: u32,
    /// End of the generated period (RFC 3339 or date); default: the start of the current hour.
    #[arg(long)]
    pub end: Option<String>,
    /// Random seed; the same seed, size and end give the same events.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum OutputFormat {
    Table,
    Json,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum MathArg {
    Total,
    UniqueUsers,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum IntervalArg {
    Minute,
    Hour,
    Day,
    Week,
    Month,
}

#[derive(Debug, Args)]
pub struct QueryArgs {
    /// Project id or name.
    #[arg(long)]
    pub project: String,
    /// A query spec (JSON, as for POST /api/v1/query); `-` reads stdin. Other query flags are
    /// ignored when given.
    #[arg(long, value_name = "FILE")]
    pub file: Option<PathBuf>,
    /// Event to count (default: every event).
    #[arg(long)]
    pub event: Option<String>,
    #[arg(long, value_enum, default_value = "total")]
    pub math: MathArg,
    #[arg(long, value_enum, default_value = "day")]
    pub interval: IntervalArg,
    /// Start: RFC 3339, a date, or relative like -7d.
    #[arg(long, default_value = "-7d", allow_hyphen_values = true)]
    pub from: String,
    /// End (exclusive; dates are inclusive); default now.
    #[arg(long, allow_hyphen_values = true)]
    pub to: Option<String>,
    /// Property to break down by, e.g. `country` or `properties.plan`.
    #[arg(long)]
    pub breakdown: Option<String>,
    /// Filter `property=value` (repeatable; ANDed).
    #[arg(long = "where", value_name = "PROPERTY=VALUE")]
    pub filters: Vec<String>,
    #[arg(long, value_enum, default_value = "table")]
    pub format: OutputFormat,
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// NDJSON file; `-` reads stdin.
    pub file: PathBuf,
    /// Project id or name.
    #[arg(long)]
    pub project: String,
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// Project id or name.
    #[arg(long)]
    pub project: String,
    /// Output file; default stdout.
    #[arg(long, short)]
    pub output: Option<PathBuf>,
    /// Same syntax as `query --from`.
    #[arg(long, allow_hyphen_values = true)]
    pub from: Option<String>,
    #[arg(long, allow_hyphen_values = true)]
    pub to: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum ProjectCommand {
    /// Create a project and print its write key.
    Create {
        name: String,
        #[arg(long, default_value = "default")]
        org: String,
    },
    List,
    /// Print a project's settings, or change them with --set (a running server applies the
    /// change within 10 s).
    Settings {
        /// Project id or name.
        project: String,
        /// Settings to change, as JSON: '{"allowed_events": ["signup"], "retention_days": 90}'.
        /// `add_internal_users` / `remove_internal_users` take ids or emails (stored hashed).
        #[arg(long, value_name = "JSON")]
        set: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum KeyCommand {
    /// Create a key and print it (secret keys are shown only now).
    Create {
        /// An instance-wide admin key instead of a project key.
        #[arg(long, conflicts_with_all = ["project", "kind"])]
        admin: bool,
        /// Project id or name.
        #[arg(long, required_unless_present = "admin")]
        project: Option<String>,
        #[arg(long, value_enum, default_value = "secret")]
        kind: ProjectKeyKind,
        /// What a secret key may do on its project.
        #[arg(long, value_enum, default_value = "analyst", conflicts_with = "admin")]
        role: RoleArg,
        #[arg(long, default_value = "cli")]
        name: String,
    },
    List {
        #[arg(long)]
        project: Option<String>,
    },
    Revoke {
        id: String,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ProjectKeyKind {
    Secret,
    Write,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RoleArg {
    Admin,
    Analyst,
    Viewer,
    /// Spelled as everywhere else in Sextant (`business_viewer`).
    #[value(name = "business_viewer", alias = "business-viewer")]
    BusinessViewer,
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create a user; the password is read from stdin (one line) with --password-stdin, else
    /// prompted for. Without a password (--no-password) the user can only come through a
    /// gateway JWT.
    Create {
        #[arg(long)]
        email: String,
        #[arg(long)]
        name: Option<String>,
        #[arg(long, default_value = "default")]
        org: String,
        /// Role on the whole organization, or on --project only.
        #[arg(long, value_enum, default_value = "viewer")]
        role: RoleArg,
        /// Project id or name the role applies to (default: the whole organization).
        #[arg(long)]
        project: Option<String>,
        #[arg(long, conflicts_with = "no_password")]
        password_stdin: bool,
        #[arg(long)]
        no_password: bool,
    },
    List {
        #[arg(long, default_value = "default")]
        org: String,
    },
    /// Disable a user (by email or id): their logins, sessions and JWTs stop working.
    Disable { user: String },
    /// Enable a disabled user again.
    Enable { user: String },
}

#[derive(Debug, Args)]
pub struct AuditArgs {
    /// Only this project (id or name).
    #[arg(long)]
    pub project: Option<String>,
    /// Only this organization (name or id).
    #[arg(long)]
    pub org: Option<String>,
    /// Only this actor: user:<id>, key:<id>, or an email (resolved to its user).
    #[arg(long)]
    pub actor: Option<String>,
    /// Only this operation, e.g. run_query, revoke_key, login.
    #[arg(long)]
    pub action: Option<String>,
    /// Since: RFC 3339, a date, or relative like -24h.
    #[arg(long, allow_hyphen_values = true, default_value = "-7d")]
    pub since: String,
    #[arg(long, default_value_t = 100)]
    pub limit: usize,
    #[arg(long, value_enum, default_value = "table")]
    pub format: OutputFormat,
}
