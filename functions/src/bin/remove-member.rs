//! `remove-member`: see `orgs_functions::handlers::members::remove_member`.
orgs_functions::lambda_main!(orgs_functions::handlers::members::remove_member);
