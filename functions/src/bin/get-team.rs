//! `get-team`: see `orgs_functions::handlers::teams::get_team`.
orgs_functions::lambda_main!(orgs_functions::handlers::teams::get_team);
