//! Integration tests: every route through HTTP, the local API Gateway adapter, the handlers and
//! the AWS SDK, against moto.

mod audit;
mod authz;
mod browser;
mod budgets;
mod bus;
mod common;
mod conflicts;
mod contention;
mod contract;
mod cors;
mod deletion;
mod domains;
mod events;
mod expiry;
mod faults;
mod invitation_links;
mod invitations;
mod limits;
mod logs;
mod me;
mod members;
mod metadata;
mod openapi;
mod orgs;
mod races;
mod round_trips;
mod teams;
mod token_claims;
mod tokens;
mod user_ids;
