//! Who may do what. Pure rules (the permission each route needs, what each role grants, how
//! grants resolve on a project, what a business viewer may query) and the credentials that
//! prove who a caller is (password hashes, session tokens, gateway JWTs). The HTTP layer asks
//! here; nothing here knows about HTTP.

mod error;
mod jwt;
mod password;
mod permission;
mod tokens;

pub use error::AccessError;
pub use jwt::{GatewayIdentity, JwkSource, JwtOptions, JwtVerifier, RoleMapping};
pub use password::{PasswordHash, hash_password, verify_password};
pub use permission::{Permission, business_query_allowed, resolve_role, role_allows};
pub use tokens::{SessionToken, constant_time_eq, csrf_token, sha256_hex};
