//! `get-member`: see `orgs_functions::handlers::members::get_member`.
orgs_functions::lambda_main!(orgs_functions::handlers::members::get_member);
