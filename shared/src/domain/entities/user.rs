//! A person's profile.

use crate::domain::{Timestamp, UserId};

/// A person's profile, under their identity provider's `sub`.
#[derive(Clone, Debug, PartialEq)]
pub struct User {
    pub user_id: UserId,
    pub email: Option<String>,
    pub email_verified: bool,
    pub handle: Option<String>,
    pub display_name: Option<String>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}
