//! What every function shares at the HTTP edge: the caller from the verified claims, JSON
//! bodies, pagination, and the one place errors become problem+json answers.

pub mod body;
pub mod budget;
pub mod claims;
pub mod idempotency;
pub mod pagination;
pub mod problem;
pub mod response;
pub mod strict;

pub use body::{Patch, json_body, optional_json_body, present, present_integer};
pub use budget::{answer_in_time, budget_of};
pub use claims::{Caller, caller};
pub use idempotency::{answer_at_commit, answer_once};
pub use pagination::{PageRequest, encode_cursor};
pub use problem::ApiError;
pub use response::{created, embedded_problem, json, no_content, request_id, respond};
