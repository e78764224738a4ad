//! `update-member`: see `orgs_functions::handlers::members::update_member`.
orgs_functions::lambda_main!(orgs_functions::handlers::members::update_member);
