//! The `liaison` command: serve, migrate, token, client, openapi.

use liaison::auth::{Keys, Role, TokenRequest};

/// A server allocator: requests allocate and free many small strings and buffers on two
/// threads at once.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
use liaison::config::Config;

const USAGE: &str = "usage:
  liaison [serve]     run the API (the default)
  liaison migrate     apply database migrations and exit
  liaison token --role ROLE --school SCHOOL [--guardian ID] [--scope \"a:b c:d\"] [--ttl 1h] [--sub NAME]
                      print a signed token (needs the shared secret, not a public key)
  liaison client create --name NAME --school SCHOOL --role ROLE [--scopes \"a:b c:d\"]
                      make a service account; prints its client id and secret (shown once)
  liaison client list [--school SCHOOL]
                      list service accounts (never their secrets)
  liaison client revoke ID
                      revoke a service account: /oauth/token refuses it from now on
  liaison openapi     print the OpenAPI document

Configuration comes from the environment: see README.md.";

fn main() {
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info")).init();
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let Err(e) = run(&args) {
        eprintln!("liaison: {e}");
        std::process::exit(2);
    }
}

fn run(args: &[String]) -> Result<(), String> {
    match args.first().map(String::as_str) {
        None | Some("serve") => {
            no_more(&args[args.len().min(1)..])?;
            let config = Config::from_env()?;
            actix_web::rt::System::new().block_on(liaison::serve(config))
        }
        Some("migrate") => {
            no_more(&args[1..])?;
            let config = Config::from_env()?;
            let db = liaison::db::Db::connect(&config.database, 1)?;
            let applied = liaison::db::migrate(&mut *db.get()?)?;
            println!("applied {applied} migration(s)");
            Ok(())
        }
        Some("token") => {
            let config = Config::from_env()?;
            let keys = Keys::load(&config)?;
            println!("{}", keys.mint(&token_request(&args[1..])?)?);
            Ok(())
        }
        Some("client") => {
            let config = Config::from_env()?;
            actix_web::rt::System::new().block_on(client(&config, &args[1..]))
        }
        Some("openapi") => {
            no_more(&args[1..])?;
            println!(
                "{}",
                liaison::openapi::to_json(&liaison::openapi::document())
            );
            Ok(())
        }
        Some("-h" | "--help" | "help") => {
            println!("{USAGE}");
            Ok(())
        }
        Some(other) => Err(format!("unknown command `{other}`\n{USAGE}")),
    }
}

/// `liaison client …`: service accounts, written through the same path as the API's, with
/// `system:liaison-cli` as the actor in the audit log.
async fn client(config: &Config, args: &[String]) -> Result<(), String> {
    use liaison::routes::clients::cli;
    let open = || -> Result<liaison::db::Db, String> {
        let db = liaison::db::Db::connect(&config.database, 1)?;
        liaison::db::migrate(&mut *db.get()?)?;
        Ok(db)
    };
    let mut flags = std::collections::HashMap::new();
    let mut positional = Vec::new();
    let mut it = args.iter().skip(1);
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--name" | "--school" | "--role" | "--scopes" | "--scope" => {
                let value = it.next().ok_or(format!("{arg} needs a value"))?;
                let key = if arg == "--scope" {
                    "--scopes"
                } else {
                    arg.as_str()
                };
                if flags.insert(key, value.clone()).is_some() {
                    return Err(format!("{arg} is given twice"));
                }
            }
            other if other.starts_with("--") => {
                return Err(format!("unknown option `{other}`\n{USAGE}"))
            }
            other => positional.push(other.to_string()),
        }
    }
    let allow = |known: &[&str], positional_ok: usize| -> Result<(), String> {
        if let Some(f) = flags.keys().find(|f| !known.contains(f)) {
            return Err(format!("`{f}` does not go with this command\n{USAGE}"));
        }
        if positional.len() > positional_ok {
            return Err(format!(
                "unexpected argument `{}`\n{USAGE}",
                positional[positional_ok]
            ));
        }
        Ok(())
    };
    match args.first().map(String::as_str) {
        Some("create") => {
            allow(&["--name", "--school", "--role", "--scopes"], 0)?;
            let need = |f: &str| flags.get(f).cloned().ok_or(format!("{f} is required"));
            let (name, school, role) = (need("--name")?, need("--school")?, need("--role")?);
            let db = open()?;
            let created = cli::create(
                &db,
                &school,
                &name,
                &role,
                flags.get("--scopes").map(String::as_str),
            )
            .await?;
            println!("client_id:     {}", created.id);
            println!("client_secret: {}", created.client_secret);
            println!("school:        {school}");
            println!("role:          {}", created.role);
            println!("scopes:        {}", created.scopes.join(" "));
            eprintln!(
                "The secret is shown only now: store it in the machine's secret store. \
                 Liaison keeps only a hash of it."
            );
            Ok(())
        }
        Some("list") => {
            allow(&["--school"], 0)?;
            let db = open()?;
            let clients = cli::list(&db, flags.get("--school").map(String::as_str)).await?;
            println!(
                "{:<36}  {:<16}  {:<11}  {:<20}  {:<8}  NAME",
                "CLIENT ID", "SCHOOL", "ROLE", "CREATED", "STATUS"
            );
            for (school, c) in clients {
                let status = if c.revoked_at.is_some() {
                    "revoked"
                } else {
                    "active"
                };
                println!(
                    "{:<36}  {:<16}  {:<11}  {:<20}  {:<8}  {}",
                    c.id,
                    school,
                    c.role,
                    c.created_at.format("%Y-%m-%dT%H:%M:%SZ"),
                    status,
                    c.name
                );
            }
            Ok(())
        }
        Some("revoke") => {
            allow(&[], 1)?;
            let id = positional.first().ok_or("revoke needs the client id")?;
            let db = open()?;
            let c = cli::revoke(&db, id).await?;
            println!("revoked {} ({})", c.id, c.name);
            Ok(())
        }
        Some(other) => Err(format!("unknown client command `{other}`\n{USAGE}")),
        None => Err(format!("client needs create, list or revoke\n{USAGE}")),
    }
}

fn no_more(rest: &[String]) -> Result<(), String> {
    match rest.first() {
        None => Ok(()),
        Some(a) => Err(format!("unexpected argument `{a}`\n{USAGE}")),
    }
}

fn token_request(args: &[String]) -> Result<TokenRequest, String> {
    let mut req = TokenRequest {
        sub: String::new(),
        role: Role::Admin,
        school_id: String::new(),
        guardian_id: None,
        scope: None,
        ttl_seconds: 3600,
    };
    let mut role = None;
    let mut it = args.iter();
    while let Some(flag) = it.next() {
        let mut value = || it.next().cloned().ok_or(format!("{flag} needs a value"));
        match flag.as_str() {
            "--role" => {
                let r = value()?;
                role = Some(Role::parse(&r).ok_or(format!(
                    "unknown role `{r}`; one of admin, pre, teacher, counselor, admissions, guardian, integration"
                ))?);
            }
            "--school" => req.school_id = value()?,
            "--guardian" | "--family" => req.guardian_id = Some(value()?),
            "--scope" => req.scope = Some(value()?),
            "--ttl" => req.ttl_seconds = parse_ttl(&value()?)?,
            "--sub" => req.sub = value()?,
            other => return Err(format!("unknown option `{other}`\n{USAGE}")),
        }
    }
    req.role = role.ok_or("--role is required")?;
    if req.school_id.is_empty() {
        return Err("--school is required".into());
    }
    if req.sub.is_empty() {
        req.sub = format!("cli-{}", req.role);
    }
    Ok(req)
}

/// `90`, `90s`, `15m`, `1h`, `7d`.
fn parse_ttl(s: &str) -> Result<i64, String> {
    let (num, unit) = match s.char_indices().last() {
        Some((i, c)) if c.is_ascii_alphabetic() => (&s[..i], c),
        _ => (s, 's'),
    };
    let n: i64 = num
        .parse()
        .map_err(|_| format!("--ttl `{s}` is not like 90s, 15m, 1h or 7d"))?;
    let secs = match unit {
        's' => n,
        'm' => n * 60,
        'h' => n * 3600,
        'd' => n * 86400,
        _ => return Err(format!("--ttl `{s}` is not like 90s, 15m, 1h or 7d")),
    };
    if secs <= 0 || secs > 366 * 86400 {
        return Err("--ttl must be between 1 second and a year".into());
    }
    Ok(secs)
}
