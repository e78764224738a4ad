//! One module per resource; one public function per operation.

pub mod audit;
pub mod domains;
pub mod in_time;
pub mod invitations;
pub mod invitee;
pub mod join_requests;
pub mod joining;
pub mod me;
pub mod members;
pub mod metadata;
pub mod orgs;
pub mod permissions;
pub mod roles;
pub mod sso;
pub mod teams;
