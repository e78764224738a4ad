//! Integration tests: every route through HTTP, the local API Gateway adapter, the handlers and
//! the AWS SDK, against moto.

mod abuse_limits;
mod addresses;
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
mod delivery;
mod event_refusals;
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
mod operations;
mod orgs;
mod races;
mod reply_to;
mod round_trips;
mod teams;
mod token_claims;
mod tokens;
mod user_ids;
