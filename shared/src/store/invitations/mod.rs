//! Invitations: their items (the invitation, its pending marker, its token, the day's email
//! counter), sending them, reading them, and every way one ends.

mod delivery;
mod endings;
mod expiry;
mod invitation;
mod mail_counter;
mod reads;
mod sending;
mod token;

pub use delivery::Recorded;
pub use endings::Joiner;
pub(super) use endings::{joined_change, put_member};
pub use expiry::{DueCursor, DuePage, Expiry, expiry_shards};
pub(super) use mail_counter::{EmailCounter, FirstDayEmailCounter, PersonEmailCounter};
pub use reads::TokenMatch;
pub use sending::NewInvitation;
#[cfg(feature = "fixtures")]
pub(super) use sending::pending_invitation_items;
pub(super) use token::TokenRecord;
