//! The `liaison` command: serve, migrate, token, openapi.

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
