//! Service accounts as stored, their queries, and their secrets.

use std::sync::OnceLock;

use argon2::{Argon2, PasswordHash, PasswordHasher, PasswordVerifier};
use base64::Engine;
use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::wire::{Client, ClientCreated, ClientRole};
use crate::auth::{Role, Scope, Scopes};
use crate::db::schema::clients;
use crate::db::{native, stored_in, Archivable, DbConnection, Record, ResourceType};
use crate::http::pagination::PageRequest;
use crate::ids::ClientId;
use crate::routes::utc;

/// A service account as stored. `scopes` is space-separated, or NULL for the role's full set;
/// `secret_hash` is the Argon2id PHC string of the secret, never the secret.
#[derive(Clone, Queryable, Selectable, Insertable, AsChangeset, Identifiable)]
#[diesel(table_name = clients, treat_none_as_null = true, treat_none_as_default_value = false)]
pub struct ClientRow {
    pub id: ClientId,
    #[diesel(skip_update)]
    pub school_id: String,
    pub name: String,
    pub role: ClientRole,
    pub scopes: Option<String>,
    pub secret_hash: String,
    pub created_by: String,
    pub version: i64,
    #[diesel(deserialize_as = crate::db::types::Stamp)]
    #[diesel(skip_update)]
    pub created_at: NaiveDateTime,
    #[diesel(deserialize_as = crate::db::types::Stamp)]
    pub updated_at: NaiveDateTime,
    #[diesel(deserialize_as = crate::db::types::OptStamp)]
    pub revoked_at: Option<NaiveDateTime>,
}

// Written by hand so that the hash never reaches a log line through `{:?}`.
impl std::fmt::Debug for ClientRow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientRow")
            .field("id", &self.id)
            .field("school_id", &self.school_id)
            .field("name", &self.name)
            .field("role", &self.role)
            .field("scopes", &self.scopes)
            .field("revoked_at", &self.revoked_at)
            .finish_non_exhaustive()
    }
}

impl Record for ClientRow {
    const TYPE: ResourceType = ResourceType::Clients;
    stored_in!(clients);

    fn record_id(&self) -> String {
        self.id.to_string()
    }
    fn version(&self) -> i64 {
        self.version
    }
    fn bump(&mut self, now: NaiveDateTime) {
        self.version += 1;
        self.updated_at = now;
    }
}

/// Revoking is the archive of a service account: the row stays, named by the audit log and
/// the change feed, and gets no more tokens.
impl Archivable for ClientRow {
    fn set_archived(&mut self, now: NaiveDateTime) {
        self.revoked_at = Some(now);
    }
}

impl ClientRow {
    /// A new account at version 1 with the hash of its secret.
    pub fn new(
        school: &str,
        name: String,
        role: ClientRole,
        scopes: Option<Scopes>,
        secret_hash: String,
        created_by: &str,
        now: NaiveDateTime,
    ) -> ClientRow {
        ClientRow {
            id: ClientId::new(),
            school_id: school.to_string(),
            name,
            role,
            scopes: scopes.map(Scopes::to_claim),
            secret_hash,
            created_by: created_by.to_string(),
            version: 1,
            created_at: now,
            updated_at: now,
            revoked_at: None,
        }
    }

    /// The role its tokens carry.
    pub fn role(&self) -> Role {
        self.role.role()
    }

    /// The scopes its tokens may carry: those chosen, within the role's set.
    pub fn scopes(&self) -> Scopes {
        let role = self.role().scopes();
        match &self.scopes {
            Some(claim) => Scopes::parse_claim(claim).intersect(role),
            None => role,
        }
    }

    fn scope_names(&self) -> Vec<String> {
        self.scopes()
            .iter()
            .map(|s| s.as_str().to_string())
            .collect()
    }

    /// The wire form (without the secret).
    pub fn view(&self) -> Client {
        Client {
            id: self.id.uuid(),
            name: self.name.clone(),
            role: self.role,
            scopes: self.scope_names(),
            created_by: self.created_by.clone(),
            created_at: utc(self.created_at),
            revoked_at: self.revoked_at.map(utc),
            version: self.version,
        }
    }

    /// The wire form of a new account, with its secret (shown this once).
    pub fn created(&self, secret: String) -> ClientCreated {
        let c = self.view();
        ClientCreated {
            id: c.id,
            client_secret: secret,
            name: c.name,
            role: c.role,
            scopes: c.scopes,
            created_by: c.created_by,
            created_at: c.created_at,
            revoked_at: c.revoked_at,
            version: c.version,
        }
    }
}

/// Checks the scopes asked for an account of `role`: every name must be a scope, and within
/// what the role may ever have (DESIGN.md's table). `Err` lists each refused name with its
/// index and whether it is unknown (`unknown_scope`) or beyond the role (`outside_role`).
pub fn chosen_scopes(role: Role, names: &[String]) -> Result<Scopes, Vec<(usize, &'static str)>> {
    let mut refused = Vec::new();
    let mut chosen = Vec::new();
    for (i, name) in names.iter().enumerate() {
        match Scope::parse(name) {
            None => refused.push((i, "unknown_scope")),
            Some(s) if !role.scopes().contains(s) => refused.push((i, "outside_role")),
            Some(s) => chosen.push(s),
        }
    }
    if refused.is_empty() {
        Ok(Scopes::from_iter(chosen))
    } else {
        Err(refused)
    }
}

/// What a new secret starts with, so that secret scanners (and people) can tell one.
pub const SECRET_PREFIX: &str = "lcs_";

/// A new secret: 256 random bits, base64url, after [`SECRET_PREFIX`].
pub fn new_secret() -> Result<String, String> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| format!("no randomness for a client secret: {e}"))?;
    Ok(format!(
        "{SECRET_PREFIX}{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    ))
}

/// The Argon2id PHC string of `secret` (with the crate's default cost: 19 MiB, 2 passes),
/// with a random salt. Slow on purpose: run it off the async workers.
pub fn hash_secret(secret: &str) -> Result<String, String> {
    Argon2::default()
        .hash_password(secret.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| format!("cannot hash a client secret: {e}"))
}

/// Whether `secret` matches the PHC string `hash` (the crate compares in constant time). With
/// no hash (an unknown client), the secret is checked against a hash of a random secret, so
/// that the answer takes as long as a wrong secret's and tells no one which ids exist.
pub fn verify_secret(secret: &str, hash: Option<&str>) -> bool {
    let hash = hash.unwrap_or_else(|| decoy_hash());
    let Ok(parsed) = PasswordHash::new(hash) else {
        return false;
    };
    let matched = Argon2::default()
        .verify_password(secret.as_bytes(), &parsed)
        .is_ok();
    matched && hash != decoy_hash()
}

/// The hash an unknown client's secret is checked against: of a random secret no one knows,
/// made once per process with the same cost as a real one.
fn decoy_hash() -> &'static str {
    static DECOY: OnceLock<String> = OnceLock::new();
    DECOY.get_or_init(|| {
        new_secret()
            .and_then(|s| hash_secret(&s))
            .unwrap_or_default()
    })
}

/// The account with this id, of any school (the token endpoint learns the school from it).
pub fn find_any(conn: &mut DbConnection, id: ClientId) -> QueryResult<Option<ClientRow>> {
    native!(conn, |c| clients::table
        .filter(clients::id.eq(id))
        .select(ClientRow::as_select())
        .first(c)
        .optional())
}

/// The account with this id in `school`.
pub fn find(conn: &mut DbConnection, school: &str, id: ClientId) -> QueryResult<ClientRow> {
    native!(conn, |c| clients::table
        .filter(clients::school_id.eq(school))
        .filter(clients::id.eq(id))
        .select(ClientRow::as_select())
        .first(c))
}

/// A page of a school's accounts (every school's when `school` is `None`: the CLI's view), in
/// creation order.
pub fn list(
    conn: &mut DbConnection,
    school: Option<&str>,
    revoked: Option<bool>,
    page: &PageRequest,
) -> QueryResult<Vec<ClientRow>> {
    native!(conn, |c| {
        let mut q = clients::table.into_boxed();
        if let Some(school) = school {
            q = q.filter(clients::school_id.eq(school.to_string()));
        }
        match revoked {
            Some(true) => q = q.filter(clients::revoked_at.is_not_null()),
            Some(false) => q = q.filter(clients::revoked_at.is_null()),
            None => {}
        }
        if let Some(after) = &page.after {
            q = q.filter(clients::id.gt(after.clone()));
        }
        q.order(clients::id.asc())
            .limit(page.fetch())
            .select(ClientRow::as_select())
            .load(c)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_secret_verifies_only_against_its_own_hash() {
        let secret = new_secret().unwrap();
        assert!(secret.starts_with(SECRET_PREFIX) && secret.len() == 4 + 43);
        let hash = hash_secret(&secret).unwrap();
        assert!(hash.starts_with("$argon2id$"), "{hash}");
        assert!(!hash.contains(&secret[4..]));
        assert!(verify_secret(&secret, Some(&hash)));
        assert!(!verify_secret("lcs_wrong", Some(&hash)));
        assert!(!verify_secret(&secret, None));
        assert!(!verify_secret(&secret, Some("not a phc string")));
    }

    #[test]
    fn scopes_are_bounded_by_the_role() {
        let names = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let ok = chosen_scopes(
            Role::Integration,
            &names(&["families:read", "changes:read"]),
        );
        assert_eq!(ok.unwrap().to_claim(), "families:read changes:read");
        let refused = chosen_scopes(
            Role::Integration,
            &names(&["families:read", "audit:read", "nope"]),
        );
        assert_eq!(
            refused.unwrap_err(),
            vec![(1, "outside_role"), (2, "unknown_scope")]
        );
    }
}
