//! `delete-team`: see `orgs_functions::handlers::teams::delete_team`.
orgs_functions::lambda_main!(orgs_functions::handlers::teams::delete_team);
