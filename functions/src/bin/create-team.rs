//! `create-team`: see `orgs_functions::handlers::teams::create_team`.
orgs_functions::lambda_main!(orgs_functions::handlers::teams::create_team);
